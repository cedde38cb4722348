package dev.distill4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.Sampler;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.generate.TokenChooser;
import dev.distill4j.model.local.LocalModel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link OpenAiServer.Builder#optTokenChooser}: a chooser picks every token of every endpoint, the metrics count the
 * tokens it marks, and without one the server's seeded outputs are the model's own sampling, byte for byte.
 */
class TokenChooserServeTest {
    private static final String CHAT = """
            {"model":"tiny","messages":[{"role":"user","content":"Tell me a story"}],"max_tokens":24,
             "temperature":0.9,"top_p":1,"seed":7,"n":2,"logprobs":true,"top_logprobs":3}""";

    /**
     * A toy watermark: +6 on the logits of even ids, then ordinary sampling; marks sampled tokens only. Counts its
     * calls, so a test can tell that every generated token went through it.
     */
    static final class EvenBias implements TokenChooser {
        final AtomicLong calls = new AtomicLong();

        @Override
        public int choose(int[] history, int length, float[] logits, SamplingParams params, SplittableRandom rng) {
            calls.incrementAndGet();
            for (int v = 0; v < logits.length; v += 2) logits[v] += 6;
            return Sampler.next(logits, params, rng);
        }

        @Override public boolean marks(SamplingParams params) { return !params.isGreedy(); }
    }

    static LocalModel model;
    static OpenAiServer plain;
    static OpenAiServer biased;
    static final EvenBias chooser = new EvenBias();

    @BeforeAll
    static void start() throws Exception {
        model = LocalModel.load(ServerFixture.modelDir());
        plain = OpenAiServer.builder().setModel(model).optServedModelName(ServerFixture.NAME).optPort(0).build();
        plain.start();
        biased = OpenAiServer.builder().setModel(model).optServedModelName(ServerFixture.NAME).optPort(0)
                .optMaxBatch(4).optTokenChooser(chooser, "the even-bias test chooser").build();
        biased.start();
    }

    @AfterAll
    static void stop() {
        plain.close();
        biased.close();
        model.close();
    }

    private static JsonNode post(OpenAiServer server, String path, String body) throws Exception {
        ServerFixture.Reply r = ServerFixture.post(server.port(), path, null, body);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return Json.MAPPER.readTree(r.body());
    }

    private static long metric(OpenAiServer server, String name) throws Exception {
        Matcher m = Pattern.compile("(?m)^" + name + " (\\d+)$").matcher(ServerFixture.get(server.port(), "/metrics",
                null).body());
        assertThat(m.find()).as(name + " in /metrics").isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void withoutAChooserSeededOutputsAreTheModelsOwnSamplingByteForByte() throws Exception {
        JsonNode reply = post(plain, "/v1/chat/completions", CHAT);
        int[] prompt = model.encodeChat(List.of(Message.user("Tell me a story")));
        for (int i = 0; i < 2; i++) {
            Generation g = model.generate(prompt, new SamplingParams(24, 0.9, 0, 1, 7 + i, model.eosTokenIds(),
                    List.of(), 3));
            JsonNode choice = reply.at("/choices/" + i);
            assertThat(choice.at("/message/content").asText()).isEqualTo(g.text());
            JsonNode content = choice.at("/logprobs/content");
            assertThat(content.size()).isEqualTo(g.distribution().positions().size());
            for (int t = 0; t < content.size(); t++) {
                // the server's step decoder computes the same logits on another path (a stacked KV cache), equal
                // within StepDecoder's 1e-4, so the logprobs agree to float rounding, not bit for bit
                assertThat(content.get(t).get("logprob").asDouble())
                        .isEqualTo(g.distribution().positions().get(t).chosen().logprob(), org.assertj.core.api
                                .Assertions.within(1e-4));
            }
        }
        // the same request to the biased server is answered differently: the chooser is what decides
        assertThat(post(biased, "/v1/chat/completions", CHAT).at("/choices/0/message/content").asText())
                .isNotEqualTo(reply.at("/choices/0/message/content").asText());
        assertThat(metric(plain, "distill4j_watermarked_tokens_total")).isZero();
    }

    @Test
    void theChooserPicksEveryTokenOfEveryEndpointAndMarkedOnesAreCounted() throws Exception {
        long calls0 = chooser.calls.get();
        long marked0 = metric(biased, "distill4j_watermarked_tokens_total");
        long sampled = 0;
        long greedy = 0;
        sampled += post(biased, "/v1/chat/completions", CHAT).at("/usage/completion_tokens").asLong();
        sampled += post(biased, "/v1/completions", """
                {"model":"tiny","prompt":["Once upon","A time"],"max_tokens":16,"temperature":1,"seed":3,"n":2}""")
                .at("/usage/completion_tokens").asLong();
        String stream = ServerFixture.post(biased.port(), "/v1/chat/completions", null, """
                {"model":"tiny","messages":[{"role":"user","content":"Stream"}],"max_tokens":12,"temperature":1,
                 "seed":5,"stream":true,"stream_options":{"include_usage":true}}""").body();
        Matcher usage = Pattern.compile("\"completion_tokens\":(\\d+)").matcher(stream);
        assertThat(usage.find()).as(stream).isTrue();
        sampled += Long.parseLong(usage.group(1));
        // greedy: the chooser still picks (a KGW bias changes even the argmax) but marks nothing
        greedy += post(biased, "/v1/chat/completions", """
                {"model":"tiny","messages":[{"role":"user","content":"Greedy"}],"max_tokens":10,"temperature":0}""")
                .at("/usage/completion_tokens").asLong();
        // concurrent requests with equal parameters share batches
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<Long>> futures = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String body = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Q" + i
                        + "\"}],\"max_tokens\":12,\"temperature\":1,\"seed\":11}";
                futures.add(pool.submit((Callable<Long>) () -> post(biased, "/v1/chat/completions", body)
                        .at("/usage/completion_tokens").asLong()));
            }
            for (Future<Long> f : futures) sampled += f.get();
        }
        assertThat(chooser.calls.get() - calls0).isEqualTo(sampled + greedy);
        assertThat(metric(biased, "distill4j_watermarked_tokens_total") - marked0).isEqualTo(sampled);
    }

    @Test
    void theServedModelItselfKeepsItsOwnGenerator() throws Exception {
        post(biased, "/v1/chat/completions", CHAT);
        long calls = chooser.calls.get();
        int[] prompt = model.encodeChat(List.of(Message.user("Tell me a story")));
        model.generate(prompt, new SamplingParams(8, 0.9, 0, 1, 1, model.eosTokenIds(), List.of(), 0));
        assertThat(chooser.calls.get()).isEqualTo(calls);
    }
}
