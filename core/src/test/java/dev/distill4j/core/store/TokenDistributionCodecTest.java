package dev.distill4j.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenDistributionCodecTest {

    private static TokenDistribution roundTrip(TokenDistribution d) {
        return TokenDistributionCodec.decode(TokenDistributionCodec.encode(d));
    }

    @Test
    void emptyDistributionRoundTrips() {
        byte[] blob = TokenDistributionCodec.encode(TokenDistribution.EMPTY);
        assertThat(blob).hasSize(5);
        assertThat(TokenDistributionCodec.decode(blob)).isEqualTo(TokenDistribution.EMPTY);
    }

    @Test
    void chosenAmongAlternativesAndChosenOutsideRoundTrip() {
        TokenLogprob hello = TokenLogprob.of("Hello", -0.01);
        TokenLogprob hi = TokenLogprob.of("Hi", -4.6);
        TokenLogprob rare = TokenLogprob.of(" rare", -12.5);
        TokenDistribution d = new TokenDistribution(List.of(
                TokenPosition.of(hello, List.of(hello, hi)),
                TokenPosition.of(rare, List.of(hello, hi)),
                new TokenPosition(TokenLogprob.of("x", -1), List.of(), 0.25f)));
        TokenDistribution back = roundTrip(d);
        assertThat(back).isEqualTo(d);
        assertThat(back.positions().get(1).tail()).isEqualTo(d.positions().get(1).tail());
    }

    @Test
    void invalidUtf8BytesAndStringsThatDifferFromTheirBytesRoundTrip() {
        // OpenAI reports half a UTF-8 character as the display string "bytes:\xe2\x80" with bytes [226, 128]
        TokenLogprob half = new TokenLogprob("bytes:\\xe2\\x80", new byte[] {(byte) 226, (byte) 128}, -0.5f);
        TokenLogprob replacement = new TokenLogprob("\ufffd", new byte[] {(byte) 0x9d}, -2f);
        TokenLogprob loneSurrogate = new TokenLogprob("\ud83d", new byte[] {(byte) 0xf0, (byte) 0x9f}, -3f);
        TokenLogprob emoji = TokenLogprob.of("😀 ü", -0.75);
        TokenLogprob empty = new TokenLogprob("", new byte[0], -9f);
        TokenDistribution d = new TokenDistribution(List.of(
                TokenPosition.of(half, List.of(half, replacement, loneSurrogate, emoji, empty)),
                TokenPosition.of(loneSurrogate, List.of(emoji))));
        TokenDistribution back = roundTrip(d);
        assertThat(back).isEqualTo(d);
        assertThat(back.positions().get(0).chosen().bytes()).containsExactly(226, 128);
        assertThat(back.positions().get(0).chosen().token()).isEqualTo("bytes:\\xe2\\x80");
        assertThat(back.positions().get(1).chosen().token()).isEqualTo("\ud83d");
    }

    @Test
    void repeatedTokensAreStoredOnceAndKeepTheirOwnLogprobs() {
        TokenLogprob half = new TokenLogprob("bytes:\\xe2\\x80", new byte[] {(byte) 226, (byte) 128}, -0.5f);
        TokenLogprob the = TokenLogprob.of(" the", -0.1);
        List<TokenPosition> positions = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            TokenLogprob t = TokenLogprob.of(" the", -i / 10.0);
            TokenLogprob h = new TokenLogprob(half.token(), half.bytes(), -i);
            positions.add(TokenPosition.of(i % 2 == 0 ? t : the, List.of(t, h)));
        }
        TokenDistribution d = new TokenDistribution(positions);
        byte[] blob = TokenDistributionCodec.encode(d);
        assertThat(TokenDistributionCodec.decode(blob)).isEqualTo(d);
        // after the first position each token is a one-byte reference and a float: ~ 6 + 2 * 5 bytes a position
        assertThat(blob.length).isLessThan(100 * 20);
    }

    @Test
    void specialFloatsRoundTripExactly() {
        TokenLogprob t = new TokenLogprob("a", null, Float.NEGATIVE_INFINITY);
        TokenLogprob u = new TokenLogprob("b", null, -Float.MIN_VALUE);
        TokenDistribution d = new TokenDistribution(List.of(new TokenPosition(t, List.of(t, u), 0f)));
        assertThat(roundTrip(d)).isEqualTo(d);
    }

    @Test
    void twentyAlternativesTimesThousandPositionsIsFarSmallerThanJson() {
        TokenDistribution d = synthetic(1000, 20, new Random(7));
        byte[] blob = TokenDistributionCodec.encode(d);
        assertThat(TokenDistributionCodec.decode(blob)).isEqualTo(d);

        int json = asOpenAiJson(d).getBytes(StandardCharsets.UTF_8).length;
        double ratio = (double) json / blob.length;
        System.out.printf("codec: 1000 positions x 20 alternatives: %,d bytes vs %,d bytes of JSON (%.1fx smaller)%n",
                blob.length, json, ratio);
        assertThat(ratio).as("JSON %d bytes / blob %d bytes", json, blob.length).isGreaterThan(4.0);
        // 20 alternatives of ~5 token bytes + 1 header + 4 logprob, chosen by reference, 4 bytes of tail
        assertThat(blob.length).isLessThan(1000 * (20 * 11 + 8));
    }

    @Test
    void truncatedBlobsFailWithAClearMessageAtEveryCut() {
        byte[] blob = TokenDistributionCodec.encode(synthetic(3, 4, new Random(1)));
        for (int cut = 0; cut < blob.length; cut++) {
            byte[] part = Arrays.copyOf(blob, cut);
            assertThatThrownBy(() -> TokenDistributionCodec.decode(part))
                    .as("cut at %d", cut)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageMatching("(corrupt token distribution blob|not a token distribution blob).*");
        }
    }

    @Test
    void corruptBlobsFailWithAClearMessage() {
        assertThatThrownBy(() -> TokenDistributionCodec.decode("{\"tokens\":[]}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad magic");
        assertThatThrownBy(() -> TokenDistributionCodec.decode(new byte[] {'D', '4', 'T', 9, 0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("version 9");
        byte[] trailing = Arrays.copyOf(TokenDistributionCodec.encode(TokenDistribution.EMPTY), 7);
        assertThatThrownBy(() -> TokenDistributionCodec.decode(trailing))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 trailing bytes");
        // a position count of 2^31-1 must be refused before anything is allocated for it
        byte[] huge = {'D', '4', 'T', 1, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
        assertThatThrownBy(() -> TokenDistributionCodec.decode(huge))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot fit");

        byte[] badReference = {'D', '4', 'T', 1, 1, 0, 0, 5 << 2 | 3, 0, 0, 0, 0, 0, 0, 0, 0};
        assertThatThrownBy(() -> TokenDistributionCodec.decode(badReference))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("distinct token 5 of 0");

        Random random = new Random(3);
        for (int i = 0; i < 200; i++) {
            byte[] noise = new byte[1 + random.nextInt(64)];
            random.nextBytes(noise);
            noise[0] = 'D';
            if (noise.length > 2) { noise[1] = '4'; noise[2] = 'T'; }
            if (noise.length > 3) noise[3] = 1;
            try {
                TokenDistributionCodec.decode(noise);
            } catch (IllegalArgumentException expected) {
                assertThat(expected.getMessage()).contains("token distribution blob");
            }
        }
    }

    static TokenDistribution synthetic(int positions, int k, Random random) {
        String[] vocab = new String[500];
        for (int i = 0; i < vocab.length; i++) {
            StringBuilder sb = new StringBuilder(random.nextBoolean() ? " " : "");
            int len = 1 + random.nextInt(6);
            for (int j = 0; j < len; j++) sb.append((char) ('a' + random.nextInt(26)));
            vocab[i] = sb.toString();
        }
        List<TokenPosition> list = new ArrayList<>(positions);
        for (int p = 0; p < positions; p++) {
            List<TokenLogprob> alternatives = new ArrayList<>(k);
            double lp = -random.nextDouble() * 0.5;
            for (int j = 0; j < k; j++) {
                alternatives.add(TokenLogprob.of(vocab[random.nextInt(vocab.length)], lp));
                lp -= random.nextDouble() * 2;
            }
            list.add(TokenPosition.of(alternatives.get(0), alternatives));
        }
        return new TokenDistribution(list);
    }

    /** The distribution in the shape of OpenAI's chat logprobs, which a naive store would keep as is. */
    private static String asOpenAiJson(TokenDistribution d) {
        ArrayNode content = Json.array();
        ObjectNode root = Json.object();
        root.set("content", content);
        for (TokenPosition p : d.positions()) {
            ObjectNode pos = tokenJson(p.chosen());
            ArrayNode top = pos.putArray("top_logprobs");
            for (TokenLogprob a : p.alternatives()) top.add(tokenJson(a));
            content.add(pos);
        }
        return Json.write(root);
    }

    private static ObjectNode tokenJson(TokenLogprob t) {
        ObjectNode n = Json.object().put("token", t.token()).put("logprob", (double) t.logprob());
        ArrayNode bytes = n.putArray("bytes");
        for (byte b : t.bytes()) bytes.add(b & 0xff);
        return n;
    }
}
