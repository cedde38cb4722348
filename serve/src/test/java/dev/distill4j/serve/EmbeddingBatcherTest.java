package dev.distill4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModel.Embedded;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.StaticEmbeddingModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dynamic batching of {@code /v1/embeddings}: a model double in front of a real static student holds its first call
 * on a latch, so the requests sent meanwhile queue, and records every call it gets.
 */
class EmbeddingBatcherTest {
    static StaticEmbeddingModel student;

    @BeforeAll
    static void load() throws Exception {
        // a real tokenizer (bge-small's) over a random table: every part of the static path, without distilling
        int vocab = 30522, dim = 16;
        float[] table = new float[vocab * dim];
        Random r = new Random(7);
        for (int i = 0; i < table.length; i++) table[i] = (float) r.nextGaussian();
        student = new StaticEmbeddingModel("random-static",
                OnnxEmbeddingModel.Builtin.BGE_SMALL_EN_V15.tokenizerJson(), table, vocab, dim, Json.object());
    }

    @AfterAll
    static void close() { student.close(); }

    /** One call the model received: texts, or token arrays. */
    record Call(List<String> texts, List<long[]> ids) {
        int size() { return texts != null ? texts.size() : ids.size(); }
    }

    /** Records each call, and blocks the first one until {@link #release} opens. */
    static final class Recording implements EmbeddingModel {
        final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final AtomicBoolean first = new AtomicBoolean(true);

        @Override public float[][] embed(List<String> texts) { return embedCounting(texts).vectors(); }

        @Override public Embedded embedCounting(List<String> texts) {
            calls.add(new Call(List.copyOf(texts), null));
            gate();
            return student.embedCounting(texts);
        }

        @Override public boolean acceptsTokenIds() { return true; }

        @Override public float[][] embedTokenIds(List<long[]> ids) {
            calls.add(new Call(null, List.copyOf(ids)));
            gate();
            return student.embedTokenIds(ids);
        }

        @Override public int dimension() { return student.dimension(); }
        @Override public String name() { return "recording"; }

        private void gate() {
            if (!first.compareAndSet(true, false)) return;
            entered.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("the test never released");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        List<Integer> callSizes() {
            synchronized (calls) {
                return calls.stream().map(Call::size).toList();
            }
        }
    }

    static List<String> texts(String... t) { return List.of(t); }

    static Embeddings.Texts textInput(String... t) { return new Embeddings.Texts(List.of(t)); }

