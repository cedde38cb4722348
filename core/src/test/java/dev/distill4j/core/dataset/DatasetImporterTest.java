package dev.distill4j.core.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.export.Exporter;
import dev.distill4j.core.store.RunStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetImporterTest {
    @TempDir Path tmp;

    record Row(Prompt prompt, Sample sample) {}

    private static List<Row> rows(Path run) throws Exception {
        List<Row> out = new ArrayList<>();
        try (RunStore s = RunStore.openExisting(run)) {
            s.forEachSample(SampleStatus.DONE, (p, x) -> out.add(new Row(p, x)));
        }
        return out;
    }

    @Test
    void openAiChatTakesTheLastAssistantMessageAsTheAnswerAndKeepsEarlierTurns() throws Exception {
        Path f = tmp.resolve("ft.jsonl");
        Files.write(f, List.of(
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Be terse.\"}, {\"role\": \"user\", \"content\": \"2+2?\"}, {\"role\": \"assistant\", \"content\": \"4\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello!\"}, {\"role\": \"user\", \"content\": \"Bye\"}, {\"role\": \"assistant\", \"content\": [{\"type\": \"text\", \"text\": \"Good\"}, {\"type\": \"text\", \"text\": \"bye\"}]}]}",
                "",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"no answer\"}]}",
                "not json"));
        Path run = tmp.resolve("gold");
        var r = DatasetImporter.importFile(f, DatasetImporter.Format.OPENAI_CHAT, run, "support-gold", false);
        assertEquals(2, r.examples());
        assertEquals(2, r.added());
        assertEquals(2, r.skipped());
        assertTrue(r.malformed().get(0).endsWith("ft.jsonl:4: the last message is not the assistant's answer"),
                r.malformed().toString());
        assertTrue(r.malformed().get(1).contains("ft.jsonl:5: not JSON"), r.malformed().toString());
        List<Row> rows = rows(run);
        assertEquals(List.of(Message.system("Be terse."), Message.user("2+2?")), rows.get(0).prompt().messages());
        assertEquals("4", rows.get(0).sample().text());
        assertEquals(List.of(Message.user("Hi"), Message.assistant("Hello!"), Message.user("Bye")),
                rows.get(1).prompt().messages());
        assertEquals("Goodbye", rows.get(1).sample().text());
        RunManifest m = RunManifest.read(run);
        assertEquals("dataset", m.provider());
        assertEquals("support-gold", m.model());
        assertEquals("TEXT", m.capability());
        assertEquals("openai-chat", m.provenance().get("format").asText());
        assertEquals(r.sha256(), m.provenance().get("sha256").asText());
        assertEquals(64, r.sha256().length());

        var again = DatasetImporter.importFile(f, DatasetImporter.Format.OPENAI_CHAT, run, "support-gold", false);
        assertEquals(0, again.added(), "importing the same file again adds nothing");
        assertEquals(2, rows(run).size());
    }

    @Test
    void anExportedRunImportsBackWithItsIdsAndMetadata() throws Exception {
        Path src = tmp.resolve("src");
        Path f = tmp.resolve("gold.jsonl");
        Files.write(f, List.of("{\"messages\": [{\"role\": \"user\", \"content\": \"Capital of Peru?\"}, {\"role\": \"assistant\", \"content\": \"Lima\"}], \"id\": \"q7\", \"metadata\": {\"answer\": \"Lima\"}}"));
        DatasetImporter.importFile(f, DatasetImporter.Format.HF_MESSAGES, src, "geo", false);
        Path exported = tmp.resolve("exported.jsonl");
        try (RunStore s = RunStore.openExisting(src)) {
            Exporter.export(s, Exporter.Format.HF_MESSAGES, exported, null);
        }
        Path back = tmp.resolve("back");
        DatasetImporter.importFile(exported, DatasetImporter.Format.HF_MESSAGES, back, "geo", false);
        Row a = rows(src).getFirst(), b = rows(back).getFirst();
        assertEquals("q7", b.prompt().id());
        assertEquals(a.prompt().messages(), b.prompt().messages());
        assertEquals("Lima", b.prompt().metadata().get("answer").asText());
        assertEquals(a.sample().key(), b.sample().key(), "the same example gets the same content key");
    }

    @Test
    void shareGptConversationsAreRead() throws Exception {
        Path f = tmp.resolve("sharegpt.jsonl");
        Files.writeString(f, "{\"conversations\": [{\"from\": \"system\", \"value\": \"S\"}, {\"from\": \"human\", \"value\": \"Q\"}, {\"from\": \"gpt\", \"value\": \"A\"}]}\n");
        DatasetImporter.importFile(f, DatasetImporter.Format.HF_MESSAGES, tmp.resolve("r"), "sg", false);
        Row row = rows(tmp.resolve("r")).getFirst();
        assertEquals(List.of(Message.system("S"), Message.user("Q")), row.prompt().messages());
        assertEquals("A", row.sample().text());
    }

    @Test
    void alpacaReadsAJsonArrayOrJsonlAndJoinsInstructionAndInput() throws Exception {
        Path array = tmp.resolve("alpaca_data.json");
        Files.writeString(array, """
                [
                  {"instruction": "Give three tips for staying healthy.", "input": "", "output": "Eat well."},
                  {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"},
                  {"instruction": "", "input": "", "output": "orphan"}
                ]
                """);
        var r = DatasetImporter.importFile(array, DatasetImporter.Format.ALPACA, tmp.resolve("a"), "alpaca", false);
        assertEquals(2, r.added());
        assertEquals(1, r.skipped());
        assertTrue(r.malformed().getFirst().contains("alpaca_data.json:4: no \"instruction\""), r.malformed().toString());
        List<Row> rows = rows(tmp.resolve("a"));
        assertEquals(List.of(Message.user("Give three tips for staying healthy.")), rows.get(0).prompt().messages());
        assertEquals(List.of(Message.user("Translate to French.\n\nGood morning")), rows.get(1).prompt().messages());
        assertEquals("Bonjour", rows.get(1).sample().text());

        Path jsonl = tmp.resolve("alpaca.jsonl");
        Files.writeString(jsonl, "{\"instruction\": \"Translate to French.\", \"input\": \"Good morning\", \"output\": \"Bonjour\"}\n");
        DatasetImporter.importFile(jsonl, DatasetImporter.Format.ALPACA, tmp.resolve("b"), "alpaca", false);
        assertEquals(rows.get(1).sample().key(), rows(tmp.resolve("b")).getFirst().sample().key());
    }

    @Test
    void csvNeedsPromptAndAnAnswerColumnAndKeepsSeveralAnswersPerPrompt() throws Exception {
        Path f = tmp.resolve("qa.csv");
        Files.writeString(f, "id,system,prompt,answer\nq1,,\"What is 2+2?\",4\nq1,,\"What is 2+2?\",four\nq2,Be kind.,\"Hi, there\",\"Hello, you\"\nq3,,,empty\n");
        var r = DatasetImporter.importFile(f, DatasetImporter.Format.CSV, tmp.resolve("c"), "qa", false);
        assertEquals(3, r.added());
        assertEquals(1, r.skipped());
        List<Row> rows = rows(tmp.resolve("c"));
        assertEquals("q1", rows.get(0).prompt().id());
        assertEquals(List.of(0, 1), List.of(rows.get(0).sample().sampleIndex(), rows.get(1).sample().sampleIndex()));
        assertEquals(List.of("4", "four"), List.of(rows.get(0).sample().text(), rows.get(1).sample().text()));
        assertEquals(List.of(Message.system("Be kind."), Message.user("Hi, there")), rows.get(2).prompt().messages());

        Path bad = tmp.resolve("bad.csv");
        Files.writeString(bad, "question,reply\nx,y\n");
        var e = assertThrows(InvalidInputException.class,
                () -> DatasetImporter.importFile(bad, DatasetImporter.Format.CSV, tmp.resolve("d"), "qa", false));
        assertTrue(e.getMessage().contains("needs a 'prompt' column"), e.getMessage());
    }

    @Test
    void strictStoresNothingOfAFileWithABadLineAndAHarvestedRunIsRefused() throws Exception {
        Path f = tmp.resolve("mixed.jsonl");
        Files.write(f, List.of("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}", "{broken"));
        var e = assertThrows(InvalidInputException.class,
                () -> DatasetImporter.importFile(f, DatasetImporter.Format.OPENAI_CHAT, tmp.resolve("s"), "x", true));
        assertTrue(e.getMessage().contains("mixed.jsonl:2: not JSON"), e.getMessage());
        assertTrue(!Files.exists(tmp.resolve("s").resolve(RunStore.FILE)), "nothing stored");

        Path harvested = tmp.resolve("h");
        Files.createDirectories(harvested);
        new RunManifest("openai", null, "gpt-4o", "chat", "OPENAI_API_KEY", "TEXT", null, "p.jsonl", "00",
                "0", java.time.Instant.now(), java.time.Instant.now()).write(harvested);
        var refused = assertThrows(InvalidInputException.class,
                () -> DatasetImporter.importFile(f, DatasetImporter.Format.OPENAI_CHAT, harvested, "x", false));
        assertTrue(refused.getMessage().contains("holds samples of openai/gpt-4o; import the data set into a run of its own"),
                refused.getMessage());
    }

    @Test
    void theManifestOfAHarvestedRunReadsBackWithoutProvenance() throws Exception {
        Path run = tmp.resolve("m");
        Files.createDirectories(run);
        new RunManifest("openai", null, "m", "chat", null, "TEXT", null, "p", "h", "v", java.time.Instant.EPOCH,
                java.time.Instant.EPOCH).write(run);
        assertEquals(null, RunManifest.read(run).provenance());
        Files.writeString(run.resolve("run.json"), Files.readString(run.resolve("run.json")).replace("\"provenance\" : null,", "").replace(",\n  \"provenance\" : null", ""));
        assertEquals("m", RunManifest.read(run).model());
        assertEquals(Map.of(), Map.of());
    }
}
