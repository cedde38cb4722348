package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.Prompt;
import dev.distill4j.core.SampleKey;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One id names one prompt: {@code distill harvest} on prompt files that repeat ids, as a user runs it. */
class HarvestDuplicateIdsCliTest {
    private static final String KEY = "sk-test-dupes";
    private static final Map<String, String> ENV = Map.of("OPENAI_API_KEY", KEY);

    @TempDir Path tmp;
    OpenAiStub stub;
    Path prompts;
    Path run;
    int logs;

    @BeforeEach
    void setUp() throws IOException {
        stub = OpenAiStub.start().requireApiKey(KEY).models("teacher-large");
        prompts = tmp.resolve("prompts.jsonl");
        run = tmp.resolve("run");
    }

    @AfterEach
    void tearDown() {
        stub.close();
    }

    private DistillProcess.Result harvest(String... extra) throws Exception {
        List<String> a = new ArrayList<>(List.of("harvest", "--run", run.toString(), "--prompts", prompts.toString(),
                "--base-url", stub.baseUrl(), "--model", "teacher-large", "--max-tokens", "8", "--concurrency", "4",
                "--quiet"));
        a.addAll(List.of(extra));
        return DistillProcess.run(ENV, tmp.resolve("logs-" + (logs++)), a.toArray(String[]::new));
    }

    private static List<String> lines(String output) {
        return output.lines().filter(l -> !l.isBlank()).toList();
    }

    @Test
    void anIdReusedForAnotherPromptIsRefusedBeforeAnythingIsSentOrStored() throws Exception {
        Files.write(prompts, List.of(
                "{\"id\": \"q0\", \"prompt\": \"What is 1 plus 1?\"}",
                "{\"id\": \"q1\", \"prompt\": \"What is 2 plus 2?\"}",
                "{\"id\": \"q2\", \"prompt\": \"What is 3 plus 3?\"}",
                "",
                "{\"id\": \"q1\", \"prompt\": \"What is 4 plus 4?\"}"));
        var r = harvest();
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(lines(r.stderr())).as(r.toString()).containsExactly("distill harvest: error: " + prompts
                + ": lines 2 and 5 both have id \"q1\" with different prompts; a run keeps one prompt per id, so give "
                + "them distinct ids (or delete one line). Nothing was harvested.");
        assertThat(r.stdout()).isEmpty();
        assertThat(stub.requestCount()).isZero();
        assertThat(run).as("a refused file leaves no run folder behind").doesNotExist();

        var dry = harvest("--dry-run");
        assertThat(dry.exitCode()).as(dry.toString()).isEqualTo(1);
        assertThat(lines(dry.stderr())).singleElement().asString().contains("lines 2 and 5 both have id \"q1\"");
    }