    @Test
    void theHttpServerMergesQueuedRequestsAndFailsOnlyTheBadOne() throws Exception {
        Recording model = new Recording();
        // the server closes first, so a failed assertion cannot leave the pool waiting on open requests
        try (var pool = Executors.newVirtualThreadPerTaskExecutor();
             OpenAiServer server = OpenAiServer.builder().setEmbeddingModel(model).optPort(0).build()) {
            int port = server.start();
            Future<ServerFixture.Reply> a = pool.submit(() -> post(port, texts("the first request runs alone"), ""));
            assertThat(model.entered.await(30, TimeUnit.SECONDS)).isTrue();

            List<String> b = texts("the band played a song at the concert", "a new law was signed by the president");
            List<String> c = texts("Hello world");
            List<String> d = texts("café au lait", "one more sentence here", "and the last of the texts");
            List<long[]> e = List.of(student.tokenize("token arrays work too"), student.tokenize("second array"));
            List<long[]> f = List.of(student.tokenize("this one is fine"), new long[] {3, 999_999});
            long[] g = student.tokenize("a single flat token array");
            // sent one at a time, each once the previous one is queued, so the queue order is known
            List<Future<ServerFixture.Reply>> replies = new ArrayList<>();
            Object[] bodies = {b, c.getFirst(), d, e, f, g};
            String[] extras = {"", "", "\"encoding_format\":\"base64\"", "", "", "\"dimensions\":4"};
            for (int i = 0; i < bodies.length; i++) {
                Object input = bodies[i];
                String extra = extras[i];
                replies.add(pool.submit(() -> post(port, input, extra)));
                awaitQueueDepth(port, i + 1);
            }
            model.release.countDown();

            assertThat(ok(reply(a)).at("/usage/prompt_tokens").asInt()).isEqualTo(tokens(texts("the first request runs alone")));
            assertTexts(ok(reply(replies.get(0))), b, false);
            assertTexts(ok(reply(replies.get(1))), c, false);
            assertTexts(ok(reply(replies.get(2))), d, true);
            assertIds(ok(reply(replies.get(3))), e);
            EmbeddingsTest.assertError(reply(replies.get(4)), 400, "input", "token id 999999 in input 1 ");
            JsonNode single = ok(reply(replies.get(5)));
            float[] cut = dev.distill4j.embed.Vectors.normalize(Arrays.copyOf(student.embedTokenIds(List.of(g))[0], 4));
            assertThat(EmbeddingsTest.floats(single.at("/data/0/embedding"))).containsExactly(cut);
            assertThat(single.at("/usage/prompt_tokens").asInt()).isEqualTo(g.length);

            // A alone; B, C, D in one call; E, F, G in one call that failed on F, then each alone
            assertThat(model.callSizes()).containsExactly(1, 6, 5, 2, 2, 1);
            List<String> merged = new ArrayList<>(b);
            merged.addAll(c);
            merged.addAll(d);
            assertThat(model.calls.get(1).texts()).isEqualTo(merged);
            assertThat(model.calls.get(2).ids()).containsExactly(e.get(0), e.get(1), f.get(0), f.get(1), g);
            assertThat(model.calls.get(3).ids()).containsExactly(e.get(0), e.get(1));
            assertThat(model.calls.get(4).ids()).containsExactly(f.get(0), f.get(1));
            assertThat(model.calls.get(5).ids()).containsExactly(g);

            String metrics = ServerFixture.get(port, "/metrics", null).body();
            assertThat(metrics).contains("distill4j_embedding_batch_requests_count 6\n");
            assertThat(metrics).contains("distill4j_embedding_batch_requests_sum 10.0\n");
            assertThat(metrics).contains("distill4j_embedding_batch_inputs_sum 17.0\n");
            assertThat(metrics).contains("distill4j_embedding_queue_depth 0\n");
            assertThat(metrics).contains("distill4j_requests_total{endpoint=\"/v1/embeddings\",status=\"200\"} 6\n");
        } finally {
            model.release.countDown();
        }
    }

    @Test
    void batchesKeepToTheirKindAndSizeAndSkipCancelledRequests() throws Exception {
        Recording model = new Recording();
        try (EmbeddingBatcher batcher = new EmbeddingBatcher(model, 4, new Metrics())) {
            CompletableFuture<Embedded> x = batcher.submit(textInput("held on the latch"));
            assertThat(model.entered.await(30, TimeUnit.SECONDS)).isTrue();
            var t1 = batcher.submit(textInput("one", "two", "three"));
            var t2 = batcher.submit(textInput("four", "five"));
            var i1 = batcher.submit(new Embeddings.TokenArrays(List.of(student.tokenize("ids"))));
            var t3 = batcher.submit(textInput("six"));
            var big = batcher.submit(textInput("a", "b", "c", "d", "e"));
            var gone = batcher.submit(textInput("its client went away"));
            gone.cancel(false);
            assertThat(batcher.queueDepth()).as("the cancelled request has left the queue").isEqualTo(5);
            model.release.countDown();

            for (var f : List.of(x, t1, t2, i1, t3, big)) f.get(30, TimeUnit.SECONDS);
            // the oldest request always leads; later ones of its kind join while they fit in 4 inputs;
            // a request of 5 still runs, alone; the cancelled one never reaches the model
            assertThat(model.callSizes()).containsExactly(1, 4, 2, 1, 5);
            assertThat(model.calls.get(1).texts()).containsExactly("one", "two", "three", "six");
            assertThat(model.calls.get(3).ids()).isNotNull();
            assertOwn(t1.join(), List.of("one", "two", "three"));
            assertOwn(t3.join(), List.of("six"));
            assertOwn(big.join(), List.of("a", "b", "c", "d", "e"));
            assertThat(i1.join().vectors()[0]).containsExactly(student.embedTokenIds(List.of(student.tokenize("ids")))[0]);
            assertThat(batcher.queueDepth()).isZero();
        } finally {
            model.release.countDown();
        }
    }

