package dev.distill4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.SampleKey;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptReaderTest {
    @TempDir Path dir;

    private List<PromptReader.Entry> readAll(Path file) throws IOException {
        List<PromptReader.Entry> out = new ArrayList<>();
        try (PromptReader reader = PromptReader.open(file)) {
            reader.forEachRemaining(out::add);
        }
        return out;
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private static Prompt ok(PromptReader.Entry e) {
        assertThat(e).isInstanceOf(PromptReader.Ok.class);
        return ((PromptReader.Ok) e).prompt();
    }

    private static PromptReader.Malformed bad(PromptReader.Entry e) {
        assertThat(e).isInstanceOf(PromptReader.Malformed.class);
        return (PromptReader.Malformed) e;
    }

    @Test
    void jsonlPromptsAndChats() throws IOException {
        Path f = write("p.jsonl", """
                {"prompt": "Hello", "id": "a", "metadata": {"lang": "en"}}

                {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "2+2?"}], "id": 7}
                {"messages": [{"role": "developer", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "tool", "content": "t"}]}
                   \t
                {"prompt": "no id"}
                """);
        List<PromptReader.Entry> entries = readAll(f);
        assertThat(entries).hasSize(4);

        Prompt a = ok(entries.get(0));
        assertThat(a.id()).isEqualTo("a");
        assertThat(a.text()).isEqualTo("Hello");
        assertThat(a.isChat()).isFalse();
        assertThat(a.metadata().get("lang").asText()).isEqualTo("en");
        assertThat(a.source()).isEqualTo(f.toString());
        assertThat(a.line()).isEqualTo(1);

        Prompt chat = ok(entries.get(1));
        assertThat(chat.id()).isEqualTo("7");
        assertThat(chat.messages()).containsExactly(Message.system("be brief"), Message.user("2+2?"));
        assertThat(chat.line()).isEqualTo(3);
        assertThat(chat.metadata()).isEmpty();

        Prompt parts = ok(entries.get(2));
        assertThat(parts.messages().getFirst()).isEqualTo(new Message("developer", "one\ntwo"));
        assertThat(parts.messages()).extracting(Message::role).containsExactly("developer", "user", "assistant", "tool");
        assertThat(parts.id()).isEqualTo(SampleKey.promptId(parts));

        Prompt noId = ok(entries.get(3));
        assertThat(noId.line()).isEqualTo(6);
        assertThat(noId.id()).startsWith("p-").isEqualTo(SampleKey.promptId(new Prompt("x", "no id", null, null, null, 0)));
    }

    @Test
    void contentHashIdsAreStableAcrossReads() throws IOException {
        Path f = write("p.jsonl", "{\"prompt\": \"same\"}\n{\"prompt\": \"other\"}\n");
        String first = ok(readAll(f).get(0)).id();
        assertThat(ok(readAll(f).get(0)).id()).isEqualTo(first);
        assertThat(ok(readAll(f).get(1)).id()).isNotEqualTo(first);
    }

    @Test
    void everyMalformedLineSaysWhereAndWhy() throws IOException {
        Path f = write("bad.jsonl", String.join("\n",
                "{\"prompt\": \"fine\"}",
                "{\"prompt\": \"unterminated}",
                "[1, 2]",
                "{\"prompt\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"y\"}]}",
                "{\"id\": \"only\"}",
                "{\"messages\": []}",
                "{\"messages\": [{\"role\": \"bot\", \"content\": \"hi\"}]}",
                "{\"prompt\": \"x\", \"metadata\": [1]}",
                "{\"prompt\": 42}",
                "{\"prompt\": \"x\", \"id\": true}",
                "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {}}]}]}",
                "{\"messages\": [{\"role\": \"assistant\", \"content\": null}]}",
                "{\"prompt\": \"a\"} {\"prompt\": \"b\"}",
                "{\"prompt\": \"a\", \"prompt\": \"b\"}",
                "{\"prompt\": \"   \"}",
                "{\"messages\": \"hi\"}",
                "{\"prompt\": \"last\"}"));
        List<PromptReader.Entry> entries = readAll(f);
        assertThat(entries).hasSize(17);
        assertThat(ok(entries.get(0)).text()).isEqualTo("fine");
        assertThat(ok(entries.get(16)).line()).isEqualTo(17);

        List<String> expected = List.of(
                "invalid JSON",
                "expected a JSON object like {\"prompt\": \"...\"}, got an array",
                "has both \"prompt\" and \"messages\"",
                "has neither \"prompt\" nor \"messages\"",
                "\"messages\" is empty",
                "messages[0].role 'bot' is not one of system, user, assistant, developer, tool",
                "\"metadata\" must be a JSON object, got an array",
                "\"prompt\" must be a string, got a number",
                "\"id\" must be a string or a number, got a boolean",
                "messages[0].content[0] is a 'image_url' part; only text parts are supported",
                "messages[0] has no \"content\"",
                "unexpected text after the JSON object",
                "Duplicate field 'prompt'",
                "\"prompt\" is empty",
                "\"messages\" must be an array, got a string");
        for (int i = 0; i < expected.size(); i++) {
            PromptReader.Malformed m = bad(entries.get(i + 1));
            assertThat(m.line()).as("line of entry %d", i + 1).isEqualTo(i + 2);
            assertThat(m.file()).isEqualTo(f.toString());
            assertThat(m.reason()).as("line %d", i + 2).contains(expected.get(i));
            assertThat(m.toString()).startsWith(f + ":" + (i + 2) + ": ");
        }
    }

    @Test
    void aJsonArrayFileIsExplained() throws IOException {
        Path f = write("array.json", "[\n  {\"prompt\": \"a\"},\n  {\"prompt\": \"b\"}\n]\n");
        List<PromptReader.Entry> entries = readAll(f);
        assertThat(bad(entries.getFirst()).reason()).contains("JSON Lines, one object per line, not a JSON array");
        assertThat(bad(entries.getFirst()).line()).isEqualTo(1);
    }

    @Test
    void bomCrlfAndInvalidUtf8() throws IOException {
        Path f = dir.resolve("win.jsonl");
        try (OutputStream out = Files.newOutputStream(f)) {
            out.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
            out.write("{\"prompt\": \"é first\"}\r\n\r\n".getBytes(StandardCharsets.UTF_8));
            out.write(new byte[] {'{', '"', 'p', '"', ':', '"', (byte) 0xC3, '"', '}', '\r', '\n'});
            out.write("{\"prompt\": \"third\\r\\n\"}\r\n".getBytes(StandardCharsets.UTF_8));
        }
        List<PromptReader.Entry> entries = readAll(f);
        assertThat(entries).hasSize(3);
        assertThat(ok(entries.get(0)).text()).isEqualTo("é first");
        assertThat(bad(entries.get(1)).line()).isEqualTo(3);
        assertThat(bad(entries.get(1)).reason()).contains("UTF-8");
        assertThat(ok(entries.get(2)).text()).isEqualTo("third\r\n");
        assertThat(ok(entries.get(2)).line()).isEqualTo(4);
    }

    @Test
    void longLinesAndAFinalLineWithoutNewline() throws IOException {
        String big = "x".repeat(300_000);
        Path f = write("long.json", "{\"prompt\": \"" + big + "\"}\n{\"prompt\": \"end\"}");
        List<PromptReader.Entry> entries = readAll(f);
        assertThat(ok(entries.get(0)).text()).isEqualTo(big);
        assertThat(ok(entries.get(1)).text()).isEqualTo("end");
        assertThat(ok(entries.get(1)).line()).isEqualTo(2);
    }

    @Test
    void csvWithQuotingEmbeddedNewlinesAndMetadata() throws IOException {
        Path f = dir.resolve("p.csv");
        Files.write(f, concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, (
                "id,Prompt,system,topic,level\r\n"
                + "a,\"Say \"\"hi\"\"\",,greeting,1\r\n"
                + ",\"two\r\nlines, with comma\",Be terse.,misc,2\r\n"
                + "\r\n"
                + "c,,,x,3\r\n"
                + "d,too,many,fields,4,5\r\n"
                + "e,last,,end,9").getBytes(StandardCharsets.UTF_8)));
        List<PromptReader.Entry> entries = readAll(f);
        assertThat(entries).hasSize(5);

        Prompt a = ok(entries.get(0));
        assertThat(a.id()).isEqualTo("a");
        assertThat(a.text()).isEqualTo("Say \"hi\"");
        assertThat(a.line()).isEqualTo(2);
        assertThat(a.metadata().get("topic").asText()).isEqualTo("greeting");
        assertThat(a.metadata().get("level").asText()).isEqualTo("1");
        assertThat(a.metadata().has("id")).isFalse();

        Prompt b = ok(entries.get(1));
        assertThat(b.messages()).containsExactly(Message.system("Be terse."), Message.user("two\r\nlines, with comma"));
        assertThat(b.id()).isEqualTo(SampleKey.promptId(b));
        assertThat(b.line()).isEqualTo(3);

        PromptReader.Malformed empty = bad(entries.get(2));
        assertThat(empty.line()).isEqualTo(6);
        assertThat(empty.reason()).contains("'prompt' field is empty");
        PromptReader.Malformed wide = bad(entries.get(3));
        assertThat(wide.line()).isEqualTo(7);
        assertThat(wide.reason()).isEqualTo("has 6 fields but the header has 5");

        Prompt e = ok(entries.get(4));
        assertThat(e.line()).isEqualTo(8);
        assertThat(e.text()).isEqualTo("last");
    }

    @Test
    void csvWithABrokenQuoteStopsWithAMalformedEntry() throws IOException {
        Path f = write("q.csv", "prompt\nfine\n\"never closed\nmore\n");
        List<PromptReader.Entry> entries = readAll(f);
        assertThat(entries).hasSize(2);
        assertThat(ok(entries.get(0)).text()).isEqualTo("fine");
        assertThat(bad(entries.get(1)).line()).isEqualTo(3);
        assertThat(bad(entries.get(1)).reason()).contains("unreadable CSV");
    }

    @Test
    void csvLargerThanTheDecodeBuffersKeepsMultiByteCharacters() throws IOException {
        StringBuilder sb = new StringBuilder("id,prompt\n");
        for (int i = 0; i < 20_000; i++) sb.append(i).append(",\"é😀 ").append(i).append("\"\n");
        Path f = write("big.csv", sb.toString());
        List<PromptReader.Entry> entries = readAll(f);
        assertThat(entries).hasSize(20_000);
        for (int i = 0; i < entries.size(); i++) {
            Prompt p = ok(entries.get(i));
            assertThat(p.text()).isEqualTo("é😀 " + i);
            assertThat(p.line()).isEqualTo(i + 2);
        }
    }

    @Test
    void csvThatIsNotUtf8StopsWithAMalformedEntry() throws IOException {
        Path f = dir.resolve("latin1.csv");
        StringBuilder sb = new StringBuilder("prompt\n");
        for (int i = 0; i < 20; i++) sb.append("fine ").append(i).append('\n');
        Files.write(f, concat(sb.toString().getBytes(StandardCharsets.UTF_8),
                new byte[] {'c', 'a', 'f', (byte) 0xE9, '\n', 'x', '\n'}));
        List<PromptReader.Entry> entries = readAll(f);
        assertThat(entries).last().isInstanceOf(PromptReader.Malformed.class);
        PromptReader.Malformed m = bad(entries.getLast());
        assertThat(m.reason()).contains("UTF-8");
        assertThat(m.line()).isEqualTo(22);
        assertThat(entries).hasSize(21);
        assertThat(entries.subList(0, 20)).allMatch(e -> e instanceof PromptReader.Ok);

        Path badHeader = Files.write(dir.resolve("h.csv"), new byte[] {'p', (byte) 0xFF, '\n', 'x', '\n'});
        assertThatThrownBy(() -> PromptReader.open(badHeader)).isInstanceOf(IOException.class)
                .hasMessage(badHeader + " is not valid UTF-8 text: save it as UTF-8");
    }

    @Test
    void csvWithoutAPromptColumnOrHeaderIsRefused() throws IOException {
        Path noPrompt = write("n.csv", "id,question\n1,what\n");
        assertThatThrownBy(() -> PromptReader.open(noPrompt))
                .isInstanceOf(IOException.class)
                .hasMessage(noPrompt + " has no 'prompt' column in its header row (columns: id, question)");
        Path empty = write("e.csv", "");
        assertThatThrownBy(() -> PromptReader.open(empty)).isInstanceOf(IOException.class).hasMessageContaining("empty");
        Path dup = write("d.csv", "prompt,prompt\na,b\n");
        assertThatThrownBy(() -> PromptReader.open(dup)).isInstanceOf(IOException.class).hasMessageContaining("header");
    }

    @Test
    void unknownExtensionsAndMissingFilesAreRefused() throws IOException {
        Path txt = write("p.txt", "hello\n");
        assertThatThrownBy(() -> PromptReader.open(txt)).isInstanceOf(IOException.class)
                .hasMessageContaining("use a .jsonl file").hasMessageContaining(".csv");
        assertThatThrownBy(() -> PromptReader.open(dir.resolve("none.jsonl"))).isInstanceOf(IOException.class)
                .hasMessageContaining("none.jsonl");
    }

    @Test
    void sha256StreamsTheFileBytes() throws Exception {
        byte[] content = "x".repeat(200_000).getBytes(StandardCharsets.UTF_8);
        Path f = Files.write(dir.resolve("h.jsonl"), content);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        assertThat(PromptReader.sha256(f)).isEqualTo(expected);
    }

    @Test
    void aMillionLineFileStreams() throws IOException {
        Path f = dir.resolve("million.jsonl");
        try (var out = Files.newBufferedWriter(f)) {
            for (int i = 0; i < 1_000_000; i++) out.write("{\"prompt\": \"question " + i + "\", \"id\": " + i + "}\n");
        }
        long count = 0;
        long lastLine = 0;
        try (PromptReader reader = PromptReader.open(f)) {
            while (reader.hasNext()) {
                Prompt p = ok(reader.next());
                count++;
                lastLine = p.line();
            }
        }
        assertThat(count).isEqualTo(1_000_000);
        assertThat(lastLine).isEqualTo(1_000_000);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
