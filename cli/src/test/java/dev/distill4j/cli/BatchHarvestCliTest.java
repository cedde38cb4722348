package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.core.store.StoredBatch;
import dev.distill4j.teacher.stub.AnthropicStub;
import dev.distill4j.teacher.stub.BatchPlan;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill harvest --batch} as a user runs it, in child processes against the OpenAI stub: the same prompts
 * cost half of what they cost online, {@code inspect} shows the batches, and a harvest SIGKILLed after submitting is
 * resumed by the same command, which polls the batches it finds in the run and buys nothing twice; and against the
 * Anthropic stub, a create call whose answer was lost beside another batch of its size stops the harvest with the
 * candidates named until {@code --resubmit-unconfirmed}.
 */
class BatchHarvestCliTest {
    private static final String KEY = "sk-batch-cli";
    private static final Map<String, String> ENV = Map.of("OPENAI_API_KEY", KEY);

    @TempDir Path tmp;
    int logs;

    private Path prompts(int n) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) lines.add("{\"id\": \"p" + i + "\", \"prompt\": \"Tell me about " + i + "\"}");
        Path file = tmp.resolve("prompts.jsonl");
        Files.write(file, lines);
        return file;
    }

    private String[] args(Path run, Path prompts, OpenAiStub stub, String... extra) {
        List<String> a = new ArrayList<>(List.of("harvest", "--run", run.toString(), "--prompts", prompts.toString(),
                "--base-url", stub.baseUrl(), "--model", "m", "--max-tokens", "16", "--top-logprobs", "2",
                "--price-in", "2.5", "--price-out", "10", "--quiet"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private DistillProcess.Result distill(String... args) throws Exception {
        return DistillProcess.run(ENV, tmp.resolve("logs-" + (logs++)), args);
    }

    @Test
    void aBatchHarvestCostsHalfTheOnlineOneForTheSamePrompts() throws Exception {
        Path prompts = prompts(40);
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY)) {
            Path online = tmp.resolve("online");
            Path batch = tmp.resolve("batch");
            var o = distill(args(online, prompts, stub));
            assertThat(o.exitCode()).as(o.toString()).isZero();
            var b = distill(args(batch, prompts, stub, "--batch", "--poll-interval", "0.02",
                    "--max-poll-interval", "0.1", "--batch-size", "15"));
            assertThat(b.exitCode()).as(b.toString()).isZero();
            assertThat(b.stdout()).contains("harvest --batch complete")
                    .contains("3 submitted now (40 requests)").contains("3 collected (OpenAI Batch API, at 0.50×");

            double onlineUsd;
            try (RunStore store = RunStore.openExisting(online)) {
                onlineUsd = store.stats(0).costUsd();
            }
            JsonNode batchJson = Json.parse(distill("inspect", batch.toString(), "--json").stdout());
            assertThat(batchJson.get("spend_usd").asDouble()).isCloseTo(onlineUsd / 2, within(1e-12));
            assertThat(batchJson.get("batches")).hasSize(3);
            // and what the stub billed: online at the list price, batches at half
            assertThat(onlineUsd + batchJson.get("spend_usd").asDouble())
                    .isCloseTo(stub.billedUsd(2.5, 10), within(1e-12));
            var inspect = distill("inspect", batch.toString());
            assertThat(inspect.stdout()).contains("40 done, 0 failed, 0 pending")
                    .contains("batches      3 collected, 0 open, 0 submitting").contains("TOP_K(2)");
        }
    }

    @Test
    void sigkillAfterSubmittingThenTheSameCommandResumesPollingAndBuysNothingTwice() throws Exception {
        int n = 240;
        Path prompts = prompts(n);
        Path run = tmp.resolve("run");
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY)) {
            stub.defaultBatchPlan(BatchPlan.normal().pollsInProgress(15));
            String[] args = args(run, prompts, stub, "--batch", "--poll-interval", "0.05", "--max-poll-interval",
                    "0.1", "--batch-size", "100");
            Process first = DistillProcess.start(ENV, tmp.resolve("logs-first"), args);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (polls(stub) < 6 && first.isAlive() && System.nanoTime() < deadline) Thread.sleep(10);
            assertThat(first.isAlive()).as("the first harvest must still be polling when killed").isTrue();
            first.destroyForcibly(); // SIGKILL
            assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(first.exitValue()).isEqualTo(137);
            long creates = count(stub, "POST", "/v1/batches");
            long uploads = count(stub, "POST", "/v1/files");
            assertThat(creates).isEqualTo(3);
            try (RunStore store = RunStore.openExisting(run)) {
                assertThat(store.batches(StoredBatch.State.OPEN)).hasSize(3);
                assertThat(store.count(SampleStatus.DONE)).isZero();
            }

            var second = distill(args);
            assertThat(second.exitCode()).as(second.toString()).isZero();
            assertThat(second.stdout()).contains("0 submitted now (0 requests), 240 resumed from an earlier run, 3"
                    + " collected");
            assertThat(count(stub, "POST", "/v1/batches")).as("no batch created again").isEqualTo(creates);
            assertThat(count(stub, "POST", "/v1/files")).as("no file uploaded again").isEqualTo(uploads);
            assertThat(stub.batchBilledAnswers()).as("every sample bought once").isEqualTo(n);
            try (RunStore store = RunStore.openExisting(run)) {
                assertThat(store.count(SampleStatus.DONE)).isEqualTo(n);
                assertThat(store.batches(StoredBatch.State.COLLECTED)).hasSize(3);
            }
            var third = distill(args);
            assertThat(third.stdout()).contains("240 already stored");
            assertThat(count(stub, "POST", "/v1/batches")).isEqualTo(creates);
        }
    }

    @Test
    void anAnthropicCreateAnswerLostBesideAnotherBatchOfItsSizeStopsUntilResubmitUnconfirmed() throws Exception {
        Path prompts = prompts(6);
        Path run = tmp.resolve("run");
        Map<String, String> env = Map.of("ANTHROPIC_API_KEY", KEY);
        try (AnthropicStub stub = AnthropicStub.start().requireApiKey(KEY);
             HttpClient http = HttpClient.newHttpClient()) {
            // another client of the workspace makes a batch of the same size just before ours
            StringBuilder body = new StringBuilder("{\"requests\": [");
            for (int i = 0; i < 6; i++) {
                body.append(i == 0 ? "" : ",").append("{\"custom_id\": \"other-").append(i).append("\", \"params\":"
                        + " {\"model\": \"claude-test\", \"max_tokens\": 16, \"messages\": [{\"role\": \"user\","
                        + " \"content\": \"hi\"}]}}");
            }
            var theirs = http.send(HttpRequest.newBuilder(URI.create(stub.baseUrl() + "/v1/messages/batches"))
                    .header("x-api-key", KEY).header("anthropic-version", "2023-06-01")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body + "]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            String theirId = Json.parse(theirs.body()).get("id").asText();
            // ours is made, and the connection drops halfway through the answer
            AtomicBoolean once = new AtomicBoolean();
            stub.onRequest(q -> q.method().equals("POST") && q.path().equals("/v1/messages/batches")
                    && q.body().contains("Tell me about") && once.compareAndSet(false, true)
                    ? Fault.truncatedBody() : null);
            List<String> args = new ArrayList<>(List.of("harvest", "--run", run.toString(), "--prompts",
                    prompts.toString(), "--provider", "anthropic", "--base-url", stub.baseUrl(), "--model",
                    "claude-test", "--max-tokens", "16", "--batch", "--poll-interval", "0.02", "--max-poll-interval",
                    "0.1", "--quiet"));

            var first = DistillProcess.run(env, tmp.resolve("logs-a"), args.toArray(String[]::new));
            assertThat(first.exitCode()).as(first.toString()).isEqualTo(1);
            assertThat(first.stdout()).contains("harvest --batch stopped by an error");
            assertThat(first.stderr()).contains("2 batches at the provider may be it", theirId,
                    "Rerun the same command once they have ended", "--resubmit-unconfirmed")
                    .doesNotContain("fix this and rerun");
            try (RunStore store = RunStore.openExisting(run)) {
                assertThat(store.batches(StoredBatch.State.SUBMITTING)).hasSize(1);
            }

            args.add("--resubmit-unconfirmed");
            var second = DistillProcess.run(env, tmp.resolve("logs-b"), args.toArray(String[]::new));
            assertThat(second.exitCode()).as(second.toString()).isZero();
            assertThat(second.stdout()).contains("note      --resubmit-unconfirmed")
                    .contains("6 done, 0 failed, 0 pending");
            assertThat(stub.requests()).filteredOn(q -> q.method().equals("POST")
                    && q.path().equals("/v1/messages/batches") && q.body().contains("Tell me about")).hasSize(2);
        }
    }

    private static long polls(OpenAiStub stub) {
        return stub.requests().stream().filter(r -> r.method().equals("GET") && r.path().startsWith("/v1/batches/"))
                .count();
    }

    private static long count(OpenAiStub stub, String method, String path) {
        return stub.requests().stream().filter(r -> r.method().equals(method) && r.path().equals(path)).count();
    }
}