    @Test
    void closingFailsTheQueuedRequestsAndFinishesTheRunningOne() throws Exception {
        Recording model = new Recording();
        EmbeddingBatcher batcher = new EmbeddingBatcher(model, 256, new Metrics());
        var running = batcher.submit(textInput("running"));
        assertThat(model.entered.await(30, TimeUnit.SECONDS)).isTrue();
        var queued = batcher.submit(textInput("queued"));
        Thread closer = Thread.ofVirtual().start(batcher::close);
        try {
            assertThatFails(queued, "shutting down");
        } finally {
            model.release.countDown();
        }
        assertThat(closer.join(java.time.Duration.ofSeconds(30))).isTrue();
        assertOwn(running.get(30, TimeUnit.SECONDS), List.of("running"));
        assertThat(model.callSizes()).containsExactly(1);
    }

    private static void assertThatFails(CompletableFuture<Embedded> f, String messagePart) throws Exception {
        try {
            f.get(30, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure");
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(OpenAiError.class).hasMessageContaining(messagePart);
        }
    }

    private static void assertOwn(Embedded got, List<String> texts) {
        Embedded alone = student.embedCounting(texts);
        assertThat(got.vectors()).hasNumberOfRows(texts.size());
        for (int i = 0; i < texts.size(); i++) assertThat(got.vectors()[i]).containsExactly(alone.vectors()[i]);
        assertThat(got.tokens()).containsExactly(alone.tokens());
    }

    private static ServerFixture.Reply post(int port, Object input, String extra) throws Exception {
        ObjectNode body = Json.object();
        body.put("model", "recording");
        body.set("input", Json.MAPPER.valueToTree(input));
        String s = Json.write(body);
        if (!extra.isEmpty()) s = s.substring(0, s.length() - 1) + "," + extra + "}";
        return ServerFixture.post(port, "/v1/embeddings", null, s);
    }

    private static ServerFixture.Reply reply(Future<ServerFixture.Reply> f) throws Exception {
        return f.get(30, TimeUnit.SECONDS);
    }

    private static JsonNode ok(ServerFixture.Reply r) throws Exception { return EmbeddingsTest.ok(r); }

    private static int tokens(List<String> texts) {
        int n = 0;
        for (String t : texts) n += student.countTokens(t);
        return n;
    }

    private static void assertTexts(JsonNode r, List<String> texts, boolean base64) {
        float[][] expected = student.embed(texts);
        assertThat(r.get("data")).hasSize(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            JsonNode item = r.get("data").get(i);
            assertThat(item.get("index").asInt()).isEqualTo(i);
            float[] v = base64 ? EmbeddingsTest.fromBase64(item.get("embedding").asText())
                    : EmbeddingsTest.floats(item.get("embedding"));
            assertThat(v).containsExactly(expected[i]);
        }
        assertThat(tokens(texts)).isGreaterThanOrEqualTo(texts.size());
        assertThat(r.at("/usage/prompt_tokens").asInt()).isEqualTo(tokens(texts));
        assertThat(r.at("/usage/total_tokens").asInt()).isEqualTo(tokens(texts));
    }

    private static void assertIds(JsonNode r, List<long[]> ids) {
        float[][] expected = student.embedTokenIds(ids);
        int n = 0;
        for (int i = 0; i < ids.size(); i++) {
            assertThat(r.get("data").get(i).get("index").asInt()).isEqualTo(i);
            assertThat(EmbeddingsTest.floats(r.get("data").get(i).get("embedding"))).containsExactly(expected[i]);
            n += ids.get(i).length;
        }
        assertThat(r.at("/usage/prompt_tokens").asInt()).isEqualTo(n);
    }

    /** Polls /metrics until {@code depth} requests wait (the first call is held, so the queue only grows). */
    private static void awaitQueueDepth(int port, int depth) throws Exception {
        String line = "distill4j_embedding_queue_depth " + depth + "\n";
        for (int i = 0; i < 3000; i++) {
            if (ServerFixture.get(port, "/metrics", null).body().contains(line)) return;
            Thread.sleep(5);
        }
        throw new AssertionError("the queue never held " + depth + " requests");
    }
}
