package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill prompts generate} as a user runs it: a child process against an OpenAI-format stub that writes
 * numbered prompt lists; the output is then harvested as an ordinary prompt file.
 */
class PromptsCliTest {
    private static final String KEY = "sk-test-prompts";
    private static final Map<String, String> ENV = Map.of("OPENAI_API_KEY", KEY);
    private static final List<String> TASKS = List.of("Explain how tides work.", "Write a sonnet about rust.",
            "What is 17 times 23? Show your steps.", "Give three tips for learning to juggle.",
            "Compare TCP and UDP in a short table.", "Summarise the causes of inflation.",
            "Draft a thank-you note to a mentor.", "Why is the ocean salty?", "Name five uses of baking soda.",
            "Describe how a bill becomes law in Canada.", "Write a regex that matches ISO dates.",
            "Plan a vegetable garden for a small balcony.");

    @TempDir Path tmp;
    OpenAiStub stub;
    int logs;

    @BeforeEach
    void setUp() {
        stub = OpenAiStub.start().requireApiKey(KEY).models("writer").writer(request -> {
            int h = request.hashCode() & 0x7fffffff;
            StringBuilder b = new StringBuilder("Sure! Here are new prompts:\n");
            for (int i = 0; i < 5; i++) b.append(i + 1).append(". ").append(TASKS.get((h + 5 * i) % TASKS.size())).append('\n');
            return b.toString();
        });
    }

    @AfterEach
    void tearDown() {
        stub.close();
    }

    private DistillProcess.Result distill(String... args) throws Exception {
        return DistillProcess.run(ENV, tmp.resolve("logs-" + (logs++)), args);
    }

    @Test
    void writesAPromptFileHarvestReadsAndResumesWithoutAskingAgain() throws Exception {
        Path seeds = tmp.resolve("seeds.jsonl");
        Files.write(seeds, List.of("{\"id\": \"s1\", \"prompt\": \"What is the boiling point of water?\"}",
                "{\"id\": \"s2\", \"prompt\": \"Write a short poem about winter.\"}",
                "{\"id\": \"s3\", \"messages\": [{\"role\": \"user\", \"content\": \"Translate 'hello' to French.\"}]}"));
        Path out = tmp.resolve("synthetic.jsonl");
        String[] args = {"prompts", "generate", "--seed-prompts", seeds.toString(), "--n", "8", "--out",
                out.toString(), "--base-url", stub.baseUrl(), "--model", "writer", "--topic", "science",
                "--round-size", "3", "--price-in", "1", "--price-out", "2", "--quiet"};
        var r = distill(args);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("prompts done: 8 of 8 written to").contains("mean pairwise cosine")
                .contains("distinct-2").contains("rejected");
        assertThat(Files.readAllLines(out)).hasSize(8);
        JsonNode report = Json.parse(Files.readString(tmp.resolve("synthetic.jsonl.report.json")));
        assertThat(report.get("synthetic").get("count").asInt()).isEqualTo(8);
        assertThat(report.get("seeds").get("count").asInt()).isEqualTo(3);
        assertThat(report.get("by_topic").get("science").asInt()).isEqualTo(8);
        assertThat(report.get("spent_usd").asDouble()).isPositive();
        assertThat(stub.lastRequest().json().get("messages").get(0).get("content").asText())
                .contains("Example 1:").contains("about this topic: science");

        long asked = stub.requestCount();
        var again = distill(args);
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(stub.requestCount()).as("a rerun asks nothing again").isEqualTo(asked);

        // the output is an ordinary prompt file
        var h = distill("harvest", "--run", tmp.resolve("run").toString(), "--prompts", out.toString(),
                "--base-url", stub.baseUrl(), "--model", "writer", "--max-tokens", "16", "--quiet");
        assertThat(h.exitCode()).as(h.toString()).isZero();
        assertThat(h.stdout()).contains("8 answered now");
    }

    @Test
    void aMissingKeyOrSeedFileIsAClearError() throws Exception {
        var r = DistillProcess.run(Map.of(), tmp.resolve("logs-x"), "prompts", "generate", "--seed-prompts",
                tmp.resolve("nope.jsonl").toString(), "--n", "3", "--out", tmp.resolve("o.jsonl").toString(),
                "--model", "writer");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("no seed prompt file at");
        Path seeds = tmp.resolve("seeds.jsonl");
        Files.writeString(seeds, "{\"prompt\": \"Say hi.\"}\n");
        var k = DistillProcess.run(Map.of(), tmp.resolve("logs-y"), "prompts", "generate", "--seed-prompts",
                seeds.toString(), "--n", "3", "--out", tmp.resolve("o.jsonl").toString(), "--model", "writer");
        assertThat(k.exitCode()).isNotZero();
        assertThat(k.stderr()).contains("no API key: set OPENAI_API_KEY");
    }
}
