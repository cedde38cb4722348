package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.teacher.stub.OpenAiStub;
import dev.distill4j.teacher.stub.RecordedRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The resumability promise, with a real process and a real SIGKILL: kill {@code distill harvest} mid-run, re-run the
 * same command, and every prompt ends with exactly its samples while no sample stored before the kill is asked again.
 */
class KillResumeTest {
    private static final int PROMPTS = 300;
    private static final int SAMPLES = 2;

    @TempDir Path tmp;

    @Test
    void sigkillThenResumeLosesNothingAndRepeatsNothingStored() throws Exception {
        Path prompts = tmp.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) lines.add("{\"id\": \"p" + i + "\", \"prompt\": \"Tell me about " + i + "\"}");
        Files.write(prompts, lines);
        Path run = tmp.resolve("run");
        Map<String, String> env = Map.of("OPENAI_API_KEY", "sk-kill");

        try (OpenAiStub stub = OpenAiStub.start().requireApiKey("sk-kill").latency(Duration.ofMillis(15))) {
            String[] args = {"harvest", "--run", run.toString(), "--prompts", prompts.toString(), "--model", "m",
                    "--top-logprobs", "3", "--max-tokens", "16", "--samples-per-prompt", String.valueOf(SAMPLES),
                    "--concurrency", "8", "--quiet", "--base-url", stub.baseUrl()};
            Process first = DistillProcess.start(env, tmp.resolve("logs-1"), args);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (stub.answeredCount() < 150 && first.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(first.isAlive()).as("the first harvest must still be running when killed").isTrue();
            first.destroyForcibly(); // SIGKILL on Linux
            assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(first.exitValue()).isEqualTo(137);

            Set<String> storedBeforeKill = new HashSet<>();
            try (RunStore store = RunStore.openExisting(run)) {
                store.forEachSample(SampleStatus.DONE, (p, s) -> storedBeforeKill.add(s.key()));
            }
            assertThat(storedBeforeKill).as("some samples were stored before the kill").isNotEmpty();
            assertThat(storedBeforeKill.size()).isLessThan(PROMPTS * SAMPLES);
            int requestsBeforeResume = stub.requests().size();

            var second = DistillProcess.run(env, tmp.resolve("logs-2"), args);
            assertThat(second.exitCode()).as(second.toString()).isZero();

            List<RecordedRequest> afterResume = stub.requests().subList(requestsBeforeResume, stub.requests().size());
            assertThat(afterResume).isNotEmpty();
            for (RecordedRequest r : afterResume) {
                assertThat(storedBeforeKill).as("a sample stored before the kill was requested again")
                        .doesNotContain(r.clientRequestId());
            }
            Map<String, List<Integer>> byPrompt = new HashMap<>();
            try (RunStore store = RunStore.openExisting(run)) {
                assertThat(store.count(SampleStatus.DONE)).isEqualTo(PROMPTS * SAMPLES);
                assertThat(store.count(SampleStatus.PENDING)).isZero();
                assertThat(store.count(SampleStatus.FAILED)).isZero();
                store.forEachSample(null, (p, s) -> byPrompt.computeIfAbsent(p.id(), k -> new ArrayList<>())
                        .add(s.sampleIndex()));
                for (String key : storedBeforeKill) {
                    Sample s = store.sample(key).orElseThrow();
                    assertThat(s.status()).isEqualTo(SampleStatus.DONE);
                    assertThat(s.tokens().size()).isPositive();
                }
            }
            assertThat(byPrompt).hasSize(PROMPTS);
            byPrompt.values().forEach(ix -> assertThat(ix).containsExactlyInAnyOrder(0, 1));
        }
    }

    /**
     * Issue 12's scenario: a teacher that cuts 6 % of its answers short once (a 200 whose JSON ends halfway), a
     * harvest SIGKILLed mid-run and re-run with the same command. Every cut answer is asked again within
     * {@code --max-attempts}, so the run ends with all 600 samples done and none failed.
     */
    @Test
    void answersCutShortOnceAreAskedAgainAcrossAKill() throws Exception {
        Path prompts = tmp.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) lines.add("{\"id\": \"p" + i + "\", \"prompt\": \"Tell me about " + i + "\"}");
        Files.write(prompts, lines);
        Path run = tmp.resolve("run");
        Map<String, String> env = Map.of("OPENAI_API_KEY", "sk-kill");
        Set<String> cut = java.util.concurrent.ConcurrentHashMap.newKeySet();
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey("sk-kill").latency(Duration.ofMillis(15))) {
            stub.onRequest(r -> Math.floorMod(r.clientRequestId().hashCode(), 100) < 6 && cut.add(r.clientRequestId())
                    ? dev.distill4j.teacher.stub.Fault.malformedJson() : null);
            String[] args = {"harvest", "--run", run.toString(), "--prompts", prompts.toString(), "--model", "m",
                    "--top-logprobs", "3", "--max-tokens", "16", "--samples-per-prompt", String.valueOf(SAMPLES),
                    "--concurrency", "8", "--quiet", "--base-url", stub.baseUrl()};
            Process first = DistillProcess.start(env, tmp.resolve("logs-1"), args);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (stub.answeredCount() < 200 && first.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(first.isAlive()).as("the first harvest must still be running when killed").isTrue();
            first.destroyForcibly();
            assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
            int cutBeforeKill = cut.size();
            assertThat(cutBeforeKill).as("some answers were cut before the kill").isPositive();

            var second = DistillProcess.run(env, tmp.resolve("logs-2"), args);
            assertThat(second.exitCode()).as(second.toString()).isZero();
            assertThat(cut.size()).as("about 6 %% of 600 samples were cut once").isBetween(15, 60);
            try (RunStore store = RunStore.openExisting(run)) {
                assertThat(store.count(SampleStatus.FAILED)).as(second.stdout()).isZero();
                assertThat(store.count(SampleStatus.PENDING)).isZero();
                assertThat(store.count(SampleStatus.DONE)).isEqualTo(PROMPTS * SAMPLES);
                List<Sample> cutSamples = new ArrayList<>();
                for (String key : cut) cutSamples.add(store.sample(key).orElseThrow());
                assertThat(cutSamples).allSatisfy(s -> assertThat(s.status()).isEqualTo(SampleStatus.DONE));
                // a cut that the kill interrupted is asked again by the re-run; the others within their own run
                assertThat(cutSamples).as("asked again in the run that saw the cut")
                        .anySatisfy(s -> assertThat(s.attempts()).isGreaterThanOrEqualTo(2));
            }
        }
    }
}
