package dev.distill4j.model.generate;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextStreamTest {
    /** Feeds byte tokens one at a time as Generator does: decode all so far, take the safe delta. */
    private static List<String> deltas(List<byte[]> tokens, List<String> stops) {
        TextStream s = new TextStream(stops);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            bytes.writeBytes(tokens.get(i));
            String decoded = bytes.toString(StandardCharsets.UTF_8);
            int cut = s.stopAt(decoded);
            if (cut >= 0) {
                out.add(s.last(decoded.substring(0, cut)));
                return out;
            }
            out.add(i == tokens.size() - 1 ? s.last(decoded) : s.partial(decoded));
        }
        return out;
    }

    private static List<byte[]> bytewise(String text) {
        List<byte[]> out = new ArrayList<>();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) out.add(new byte[] {b});
        return out;
    }

    @Test
    void multiByteCharactersWaitForTheirLastByte() {
        // 日 is 3 bytes, 😀 4 bytes (a surrogate pair in Java)
        List<String> d = deltas(bytewise("a日b😀"), List.of());
        assertThat(d).containsExactly("a", "", "", "日", "b", "", "", "", "😀");
        // a token holding the end of one character and the start of another
        byte[] ri = "日本".getBytes(StandardCharsets.UTF_8);
        List<byte[]> tokens = List.of(new byte[] {ri[0], ri[1]}, new byte[] {ri[2], ri[3]}, new byte[] {ri[4], ri[5]});
        assertThat(deltas(tokens, List.of())).containsExactly("", "日", "本");
    }

    @Test
    void textThatMayBeginAStopStringIsHeldBack() {
        List<String> d = deltas(bytewise("hello END"), List.of("ENDX", "lo W"));
        // "l" could begin "lo W": held until "ll" shows the first is not; "lo", "lo " held; "E", "EN" could begin
        // "ENDX"; the last token flushes
        assertThat(d).containsExactly("h", "e", "", "l", "", "", "lo ", "", "END");
        assertThat(String.join("", d)).isEqualTo("hello END");

        List<String> stopped = deltas(bytewise("say STOP now"), List.of("STOP"));
        assertThat(String.join("", stopped)).isEqualTo("say ");
        assertThat(stopped.getLast()).isEmpty();    // "say " went out before "S" arrived
        assertThat(stopped).hasSize("say STOP".length());
    }

    @Test
    void aFalseStartIsReleasedWhenItStopsMatching() {
        List<String> d = deltas(bytewise("abab!"), List.of("abc"));
        assertThat(d).containsExactly("", "", "ab", "", "ab!");
    }
}
