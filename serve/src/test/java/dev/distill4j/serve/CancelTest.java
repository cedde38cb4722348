package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.generate.TokenListener;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that goes away stops its generation. The model has a 4,096-token context so a request can ask for far
 * more tokens than the server generates before it notices the closed connection; were cancellation missing, the
 * worker would stay busy with the abandoned request until its limit and the bounded waits below would fail.
 */
class CancelTest {
    private static final int MAX_TOKENS = 4000;
    private static final long WAIT_MS = 60_000;
    private static final Pattern CANCELLED = Pattern.compile("(?m)^distill4j_requests_cancelled_total (\\d+)$");

    static LocalModel model;
    static OpenAiServer server;
    static int port;
    static final AtomicInteger tokens = new AtomicInteger();
    static volatile boolean eosSeen;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("distill4j-serve-cancel");
        dir.toFile().deleteOnExit();
        model = LocalModel.load(TinyModel.write(dir.resolve("tiny"), 32, 2, 4, 2, 64, 4096));
        // hears every token the worker chooses, whichever row it is for
        TokenListener counter = (int seq, int tokenId, String delta, TokenPosition position) -> {
            tokens.incrementAndGet();
            if (model.eosTokenIds().contains(tokenId)) eosSeen = true;
        };
        server = ServerFixture.startWithHook(model, counter);
        port = server.port();
    }

    @AfterAll
    static void stop() {
        server.close();
        model.close();
    }

    @Test
    void aClosedStreamStopsItsGenerationAndTheServerGoesOn() throws Exception {
        long before = cancelledTotal();
        String body = """
                {"model":"tiny","messages":[{"role":"user","content":"Tell me everything"}],"max_tokens":%d,
                 "temperature":0,"logprobs":true,"stream":true}""".formatted(MAX_TOKENS);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        int seen = 0;
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port));
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
            // the role chunk, then the first token's chunk
            for (String line; seen < 2 && (line = in.readLine()) != null; ) {
                if (line.startsWith("data: {")) seen++;
            }
        }   // closes the connection mid-stream
        assertThat(seen).isEqualTo(2);

        waitFor("the worker to drop the abandoned request", () -> server.scheduler().activeSequences() == 0);
        int generated = tokens.get();
        // the greedy answer ends by itself (EOS) after some 1,600 tokens: the request must have been stopped first
        assertThat(eosSeen).as("the abandoned request was generated to its end").isFalse();
        assertThat(generated).as("tokens generated for the abandoned request").isPositive().isLessThan(MAX_TOKENS);
        waitFor("the cancellation to be counted", () -> cancelledTotal() == before + 1);
        assertThat(server.queueDepth()).isZero();

        ServerFixture.Reply r = ServerFixture.post(port, "/v1/chat/completions", null, """
                {"model":"tiny","messages":[{"role":"user","content":"Still there?"}],"max_tokens":5}""");
        assertThat(r.status()).isEqualTo(200);
        JsonNode answer = Json.MAPPER.readTree(r.body());
        assertThat(answer.at("/choices/0/finish_reason").asText()).isIn("stop", "length");
        assertThat(answer.at("/usage/completion_tokens").asInt()).isBetween(1, 5);
        assertThat(tokens.get() - generated).as("only the new request's tokens were generated since")
                .isEqualTo(answer.at("/usage/completion_tokens").asInt());
        assertThat(cancelledTotal()).isEqualTo(before + 1);
    }

    @Test
    void aCancelledSequenceLeavesItsBatchMatesUntouched() {
        int[] prompt = model.tokenizer().encode("Batch mates", true);
        SamplingParams params = SamplingParams.greedy(40);
        Generation alone = model.generator().generate(prompt, params);
        Metrics metrics = new Metrics();
        List<String> heardByCancelled = new ArrayList<>();
        BatchScheduler.Generate[] jobs = new BatchScheduler.Generate[2];
        jobs[0] = new BatchScheduler.Generate(prompt, params, (id, delta, pos) -> {
            heardByCancelled.add(delta);
            // cancelled from the worker thread itself, after its first token: deterministic, no timing
            BatchScheduler.Generate self = jobs[0];
            sched[0].cancel("test-0", List.of(self), "test");
        });
        jobs[1] = new BatchScheduler.Generate(prompt, params);
        try (BatchScheduler scheduler = new BatchScheduler(model, 4, 16, metrics)) {
            sched[0] = scheduler;
            scheduler.submit(List.of(jobs[0], jobs[1]));
            Generation mate = jobs[1].result().join();
            assertThat(mate.tokenIds()).isEqualTo(alone.tokenIds());
            assertThat(mate.text()).isEqualTo(alone.text());
            assertThatThrownBy(() -> jobs[0].result().join()).isInstanceOf(CancellationException.class);
            assertThat(heardByCancelled).hasSize(1);
            assertThat(scheduler.cancel("test-0", List.of(jobs[0]), "again")).as("nothing left to cancel").isZero();
        }
        assertThat(metrics.render()).contains("distill4j_requests_cancelled_total 1\n");
    }

    private static final BatchScheduler[] sched = new BatchScheduler[1];

    @Test
    void aWaitingRequestLeavesTheQueueWhenCancelled() throws Exception {
        Metrics metrics = new Metrics();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        // holds the worker on its first token so the second request has to wait in the queue
        TokenListener hold = (int seq, int tokenId, String delta, TokenPosition position) -> {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        int[] prompt = model.tokenizer().encode("Queue", true);
        try (BatchScheduler scheduler = new BatchScheduler(model, 1, 16, metrics, hold)) {
            BatchScheduler.Generate first = new BatchScheduler.Generate(prompt, SamplingParams.greedy(3));
            BatchScheduler.Generate second = new BatchScheduler.Generate(prompt, SamplingParams.greedy(3));
            scheduler.submit(List.of(first));
            started.await();
            scheduler.submit(List.of(second));
            assertThat(scheduler.queueDepth()).isEqualTo(1);
            assertThat(scheduler.cancel("test-1", List.of(second), "test")).isEqualTo(1);
            assertThat(scheduler.queueDepth()).isZero();
            assertThat(second.result()).isCompletedExceptionally();
            release.countDown();
            assertThat(first.result().join().usage().completionTokens()).isPositive();
        }
    }

    private static long cancelledTotal() throws Exception {
        Matcher m = CANCELLED.matcher(ServerFixture.get(port, "/metrics", null).body());
        assertThat(m.find()).as("/metrics has distill4j_requests_cancelled_total").isTrue();
        return Long.parseLong(m.group(1));
    }

    /** Polls until {@code done} holds; fails after {@link #WAIT_MS}. */
    private static void waitFor(String what, CheckedCondition done) throws Exception {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (!done.holds()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    @FunctionalInterface
    private interface CheckedCondition {
        boolean holds() throws Exception;
    }
}
