package dev.distill4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Prompt;
import dev.distill4j.core.SampleKey;
import dev.distill4j.core.store.RunStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptDuplicatesTest {
    @TempDir Path dir;

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    /** What {@link PromptReader#openUnique} hands out: prompts, with malformed lines as "bad:LINE". */
    private static List<String> readUnique(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        try (PromptReader r = PromptReader.openUnique(file)) {
            r.forEachRemaining(e -> out.add(switch (e) {
                case PromptReader.Ok(Prompt p) -> p.id() + "@" + p.line();
                case PromptReader.Malformed m -> "bad:" + m.line();
            }));
        }
        return out;
    }

    @Test
    void sameIdDifferentTextIsRefusedNamingTheIdAndBothLines() throws IOException {
        Path f = write("prompts.jsonl", """
                {"id": "q0", "prompt": "first"}
                {"id": "q1", "prompt": "What is 2+2?"}
                {"id": "q2", "prompt": "third"}

                {"id": "q1", "prompt": "What is 3+3?"}
                {"id": "q1", "prompt": "never reached"}
                """);
        assertThatThrownBy(() -> PromptDuplicates.scan(f))
                .isInstanceOf(PromptDuplicates.ConflictingIdException.class)
                .hasMessage(f + ": lines 2 and 5 both have id \"q1\" with different prompts; a run keeps one prompt "
                        + "per id, so give them distinct ids (or delete one line). Nothing was harvested.")
                .satisfies(e -> {
                    var c = (PromptDuplicates.ConflictingIdException) e;
                    assertThat(c.id()).isEqualTo("q1");
                    assertThat(c.firstLine()).isEqualTo(2);
                    assertThat(c.line()).isEqualTo(5);
                });
        assertThatThrownBy(() -> PromptReader.openUnique(f))
                .isInstanceOf(PromptDuplicates.ConflictingIdException.class).hasMessageContaining("lines 2 and 5");
    }

    @Test
    void whatMakesTwoLinesDifferentPrompts() throws IOException {
        // raw text and a chat of the same words are different requests to a completions teacher
        Path textVsChat = write("a.jsonl", """
                {"id": 7, "prompt": "hi"}
                {"id": "7", "messages": [{"role": "user", "content": "hi"}]}
                """);
        assertThatThrownBy(() -> PromptDuplicates.scan(textVsChat)).hasMessageContaining("lines 1 and 2 both have id \"7\" with different prompts");

        Path roles = write("b.jsonl", """
                {"id": "c", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "q"}]}
                {"id": "c", "messages": [{"role": "user", "content": "be brief"}, {"role": "user", "content": "q"}]}
                """);
        assertThatThrownBy(() -> PromptDuplicates.scan(roles)).hasMessageContaining("with different prompts");

        Path metadata = write("c.jsonl", """
                {"id": "m", "prompt": "same", "metadata": {"split": "train"}}
                {"id": "m", "prompt": "same", "metadata": {"split": "test"}}
                """);
        assertThatThrownBy(() -> PromptDuplicates.scan(metadata))
                .hasMessageContaining("lines 1 and 2 both have id \"m\" with the same prompt but different metadata");
    }

    @Test
    void exactDuplicatesAreReadOnceAndListed() throws IOException {
        Path f = write("prompts.jsonl", """
                {"id": "a", "prompt": "alpha", "metadata": {"x": 1, "y": [1, 2]}}
                {"id": "b", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "beta"}]}
                {"id": "a", "prompt": "alpha", "metadata": {"y": [1, 2], "x": 1}}
                not json
                {"id": "b", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "beta"}]}
                {"id": "c", "prompt": "gamma"}
                {"id": "a", "prompt": "alpha", "metadata": {"x": 1, "y": [1, 2]}}
                """);
        PromptDuplicates d = PromptDuplicates.scan(f);
        assertThat(d.count()).isEqualTo(3);
        assertThat(d.lines()).containsExactly(3, 5, 7);
        assertThat(d.notice()).isEqualTo(f + ": 3 duplicate lines skipped (same id and content): lines 3, 5, 7");
        assertThat(readUnique(f)).containsExactly("a@1", "b@2", "bad:4", "c@6");

        try (PromptReader r = PromptReader.openUnique(f)) {
            assertThat(r.duplicates().lines()).containsExactly(3, 5, 7);
        }
        try (PromptReader r = PromptReader.open(f)) {
            assertThat(r.duplicates().count()).as("open() leaves every line in").isZero();
            assertThat(r.duplicates().notice()).isEmpty();
        }
    }

    @Test
    void aLongListOfDuplicatesIsShortened() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 14; i++) sb.append("{\"id\": \"same\", \"prompt\": \"again\"}\n");
        Path f = write("many.jsonl", sb.toString());
        PromptDuplicates d = PromptDuplicates.scan(f);
        assertThat(d.notice()).isEqualTo(f + ": 13 duplicate lines skipped (same id and content): "
                + "lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (3 more)");
        assertThat(readUnique(f)).containsExactly("same@1");

        Path one = write("one.jsonl", "{\"prompt\": \"x\"}\n{\"prompt\": \"x\"}\n");
        assertThat(PromptDuplicates.scan(one).notice()).isEqualTo(one + ": 1 duplicate line skipped (same id and "
                + "content): line 2");
    }

    @Test
    void derivedIdsFollowTheSameRule() throws IOException {
        String derived = SampleKey.promptId(new Prompt("?", "what is an id?", null, null, null, 0));
        // no id twice with the same text: the same derived id and content, so an exact duplicate
        Path same = write("same.jsonl", """
                {"prompt": "what is an id?"}
                {"id": "x", "prompt": "what is an id?"}
                {"prompt": "what is an id?"}
                """);
        assertThat(readUnique(same)).containsExactly(derived + "@1", "x@2");

        // a written id that equals another line's derived id, on a different prompt
        Path clash = write("clash.jsonl", "{\"prompt\": \"what is an id?\"}\n"
                + "{\"id\": \"" + derived + "\", \"prompt\": \"something else\"}\n");
        assertThatThrownBy(() -> PromptDuplicates.scan(clash))
                .isInstanceOf(PromptDuplicates.ConflictingIdException.class)
                .hasMessageContaining("lines 1 and 2 both have id \"" + derived + "\" (line 1 has no \"id\", so its "
                        + "id comes from its prompt text) with different prompts")
                .hasMessageContaining("give them distinct ids");

        // the same text without ids but with different metadata: which metadata would the run keep?
        Path meta = write("meta.jsonl", """
                {"prompt": "what is an id?", "metadata": {"answer": "a"}}
                {"prompt": "what is an id?", "metadata": {"answer": "b"}}
                """);
        assertThatThrownBy(() -> PromptDuplicates.scan(meta)).hasMessageContaining(
                "(neither line has an \"id\", so both ids come from the prompt text) with the same prompt but "
                        + "different metadata");
    }

    @Test
    void csvRecordsUseTheirStartLines() throws IOException {
        Path f = write("p.csv", "id,prompt,topic\n"
                + "a,\"two\nlines\",t\n"
                + ",free,t\n"
                + "a,\"two\nlines\",t\n"
                + ",free,t\n"
                + "a,other,t\n");
        assertThatThrownBy(() -> PromptDuplicates.scan(f))
                .hasMessageStartingWith(f + ": lines 2 and 8 both have id \"a\" with different prompts");

        Path ok = write("ok.csv", "id,prompt\na,\"two\nlines\"\n,free\na,\"two\nlines\"\n,free\n");
        assertThat(PromptDuplicates.scan(ok).lines()).containsExactly(5, 7);
        assertThat(readUnique(ok)).hasSize(2);
    }

    @Test
    void idsAreAlsoCheckedAgainstThePromptsTheRunHolds() throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 600; i++) lines.add("{\"id\": \"q" + i + "\", \"prompt\": \"question " + i + "\"}");
        Path v1 = Files.write(dir.resolve("v1.jsonl"), lines);
        Path runDir = dir.resolve("run");
        try (RunStore run = RunStore.open(runDir); PromptReader r = PromptReader.open(v1)) {
            List<Prompt> all = new ArrayList<>();
            r.forEachRemaining(e -> all.add(((PromptReader.Ok) e).prompt()));
            run.putPrompts(all);
        }
        try (RunStore run = RunStore.openExisting(runDir)) {
            assertThat(PromptDuplicates.scan(v1, run).count()).as("the same file again").isZero();

            // past the first batch of ids looked up in the run
            List<String> edited = new ArrayList<>(lines);
            edited.set(589, "{\"id\": \"q589\", \"prompt\": \"question 589, reworded\"}");
            edited.add("{\"id\": \"new\", \"prompt\": \"a new question\"}");
            Path v2 = Files.write(dir.resolve("v2.jsonl"), edited);
            assertThat(PromptDuplicates.scan(v2).count()).as("fine on its own").isZero();
            assertThatThrownBy(() -> PromptDuplicates.scan(v2, run))
                    .isInstanceOf(PromptDuplicates.ConflictingIdException.class)
                    .hasMessage(v2 + ": line 590 has id \"q589\", which this run already holds for a different prompt "
                            + "(stored from " + v1 + " line 590); a run keeps one prompt per id, so give the line a new "
                            + "id, or harvest into a new --run. Nothing was harvested.");

            Path meta = write("v3.jsonl", "{\"id\": \"q3\", \"prompt\": \"question 3\", \"metadata\": {\"k\": 1}}\n"
                    + "{\"id\": \"q4\", \"prompt\": \"question 4\"}\n{\"id\": \"q4\", \"prompt\": \"question 4\"}\n");
            assertThatThrownBy(() -> PromptDuplicates.scan(meta, run)).hasMessageContaining(
                    "line 1 has id \"q3\", which this run already holds for the same prompt with different metadata");

            Path subset = write("v4.jsonl", "{\"id\": \"q4\", \"prompt\": \"question 4\"}\n"
                    + "{\"id\": \"q4\", \"prompt\": \"question 4\"}\n{\"prompt\": \"question 4\"}\n");
            assertThat(PromptDuplicates.scan(subset, run).lines()).containsExactly(2);
        }
    }
}
