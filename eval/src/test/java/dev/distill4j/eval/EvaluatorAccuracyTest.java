package dev.distill4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.Usage;
import dev.distill4j.core.store.RunStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task accuracy through the whole evaluator, on stored teacher answers whose grades are known by construction: a
 * broken answer rule (case folded, "the last number anywhere", no number-by-value) changes the teacher's counts, and
 * the per-kind counts and Wilson intervals are checked exactly. The student is a tiny random model, which never
 * writes an {@code Answer:} line, so its accuracy is exactly zero.
 */
class EvaluatorAccuracyTest {
    @TempDir Path tmp;

    /** id, kind, reference, the teacher's stored answer, whether that answer is right. */
    private record Case(String id, String kind, String reference, String teacher, boolean right) {}

    private static final List<Case> CASES = List.of(
            new Case("a1", "arithmetic", "4", "Step 1: 2 + 2 = 4.\nAnswer: 4", true),
            new Case("a2", "arithmetic", "4", "Step 1: 2 + 2 = 4.\nAnswer: 4.0", true),             // by value
            new Case("a3", "arithmetic", "1200", "Answer: 1,200", true),
            new Case("a4", "arithmetic", "7", "3 + 4 = 7, and that is it.", false),                // no marker
            new Case("a5", "arithmetic", "5", "Answer: 12 apples, not 5", false),                  // not a number
            new Case("s1", "string", "TAMO", "Step 1: ...\nAnswer: TAMO", true),
            new Case("s2", "string", "TAMO", "Step 1: ...\nAnswer: tamo", false),                  // case kept
            new Case("s3", "string", "ponikin", "Answer: 'ponikin'.", true),
            new Case("d1", "date", "2035-03-16", "Step 2: 44 - 28 = 16.\nAnswer: 2035-03-16", true),
            new Case("d2", "date", "2035-03-16", "Answer: 2035-03-17", false),
            new Case("n1", null, "9", "Answer: 9", true));                                         // no kind

    @Test
    void countsEveryPromptByTheOneRuleOverallAndPerKind() throws Exception {
        Path run = tmp.resolve("run");
        Path prompts = tmp.resolve("prompts.jsonl");
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Fixtures.student(run.resolve("student"), 11, manager);
        }
        new RunManifest("corpus", null, "gold", "chat", null, Capability.TEXT.toString(), Json.object(),
                "prompts.jsonl", "0".repeat(64), "test", Instant.now(), Instant.now()).write(run);
        List<String> lines = new ArrayList<>();
        try (RunStore store = RunStore.open(run)) {
            List<Prompt> ps = new ArrayList<>();
            List<Sample> samples = new ArrayList<>();
            for (Case c : CASES) {
                ObjectNode meta = Json.object().put("answer", c.reference());
                if (c.kind() != null) meta.put("kind", c.kind());
                ps.add(new Prompt(c.id(), "Question " + c.id(), null, meta, "prompts.jsonl", ps.size() + 1));
                Instant now = Instant.now();
                samples.add(new Sample("key-" + c.id(), c.id(), 0, SampleStatus.DONE, c.teacher(), "stop",
                        Capability.TEXT, null, new Usage(5, 5), 0, 10, null, null, null, 1, now, now));
                lines.add(Json.write(Json.object().put("id", c.id()).put("prompt", "Question " + c.id())));
            }
            store.putPrompts(ps);
            store.upsertSamples(samples);
        }
        Files.write(prompts, lines);

        Scorecard card = Evaluator.builder().setRun(run).optPrompts(prompts).optMaxNewTokens(8).build().run();

        var acc = card.taskAccuracy();
        int right = (int) CASES.stream().filter(Case::right).count();
        assertThat(acc.prompts()).isEqualTo(CASES.size());
        assertThat(acc.teacher()).isEqualTo((double) right / CASES.size());          // 7 of 11
        assertThat(acc.student()).isZero();
        Wilson w = Wilson.of(right, CASES.size());
        assertThat(acc.teacherCi95()).containsExactly(w.low(), w.high());
        assertThat(acc.groupKey()).isEqualTo("metadata.kind");
        // groups in name order; the prompt without a kind counts overall only
        assertThat(acc.groups()).extracting(Scorecard.GroupAccuracy::group)
                .containsExactly("arithmetic", "date", "string");
        var arithmetic = acc.groups().get(0);
        assertThat(arithmetic.prompts()).isEqualTo(5);
        assertThat(arithmetic.teacherCorrect()).isEqualTo(3);
        assertThat(arithmetic.teacher()).isCloseTo(0.6, within(1e-12));
        assertThat(arithmetic.teacherCi95()[0]).isCloseTo(Wilson.of(3, 5).low(), within(1e-12));
        assertThat(acc.groups().get(1).teacherCorrect()).isEqualTo(1);
        assertThat(acc.groups().get(2).teacherCorrect()).isEqualTo(2);
        assertThat(acc.groups()).allSatisfy(g -> assertThat(g.studentCorrect()).isZero());
        // the per-prompt results say the same
        assertThat(card.prompts()).filteredOn(r -> Boolean.TRUE.equals(r.teacherCorrect()))
                .extracting(Scorecard.PromptResult::promptId)
                .containsExactlyInAnyOrderElementsOf(CASES.stream().filter(Case::right).map(Case::id).toList());
        assertThat(Files.readString(run.resolve("eval/report.html"))).contains("Task accuracy by metadata.kind")
                .contains("60.0 % [");
    }
}
