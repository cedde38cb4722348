package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "The budget is never exceeded", held against a teacher whose bill is known exactly: the stub keeps a ledger of the
 * usage of every answer it generated (read by the client or lost on the way), in its own token count (a word per
 * token plus OpenAI's chat framing), which the harvester never sees before the answer. Many requests in flight, a
 * system prompt, prompts of many short words (about two characters per token, where a four-characters-per-token
 * estimate is half the truth), and a budget that must stop the harvest.
 */
class HarvesterBudgetTest {
    private static final double PRICE_IN = 3.0;   // USD per 1 M prompt tokens
    private static final double PRICE_OUT = 12.0;
    private static final int MAX_TOKENS = 8;       // the stub answers 8 tokens: the output bound is exact
    private static final int PROMPTS = 600;
    private static final String SYSTEM = "You are a careful assistant. Add the numbers you are given, show every"
            + " step of the sum, and end with the total on a line of its own.";

    @TempDir Path tmp;

    private static double billedUsd(OpenAiStub stub) {
        return (stub.billedPromptTokens() * PRICE_IN + stub.billedCompletionTokens() * PRICE_OUT) / 1e6;
    }

    private Path prompts() throws Exception {
        Random random = new Random(12);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            StringBuilder p = new StringBuilder("Add");
            for (int w = 0, n = 20 + random.nextInt(40); w < n; w++) p.append(' ').append(random.nextInt(10));
            lines.add("{\"id\": \"p" + i + "\", \"prompt\": \"" + p + "\"}");
        }
        Path file = tmp.resolve("prompts.jsonl");
        Files.write(file, lines);
        return file;
    }

    private Harvester.Result harvest(OpenAiStub stub, Budget budget, Path prompts, Path run, int concurrency)
            throws Exception {
        var sampling = new TeacherSampling(0.7, null, MAX_TOKENS, false, 1L, List.of(), 0, SYSTEM);
        var config = new TeacherConfig("openai", "chat", URI.create(stub.baseUrl()), "gpt-4o-mini", "OPENAI_API_KEY",
                "sk-budget", sampling, Duration.ofSeconds(20), Map.of());
        try (Teacher teacher = Teachers.create(config); RunStore store = RunStore.open(run)) {
            Harvester h = new Harvester(teacher, store, new Harvester.Options(prompts, 1, concurrency, false, true),
                    RateLimiter.unlimited(), budget, new Backoff(Duration.ofMillis(1), 2, Duration.ofMillis(20), 6,
                    new Random(3)));
            return h.run();
        }
    }

    /** What one request of this test can cost at most, as the harvester bounds it. */
    private static double largestWorstCaseUsd() {
        // the longest prompt: "Add" and 59 digits = 121 bytes, the system prompt, framing
        long bound = TokenEstimator.bound(new dev.distill4j.core.Prompt("x", "Add" + " 0".repeat(59), null, null,
                null, 0), SYSTEM, true);
        return (bound * PRICE_IN + MAX_TOKENS * PRICE_OUT) / 1e6;
    }

    @Test
    void aBudgetStopsAConcurrentHarvestWithoutEverBeingExceededAndSpendsItsUsageExactly() throws Exception {
        Path prompts = prompts();
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey("sk-budget").recording(false)
                .latency(Duration.ofMillis(3))) {
            // a probe of one prompt per request gives the whole bill: about $0.0002 per request, ~$0.12 for all
            double limit = 0.05;
            Budget budget = new Budget(PRICE_IN, PRICE_OUT, limit);
            Harvester.Result r = harvest(stub, budget, prompts, tmp.resolve("run"), 64);

            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.BUDGET_REACHED);
            double billed = billedUsd(stub);
            assertThat(billed).as("what the teacher billed").isLessThanOrEqualTo(limit);
            assertThat(budget.spentUsd()).as("settled at the billed usage, answer by answer")
                    .isCloseTo(billed, within(1e-12));
            assertThat(billed).as("the budget is used up to the last request that fits, not given up early")
                    .isGreaterThan(limit - largestWorstCaseUsd());
            assertThat(budget.reservedUsd()).isZero();
            try (RunStore store = RunStore.openExisting(tmp.resolve("run"))) {
                assertThat(store.count(SampleStatus.DONE)).isEqualTo(stub.billedAnswers()).isLessThan(PROMPTS);
                assertThat(store.stats(0).costUsd()).isCloseTo(billed, within(1e-9));
            }
        }
    }

    @Test
    void answersLostAfterTheyWereBilledCountAgainstTheBudget() throws Exception {
        Path prompts = prompts();
        Set<String> faulted = ConcurrentHashMap.newKeySet();
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey("sk-budget").recording(false)
                .latency(Duration.ofMillis(3))) {
            // one request in five loses its answer once: cut-off JSON, or a body shorter than its Content-Length
            stub.onRequest(req -> {
                String key = req.clientRequestId();
                if (Math.floorMod(key.hashCode(), 5) != 0 || !faulted.add(key)) return null;
                return Math.floorMod(key.hashCode(), 2) == 0 ? Fault.malformedJson() : Fault.truncatedBody();
            });
            double limit = 0.05;
            Budget budget = new Budget(PRICE_IN, PRICE_OUT, limit);
            Harvester.Result r = harvest(stub, budget, prompts, tmp.resolve("run"), 64);

            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.BUDGET_REACHED);
            double billed = billedUsd(stub);
            assertThat(stub.billedAnswers()).as("lost answers were billed too").isGreaterThan(stub.answeredCount());
            assertThat(billed).isLessThanOrEqualTo(limit);
            assertThat(budget.spentUsd()).as("never less than the bill: a lost answer counts at its worst case")
                    .isGreaterThanOrEqualTo(billed - 1e-12).isLessThanOrEqualTo(limit);
            assertThat(budget.attemptsAtWorstCase()).isPositive();
            try (RunStore store = RunStore.openExisting(tmp.resolve("run"))) {
                assertThat(store.count(SampleStatus.FAILED)).as("each lost answer was asked again").isZero();
                var stats = store.stats(0);
                double usageUsd = (stats.totalUsage().promptTokens() * PRICE_IN
                        + stats.totalUsage().completionTokens() * PRICE_OUT) / 1e6;
                // a lost answer's cost reaches its sample when the sample is asked again and stored; one whose retry
                // the budget stopped keeps that cost only in the budget (a known gap, docs/teachers.md), so on some
                // schedules every lost answer is of that kind and the store holds exactly the usage cost
                assertThat(stats.costUsd()).as("the stored cost covers the usage and never exceeds the spend")
                        .isGreaterThanOrEqualTo(usageUsd - 1e-12).isLessThanOrEqualTo(budget.spentUsd() + 1e-12);
            }
        }
    }
}
