package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.core.Prompt;
import dev.distill4j.core.io.PromptDuplicates;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dry run counts what the harvest will send and prices it as the budget reserves it. */
class HarvestEstimateTest {
    @TempDir Path tmp;

    @Test void countsTheSystemPromptTheFramingAndEverySampleAndSkipsWhatIsStored() throws Exception {
        Path prompts = tmp.resolve("p.jsonl");
        Files.write(prompts, List.of("{\"id\": \"a\", \"prompt\": \"What is two plus two?\"}",
                "{\"id\": \"b\", \"prompt\": \"What is two plus two?\"}", "not json"));
        String system = "You are terse. Answer in one word.";
        var sampling = new TeacherSampling(null, null, 100, false, null, List.of(), 0, system);
        Budget prices = new Budget(1.0, 2.0, null);
        Prompt text = new Prompt("a", "What is two plus two?", null, null, null, 0);
        long estimate = TokenEstimator.estimate(text, system, true);
        long bound = TokenEstimator.bound(text, system, true);
        try (OpenAiStub stub = OpenAiStub.start();
             Teacher teacher = Teachers.create(Fixtures.openAi(stub.baseUrl(), "chat", "k", sampling))) {
            HarvestEstimate e = HarvestEstimate.of(teacher, prompts, PromptDuplicates.scan(prompts), null, 3, prices,
                    false, false);
            assertThat(e.prompts()).isEqualTo(2);
            assertThat(e.malformed()).isEqualTo(1);
            assertThat(e.samples()).isEqualTo(6);
            assertThat(e.toRequest()).isEqualTo(6);
            assertThat(e.promptTokens()).as("every sample is a request with the whole prompt").isEqualTo(6 * estimate);
            assertThat(e.promptTokenBound()).isEqualTo(6 * bound);
            assertThat(e.maxOutputTokens()).isEqualTo(600);
            assertThat(e.worstCaseUsd()).isCloseTo((6 * bound * 1.0 + 600 * 2.0) / 1e6, within(1e-12));
            assertThat(e.expectedUsd()).isCloseTo((6 * estimate * 1.0 + 600 * 2.0) / 1e6, within(1e-12));
            assertThat(stub.requestCount()).isZero();

            // one run harvested with one sample per prompt: those two are not asked again
            Path run = tmp.resolve("run");
            try (RunStore store = RunStore.open(run)) {
                new Harvester(teacher, store, new Harvester.Options(prompts, 1, 2, false, false),
                        RateLimiter.unlimited(), Budget.unlimited(), new Backoff(1)).run();
                HarvestEstimate again = HarvestEstimate.of(teacher, prompts, PromptDuplicates.scan(prompts, store),
                        store, 3, prices, false, false);
                assertThat(again.stored()).isEqualTo(2);
                assertThat(again.toRequest()).isEqualTo(4);
                assertThat(again.promptTokens()).isEqualTo(4 * estimate);
            }
        }
    }
}