    @Test
    void aConflictAddedToAFileOfAnExistingRunLeavesTheStoreAsItWas() throws Exception {
        Files.write(prompts, List.of(
                "{\"id\": \"q0\", \"prompt\": \"What is 1 plus 1?\"}",
                "{\"id\": \"q1\", \"prompt\": \"What is 2 plus 2?\"}"));
        assertThat(harvest().exitCode()).isZero();
        assertThat(stub.requestCount()).isEqualTo(2);

        Files.write(prompts, List.of(
                "{\"id\": \"q0\", \"prompt\": \"What is 1 plus 1?\"}",
                "{\"id\": \"q1\", \"prompt\": \"What is 2 plus 2?\"}",
                "{\"id\": \"q2\", \"prompt\": \"What is 3 plus 3?\"}",
                "{\"id\": \"q0\", \"messages\": [{\"role\": \"user\", \"content\": \"What is 9 plus 9?\"}]}"));
        var r = harvest();
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(lines(r.stderr())).singleElement().asString()
                .contains("lines 1 and 4 both have id \"q0\" with different prompts").doesNotContain("\tat ");
        assertThat(stub.requestCount()).as("no request for q2 or the second q0").isEqualTo(2);
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.promptCount()).isEqualTo(2);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(2);
            assertThat(store.count(SampleStatus.PENDING)).isZero();
            assertThat(store.prompt("q0")).get().extracting(Prompt::text).isEqualTo("What is 1 plus 1?");
        }
    }

    @Test
    void exactDuplicateLinesAreAskedOnceAndAnnouncedInOneLine() throws Exception {
        String a = "{\"id\": \"a\", \"prompt\": \"Name a prime.\", \"metadata\": {\"answer\": 2, \"level\": 1}}";
        String b = "{\"id\": \"b\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, "
                + "{\"role\": \"user\", \"content\": \"Spell 7\"}]}";
        Files.write(prompts, List.of(a, b,
                "{\"id\": \"c\", \"prompt\": \"Name a colour.\"}",
                a,
                "{\"metadata\": {\"level\": 1, \"answer\": 2}, \"prompt\": \"Name a prime.\", \"id\": \"a\"}",
                b));
        var r = harvest("--samples-per-prompt", "2");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(lines(r.stderr())).containsExactly("note: " + prompts
                + ": 3 duplicate lines skipped (same id and content): lines 4, 5, 6");
        assertThat(r.stdout()).contains("3 read").contains("6 answered now");
        assertThat(stub.requestCount()).as("each distinct prompt once per sample index").isEqualTo(6);
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.promptCount()).isEqualTo(3);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(6);
        }

        var again = harvest("--samples-per-prompt", "2");
        assertThat(again.exitCode()).isZero();
        assertThat(again.stdout()).contains("0 answered now").contains("6 already stored");
        assertThat(stub.requestCount()).isEqualTo(6);

        var dry = harvest("--dry-run", "--samples-per-prompt", "2");
        assertThat(dry.exitCode()).as(dry.toString()).isZero();
        assertThat(dry.stdout()).contains("prompts        3 (0 malformed lines)")
                .contains("samples        6, of which 6 already stored, 0 to request");
        assertThat(lines(dry.stderr())).singleElement().asString().contains("3 duplicate lines skipped");
    }

    @Test
    void linesWithoutIdsKeepTheirContentIdsAndCannotCollideWithWrittenOnes() throws Exception {
        String derived = SampleKey.promptId(new Prompt("?", "Why is the sky blue?", null, null, null, 0));
        Files.write(prompts, List.of(
                "{\"prompt\": \"Why is the sky blue?\"}",
                "{\"id\": \"sky\", \"prompt\": \"Why is the sky blue?\"}",
                "{\"prompt\": \"Why is grass green?\"}",
                "{\"prompt\": \"Why is the sky blue?\"}"));
        var r = harvest();
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(lines(r.stderr())).containsExactly("note: " + prompts
                + ": 1 duplicate line skipped (same id and content): line 4");
        assertThat(stub.requestCount()).as("a written id is its own prompt, even with the same text").isEqualTo(3);
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.promptCount()).isEqualTo(3);
            assertThat(store.prompt(derived)).get().extracting(Prompt::line).isEqualTo(1L);
            assertThat(store.prompt("sky")).isPresent();
        }

        // an id copied from elsewhere that equals line 1's content id, on another prompt
        Files.write(prompts, List.of(
                "{\"prompt\": \"Why is the sky blue?\"}",
                "{\"id\": \"" + derived + "\", \"prompt\": \"Why is the sea blue?\"}"));
        var clash = harvest();
        assertThat(clash.exitCode()).as(clash.toString()).isEqualTo(1);
        assertThat(lines(clash.stderr())).singleElement().asString().isEqualTo("distill harvest: error: " + prompts
                + ": lines 1 and 2 both have id \"" + derived + "\" (line 1 has no \"id\", so its id comes from its "
                + "prompt text) with different prompts; a run keeps one prompt per id, so give them distinct ids (or "
                + "delete one line). Nothing was harvested.");
        assertThat(stub.requestCount()).isEqualTo(3);
    }

    @Test
    void aRerunThatRewordsAStoredIdIsRefusedUntilTheLineGetsANewId() throws Exception {
        Files.write(prompts, List.of(
                "{\"id\": \"q0\", \"prompt\": \"What is 1 plus 1?\"}",
                "{\"id\": \"q1\", \"prompt\": \"What is 2 plus 2?\"}"));
        assertThat(harvest().exitCode()).isZero();
        assertThat(stub.requestCount()).isEqualTo(2);

        Files.write(prompts, List.of(
                "{\"id\": \"q0\", \"prompt\": \"What is 1 plus 1?\"}",
                "{\"id\": \"q2\", \"prompt\": \"What is 3 plus 3?\"}",
                "{\"id\": \"q1\", \"prompt\": \"What is 2 plus 2, in words?\"}"));
        var r = harvest();
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(lines(r.stderr())).containsExactly("distill harvest: error: " + prompts + ": line 3 has id \"q1\", "
                + "which this run already holds for a different prompt (stored from " + prompts + " line 2); a run "
                + "keeps one prompt per id, so give the line a new id, or harvest into a new --run. Nothing was "
                + "harvested.");
        assertThat(stub.requestCount()).as("nothing asked, not even the new q2").isEqualTo(2);
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.promptCount()).isEqualTo(2);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(2);
            assertThat(store.count(SampleStatus.PENDING)).isZero();
        }

        Files.write(prompts, List.of(
                "{\"id\": \"q0\", \"prompt\": \"What is 1 plus 1?\"}",
                "{\"id\": \"q2\", \"prompt\": \"What is 3 plus 3?\"}",
                "{\"id\": \"q1-words\", \"prompt\": \"What is 2 plus 2, in words?\"}"));
        var renamed = harvest();
        assertThat(renamed.exitCode()).as(renamed.toString()).isZero();
        assertThat(renamed.stdout()).contains("2 answered now").contains("1 already stored");
    }
}
