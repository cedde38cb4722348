package dev.distill4j.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.generate.TokenListener;
import dev.distill4j.model.local.LocalModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching over real HTTP: requests with different temperatures, seeds and top-p share decode steps; a
 * seed gives the same answer alone and batched; the {@code n} choices of a request share one prefill, even when the
 * batch has room for only some of them; a cancelled row leaves the batch at the next step. Co-batching is made
 * certain, not left to timing: the test-only token hook holds the worker at a request's first token until the
 * others are queued.
 */
class ContinuousBatchingTest {
    private static final long WAIT_MS = 30_000;

    static LocalModel model;
    static OpenAiServer server;
    /** While set, the worker's next token waits (bounded) until {@link #waitFor} requests are queued. */
    static final AtomicBoolean hold = new AtomicBoolean();
    static volatile int waitFor;

    @BeforeAll
    static void start() throws Exception {
        model = LocalModel.load(ServerFixture.modelDir());
        TokenListener holder = (int seq, int tokenId, String delta, TokenPosition position) -> {
            if (!hold.getAndSet(false)) return;
            long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
            while (server.queueDepth() < waitFor && System.nanoTime() < deadline) Thread.onSpinWait();
        };
        server = ServerFixture.startWithHook(model, holder);   // max batch 4
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    private static String chat(String content, String sampling) {
        return """
                {"model":"tiny","messages":[{"role":"user","content":"%s"}],"max_tokens":12%s}"""
                .formatted(content, sampling);
    }

    private static JsonNode post(String path, String body) throws Exception {
        ServerFixture.Reply r = ServerFixture.post(server.port(), path, null, body);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return Json.MAPPER.readTree(r.body());
    }

    private static double metric(String regex) throws Exception {
        Matcher m = Pattern.compile("(?m)^" + regex + " ([0-9.eE+]+)$")
                .matcher(ServerFixture.get(server.port(), "/metrics", null).body());
        assertThat(m.find()).as(regex + " in /metrics").isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** Decode steps that ran more than two rows so far. */
    private static double stepsAbove2() throws Exception {
        return metric("distill4j_batch_size_count") - metric("distill4j_batch_size_bucket\\{le=\"2\"\\}");
    }

    @Test
    void differentTemperaturesAndSeedsShareStepsAndASeedAnswersAsAlone() throws Exception {
        List<String> bodies = List.of(
                chat("First, greedy", ",\"temperature\":0"),
                chat("Second, seeded", ",\"temperature\":0.7,\"seed\":11"),
                chat("Third, hot and nucleus", ",\"temperature\":1.3,\"top_p\":0.9,\"seed\":12"),
                chat("Fourth, OpenAI defaults", ""));
        double before = stepsAbove2();
        List<JsonNode> together = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            waitFor = 3;
            hold.set(true);
            List<Future<JsonNode>> replies = new ArrayList<>();
            replies.add(pool.submit(() -> post("/v1/chat/completions", bodies.get(0))));
            while (hold.get()) Thread.onSpinWait();        // the worker holds the first request's first token
            for (int i = 1; i < 4; i++) {
                String body = bodies.get(i);
                replies.add(pool.submit(() -> post("/v1/chat/completions", body)));
            }
            for (Future<JsonNode> f : replies) together.add(f.get());
        }
        assertThat(stepsAbove2() - before).as("decode steps that ran rows of 3 or 4 sampling settings").isPositive();
        // alone, one at a time: the greedy and the seeded answers are the same
        for (int i = 0; i < 3; i++) {
            JsonNode alone = post("/v1/chat/completions", bodies.get(i));
            assertThat(together.get(i).at("/choices/0/message/content").asText()).as("request %d", i)
                    .isEqualTo(alone.at("/choices/0/message/content").asText());
            assertThat(together.get(i).at("/usage")).isEqualTo(alone.at("/usage"));
        }
    }

    @Test
    void theChoicesOfARequestShareOnePrefillEvenWhenTheyJoinInTurns() throws Exception {
        double before = metric("distill4j_prefills_total");
        // six choices, four rows: four join at once, two later from the kept prefill
        JsonNode six = post("/v1/chat/completions", chat("Six ways", ",\"n\":6,\"temperature\":0.9,\"seed\":5"));
        assertThat(metric("distill4j_prefills_total") - before).isEqualTo(1);
        assertThat(six.at("/choices").size()).isEqualTo(6);
        for (int i = 0; i < 6; i++) {
            // choice i samples with seed + i: the same as a one-choice request with that seed
            JsonNode one = post("/v1/chat/completions", chat("Six ways", ",\"temperature\":0.9,\"seed\":" + (5 + i)));
            assertThat(six.at("/choices/" + i + "/message/content").asText()).as("choice %d", i)
                    .isEqualTo(one.at("/choices/0/message/content").asText());
        }
        before = metric("distill4j_prefills_total");
        JsonNode legacy = post("/v1/completions", """
                {"model":"tiny","prompt":["one prompt","another prompt"],"n":3,"max_tokens":4,"temperature":1}""");
        assertThat(legacy.at("/choices").size()).isEqualTo(6);
        assertThat(metric("distill4j_prefills_total") - before).as("one prefill per prompt").isEqualTo(2);
        assertThat(metric("distill4j_running_sequences")).isZero();
    }

    @Test
    void aCancelledRowLeavesAtTheNextStep() {
        int[] prompt = model.tokenizer().encode("Two rows", true);
        SamplingParams params = SamplingParams.greedy(20);
        Generation alone = model.generator().generate(prompt, params);
        assertThat(alone.tokenIds()).hasSize(20);
        Metrics metrics = new Metrics();
        List<String> heardByCancelled = new ArrayList<>();
        BatchScheduler[] scheduler = new BatchScheduler[1];
        BatchScheduler.Generate victim = new BatchScheduler.Generate(prompt.clone(), params,
                (id, delta, pos) -> heardByCancelled.add(delta));
        int[] seen = {0};
        // the other row cancels the victim from the worker thread after both chose their 5th token
        BatchScheduler.Generate mate = new BatchScheduler.Generate(prompt.clone(), params, (id, delta, pos) -> {
            if (++seen[0] == 5) scheduler[0].cancel("victim", List.of(victim), "test");
        });
        try (BatchScheduler s = new BatchScheduler(model, 4, 16, metrics)) {
            scheduler[0] = s;
            s.submit(List.of(victim, mate));
            assertThat(mate.result().join().tokenIds()).isEqualTo(alone.tokenIds());
            assertThatThrownBy(() -> victim.result().join()).isInstanceOf(CancellationException.class);
        }
        assertThat(heardByCancelled).hasSize(5);
        // 19 decode steps (the 20th token needs none): 4 with both rows, then 15 with the mate alone — the victim's
        // row left at the step right after its cancellation (static batching would have kept it: 38 rows)
        String text = metrics.render();
        assertThat(text).contains("distill4j_batch_size_count 19\n").contains("distill4j_batch_size_sum 23.0\n");
        assertThat(text).contains("distill4j_prefills_total 2\n");
    }
}
