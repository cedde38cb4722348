package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.core.store.StoredBatch;
import dev.distill4j.teacher.stub.AnthropicStub;
import dev.distill4j.teacher.stub.BatchPlan;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import dev.distill4j.teacher.stub.RecordedRequest;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code harvest --batch} against stubs of OpenAI's Batch API and Anthropic's Message Batches: the wire format sent,
 * answers stored through the same store as online, batch prices in the budget and the stored cost, expired and partly
 * failed batches (what is failed, what is asked again), a failed validation, 429s on the control calls, a create call
 * whose answer was lost, and a harvest stopped after submitting that a second harvester resumes without buying
 * anything twice.
 */
class BatchHarvesterTest {
    private static final String KEY = "sk-batch";
    private static final double PRICE_IN = 2.0;
    private static final double PRICE_OUT = 8.0;
    private static final int PROMPTS = 30;

    @TempDir Path tmp;

    private Path prompts(int n) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            lines.add(i % 3 == 0
                    ? "{\"id\": \"p" + i + "\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
                            + " {\"role\": \"user\", \"content\": \"Spell " + i + " please\"}]}"
                    : "{\"id\": \"p" + i + "\", \"prompt\": \"What is " + i + " plus " + i + "?\"}");
        }
        Path file = tmp.resolve("prompts.jsonl");
        Files.write(file, lines);
        return file;
    }

    private static TeacherConfig openAi(OpenAiStub stub, int topLogprobs) {
        return new TeacherConfig("openai", "chat", URI.create(stub.baseUrl()), "gpt-4o-mini", "OPENAI_API_KEY", KEY,
                new TeacherSampling(0.7, null, 16, false, 5L, List.of(), topLogprobs, null), Duration.ofSeconds(10),
                Map.of());
    }

    private static TeacherConfig anthropic(AnthropicStub stub) {
        return new TeacherConfig("anthropic", "chat", URI.create(stub.baseUrl()), "claude-sonnet-4-5",
                "ANTHROPIC_API_KEY", KEY, new TeacherSampling(0.7, null, 16, false, null, List.of(), 0, null),
                Duration.ofSeconds(10), Map.of());
    }

    private static BatchHarvester.Options options(Path prompts, int batchSize) {
        return new BatchHarvester.Options(prompts, 1, false, false, 3, Duration.ofMillis(5), Duration.ofMillis(40),
                batchSize, false);
    }

    private static Budget batchBudget(Double limit) {
        return new Budget(PRICE_IN / 2, PRICE_OUT / 2, limit);
    }

    private BatchHarvester.Result harvest(TeacherConfig config, RunStore store, BatchHarvester.Options o,
                                          Budget budget) throws Exception {
        try (Teacher t = Teachers.create(config); BatchApi api = BatchApi.of(t, config)) {
            return new BatchHarvester((HttpTeacher) t, api, store, o, budget, new Backoff(4, 7L)).run();
        }
    }

    private static List<RecordedRequest> requests(OpenAiStub stub, String method, String path) {
        return stub.requests().stream().filter(r -> r.method().equals(method) && r.path().equals(path)).toList();
    }

    @Test
    void openAiBatchesAnswerEverySampleAtHalfTheOnlinePrice() throws Exception {
        Path prompts = prompts(PROMPTS);
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY).models("gpt-4o-mini");
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            Budget budget = batchBudget(null);
            var r = harvest(openAi(stub, 3), store, options(prompts, 12), budget);
            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            assertThat(r.progress().batchesSubmitted()).isEqualTo(3); // 12 + 12 + 6
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(PROMPTS);

            // the upload: multipart/form-data, purpose=batch, one JSONL line per sample keyed by its content key
            List<RecordedRequest> uploads = requests(stub, "POST", "/v1/files");
            assertThat(uploads).hasSize(3);
            RecordedRequest up = uploads.getFirst();
            assertThat(up.header("Content-Type")).startsWith("multipart/form-data; boundary=");
            assertThat(up.header("Authorization")).isEqualTo("Bearer " + KEY);
            assertThat(up.body()).contains("Content-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n")
                    .contains("name=\"file\"; filename=\"distill4j-b-");
            String firstLine = up.body().lines().filter(l -> l.startsWith("{\"custom_id\"")).findFirst().orElseThrow();
            JsonNode line = Json.parse(firstLine);
            assertThat(line.get("method").asText()).isEqualTo("POST");
            assertThat(line.get("url").asText()).isEqualTo("/v1/chat/completions");
            assertThat(line.get("body").get("top_logprobs").asInt()).isEqualTo(3);
            assertThat(store.sample(line.get("custom_id").asText())).isPresent();

            JsonNode create = requests(stub, "POST", "/v1/batches").getFirst().json();
            assertThat(create.get("endpoint").asText()).isEqualTo("/v1/chat/completions");
            assertThat(create.get("completion_window").asText()).isEqualTo("24h");
            assertThat(create.get("input_file_id").asText()).startsWith("file-");
            assertThat(create.get("metadata").get(OpenAiBatchApi.METADATA_KEY).asText()).startsWith("b-");
            assertThat(stub.requests()).filteredOn(q -> q.method().equals("GET")
                    && q.path().matches("/v1/files/file-[A-Za-z0-9]+/content")).hasSize(3); // the output files

            // the same answers as online, logprobs included
            List<Sample> done = new ArrayList<>();
            store.forEachSample(SampleStatus.DONE, (p, s) -> done.add(s));
            assertThat(done).allSatisfy(s -> {
                assertThat(s.tokens().size()).isPositive();
                assertThat(s.requestId()).startsWith("req_batchstub");
                assertThat(s.attempts()).isEqualTo(1);
            });
            // half price: the stored cost is the stub's bill at the batch price, half the same tokens online
            double stored = done.stream().mapToDouble(Sample::costUsd).sum();
            double online = done.stream().mapToDouble(s -> (s.usage().promptTokens() * PRICE_IN
                    + s.usage().completionTokens() * PRICE_OUT) / 1e6).sum();
            assertThat(stub.batchBilledAnswers()).isEqualTo(PROMPTS);
            assertThat(stub.billedAnswers()).isZero();
            assertThat(stored).isCloseTo(stub.billedUsd(PRICE_IN, PRICE_OUT), within(1e-12));
            assertThat(stored).isCloseTo(online / 2, within(1e-12));
            assertThat(budget.spentUsd()).isCloseTo(stored, within(1e-12));
            assertThat(budget.reservedUsd()).isZero();
            assertThat(store.batches(StoredBatch.State.COLLECTED)).hasSize(3)
                    .allSatisfy(b -> assertThat(b.status()).isEqualTo("completed"));
            try (var files = Files.list(tmp.resolve("run"))) {
                assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".part"));
            }

            // a rerun asks for nothing
            long before = stub.requestCount();
            var again = harvest(openAi(stub, 3), store, options(prompts, 12), batchBudget(null));
            assertThat(again.progress().alreadyDone()).isEqualTo(PROMPTS);
            assertThat(again.progress().batchesSubmitted()).isZero();
            assertThat(stub.requestCount()).isEqualTo(before);
        }
    }

    @Test
    void openAiExpiredAndPartlyFailedBatchStoresWhatSucceededAndAsksAgainForTheRest() throws Exception {
        Path prompts = prompts(PROMPTS);
        Map<String, String> keysById = new HashMap<>();
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            // the first batch: 400 for one request, 500 for another, the window ends after 20 of 30
            AtomicBoolean serverErrorOnce = new AtomicBoolean();
            List<String> failing = new ArrayList<>();
            stub.batchPlans(BatchPlan.normal().pollsInProgress(2).expireAfter(20).failing(id -> {
                if (failing.isEmpty()) return null;
                if (id.equals(failing.get(0))) return 400;
                if (id.equals(failing.get(1)) && serverErrorOnce.compareAndSet(false, true)) return 500;
                return null;
            }));
            // polls are rate limited now and then, with OpenAI's headers
            stub.onRequest(r -> r.method().equals("GET") && r.path().startsWith("/v1/batches/")
                    && r.seq() % 4 == 0 ? Fault.rateLimited(null, 30L) : null);
            // which keys fail is decided once the keys are known (sample keys are content hashes)
            var config = openAi(stub, 0);
            try (Teacher t = Teachers.create(config)) {
                var sampling = t.sampling().toJson();
                try (var reader = dev.distill4j.core.io.PromptReader.open(prompts)) {
                    while (reader.hasNext()) {
                        if (reader.next() instanceof dev.distill4j.core.io.PromptReader.Ok ok) {
                            keysById.put(ok.prompt().id(), dev.distill4j.core.SampleKey.of(ok.prompt(), "openai",
                                    "gpt-4o-mini", "chat", sampling, 0));
                        }
                    }
                }
            }
            failing.add(keysById.get("p1"));
            failing.add(keysById.get("p2"));

            Budget budget = batchBudget(null);
            var r = harvest(config, store, options(prompts, 100), budget);
            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            assertThat(r.progress().retries()).as("429s on polls were retried").isPositive();
            // batch 1: 18 answered, 1 failed for good (400), 1 server error and 10 expired asked again in batch 2
            assertThat(r.progress().batchesSubmitted()).isEqualTo(2);
            assertThat(r.progress().requeued()).isEqualTo(11);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(PROMPTS - 1);
            assertThat(store.count(SampleStatus.FAILED)).isEqualTo(1);
            assertThat(store.count(SampleStatus.PENDING)).isZero();
            Sample bad = store.sample(keysById.get("p1")).orElseThrow();
            assertThat(bad.errorCause()).startsWith("bad_request (http 400): the batch request failed (400)")
                    .contains("max_tokens");
            Sample retried = store.sample(keysById.get("p2")).orElseThrow();
            assertThat(retried.status()).isEqualTo(SampleStatus.DONE);
            assertThat(retried.attempts()).isEqualTo(2);
            assertThat(retried.errorCause()).isNull();
            Sample expired = store.sample(keysById.get("p29")).orElseThrow();
            assertThat(expired.status()).isEqualTo(SampleStatus.DONE);
            assertThat(expired.attempts()).isEqualTo(2);
            List<StoredBatch> batches = store.batches(null);
            assertThat(batches).extracting(StoredBatch::status).containsExactly("expired", "completed");
            // billed: only what was answered, once
            assertThat(stub.batchBilledAnswers()).isEqualTo(PROMPTS - 1);
            double stored = 0;
            for (String k : keysById.values()) stored += store.sample(k).orElseThrow().costUsd();
            assertThat(stored).isCloseTo(stub.billedUsd(PRICE_IN, PRICE_OUT), within(1e-12));
            assertThat(budget.spentUsd()).isCloseTo(stored, within(1e-12));
        }
    }

    @Test
    void openAiBatchThatFailsValidationFailsItsSamplesWithTheProvidersReason() throws Exception {
        Path prompts = prompts(5);
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            stub.batchPlans(BatchPlan.normal().failValidation("The model `gpt-4o-mini` is not available for batch."));
            var r = harvest(openAi(stub, 0), store, options(prompts, 100), batchBudget(1.0));
            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            assertThat(store.count(SampleStatus.FAILED)).isEqualTo(5);
            assertThat(r.notes()).anyMatch(n -> n.contains("failed validation") && n.contains("not available"));
            List<String> causes = new ArrayList<>();
            store.forEachSample(SampleStatus.FAILED, (p, s) -> causes.add(s.errorCause()));
            assertThat(causes).allMatch(c -> c.startsWith("bad_request: the batch failed validation: The model"));
            assertThat(stub.batchBilledAnswers()).isZero();
        }
    }

    @Test
    void anthropicMessageBatchesWithErroredAndExpiredRequests() throws Exception {
        Path prompts = prompts(PROMPTS);
        try (AnthropicStub stub = AnthropicStub.start().requireApiKey(KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            AtomicBoolean overloadedOnce = new AtomicBoolean();
            List<String> order = new ArrayList<>();
            stub.batchPlans(BatchPlan.normal().expireAfter(25).failing(id -> {
                order.add(id);
                if (order.size() == 3) return 400;
                if (order.size() == 4 && overloadedOnce.compareAndSet(false, true)) return 529;
                return null;
            }));
            stub.enqueue(Fault.rateLimited(null, 20L)); // the create call is rate limited once
            Budget budget = batchBudget(null);
            var r = harvest(anthropic(stub), store, options(prompts, 100), budget);
            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            assertThat(r.progress().retries()).isPositive();

            RecordedRequest create = stub.requests().stream()
                    .filter(q -> q.method().equals("POST") && q.path().equals("/v1/messages/batches"))
                    .reduce((a, b) -> b).orElseThrow();
            assertThat(create.header("x-api-key")).isEqualTo(KEY);
            assertThat(create.header("anthropic-version")).isEqualTo(AnthropicTeacher.API_VERSION);
            JsonNode first = create.json().get("requests").get(0);
            assertThat(first.get("custom_id").asText()).matches("[0-9a-f]{32}");
            assertThat(first.get("params").get("model").asText()).isEqualTo("claude-sonnet-4-5");
            assertThat(first.get("params").get("max_tokens").asInt()).isEqualTo(16);

            // 400 failed for good; the overloaded one and the 5 expired asked again and answered
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(PROMPTS - 1);
            assertThat(store.count(SampleStatus.FAILED)).isEqualTo(1);
            List<String> causes = new ArrayList<>();
            store.forEachSample(SampleStatus.FAILED, (p, s) -> causes.add(s.errorCause()));
            assertThat(causes.getFirst()).startsWith("bad_request (http 400): the batch request failed: max_tokens")
                    .contains("[type invalid_request_error]");
            assertThat(r.progress().requeued()).isEqualTo(6);
            assertThat(store.batches(null)).extracting(StoredBatch::status).containsExactly("ended", "ended");
            double stored = 0;
            List<Sample> all = new ArrayList<>();
            store.forEachSample(null, (p, s) -> all.add(s));
            for (Sample s : all) stored += s.costUsd();
            assertThat(stub.batchBilledAnswers()).isEqualTo(PROMPTS - 1);
            assertThat(stored).isCloseTo(stub.billedUsd(PRICE_IN, PRICE_OUT), within(1e-12));
            assertThat(all.stream().filter(s -> s.status() == SampleStatus.DONE))
                    .allSatisfy(s -> assertThat(s.requestId()).startsWith("msg_01Stub"));
        }
    }

    @Test
    void aHarvestStoppedAfterSubmittingIsResumedByTheNextWithoutBuyingTwice() throws Exception {
        Path prompts = prompts(PROMPTS);
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            stub.defaultBatchPlan(BatchPlan.normal().pollsInProgress(6));
            var config = openAi(stub, 0);
            BatchHarvester.Result first;
            try (Teacher t = Teachers.create(config); BatchApi api = BatchApi.of(t, config)) {
                BatchHarvester h = new BatchHarvester((HttpTeacher) t, api, store, options(prompts, 10),
                        batchBudget(null), new Backoff(4, 7L));
                Thread stopper = Thread.ofVirtual().start(() -> {
                    try {
                        while (h.progress().batchesSubmitted() < 3) Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                    h.stop();
                });
                first = h.run();
                stopper.join();
            }
            assertThat(first.outcome()).isEqualTo(Harvester.Outcome.INTERRUPTED);
            assertThat(store.batches(StoredBatch.State.OPEN)).hasSize(3);
            assertThat(store.count(SampleStatus.PENDING)).isEqualTo(PROMPTS);
            int created = requests(stub, "POST", "/v1/batches").size();
            assertThat(created).isEqualTo(3);

            Budget budget = batchBudget(null);
            var second = harvest(config, store, options(prompts, 10), budget);
            assertThat(second.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            assertThat(second.progress().resumed()).isEqualTo(PROMPTS);
            assertThat(second.progress().inOpenBatch()).isEqualTo(PROMPTS);
            assertThat(second.progress().batchesSubmitted()).isZero();
            assertThat(requests(stub, "POST", "/v1/batches")).hasSize(created);
            assertThat(requests(stub, "POST", "/v1/files")).hasSize(3);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(PROMPTS);
            assertThat(stub.batchBilledAnswers()).isEqualTo(PROMPTS);
            assertThat(budget.spentUsd()).isCloseTo(stub.billedUsd(PRICE_IN, PRICE_OUT), within(1e-12));
        }
    }

    @Test
    void aCreateCallWhoseAnswerWasLostIsFoundByItsMetadataNotSubmittedAgain() throws Exception {
        Path prompts = prompts(8);
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            AtomicBoolean once = new AtomicBoolean();
            // the batch is made, then the connection drops halfway through its answer
            stub.onRequest(q -> q.method().equals("POST") && q.path().equals("/v1/batches")
                    && once.compareAndSet(false, true) ? Fault.truncatedBody() : null);
            var r = harvest(openAi(stub, 0), store, options(prompts, 100), batchBudget(null));
            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            assertThat(requests(stub, "POST", "/v1/batches")).hasSize(1);
            assertThat(requests(stub, "GET", "/v1/batches")).hasSize(1); // the look-up by metadata
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(8);
            assertThat(stub.batchBilledAnswers()).isEqualTo(8);
        }
    }

    @Test
    void aBatchTheProviderNoLongerKnowsStopsTheRunWithAClearMessageAndStaysInTheRun() throws Exception {
        Path prompts = prompts(3);
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            StoredBatch gone = new StoredBatch("b-gone", "openai", null, null, StoredBatch.State.SUBMITTING, null, 2,
                    0.01, null, java.time.Instant.now(), java.time.Instant.now());
            store.putBatch(gone, List.of("k1", "k2"));
            store.updateBatch(gone.accepted("batch_gone", "file-gone", "in_progress", null));
            var r = harvest(openAi(stub, 0), store, options(prompts, 100), batchBudget(null));
            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.FATAL);
            assertThat(r.fatal().getMessage()).contains("does not know batch batch_gone")
                    .contains("2 requests cannot be collected");
            // kept for the user to look into (the prompts' own batch, submitted first, stays open for the rerun)
            assertThat(store.batches(StoredBatch.State.OPEN)).extracting(StoredBatch::providerId)
                    .contains("batch_gone");
        }
    }

    @Test
    void theBudgetReservesEachBatchAtItsWorstCaseAndStopsBeforeOneThatDoesNotFit() throws Exception {
        Path prompts = prompts(PROMPTS);
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            // room for about 10 requests at their worst case (prompt bound + 16 output tokens) at the batch price
            var config = openAi(stub, 0);
            double worstOne;
            try (Teacher t = Teachers.create(config)) {
                var p = new dev.distill4j.core.Prompt("x", "What is 10 plus 10?", null, null, "f", 1);
                worstOne = batchBudget(null).cost(t.size(new TeacherRequest(p, 0, "k")).worstCase());
            }
            Budget budget = batchBudget(worstOne * 10.5);
            var r = harvest(config, store, options(prompts, 100), budget);
            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.BUDGET_REACHED);
            long done = store.count(SampleStatus.DONE);
            assertThat(done).isBetween(8L, 11L);
            assertThat(stub.batchBilledAnswers()).isEqualTo(done);
            assertThat(stub.billedUsd(PRICE_IN, PRICE_OUT)).isLessThanOrEqualTo(budget.limitUsd());
            assertThat(budget.spentUsd()).isCloseTo(stub.billedUsd(PRICE_IN, PRICE_OUT), within(1e-12));
        }
    }

    // ------------------------------------------------------------------ Anthropic: a create call whose answer was lost

    private static final java.util.regex.Pattern SAMPLE_KEY = java.util.regex.Pattern.compile("[0-9a-f]{32}");

    /** A harvest against the Anthropic stub with list pages of 2 (so a look-up walks several) and a quick backoff. */
    private BatchHarvester.Result harvestAnthropic(AnthropicStub stub, RunStore store, BatchHarvester.Options o,
                                                   Budget budget) throws Exception {
        TeacherConfig config = anthropic(stub);
        try (Teacher t = Teachers.create(config);
             AnthropicBatchApi api = ((AnthropicBatchApi) BatchApi.of(t, config)).listPage(2)) {
            return new BatchHarvester((HttpTeacher) t, api, store, o, budget,
                    new Backoff(Duration.ofMillis(5), 2.0, Duration.ofMillis(40), 4, new java.util.Random(7))).run();
        }
    }

    private static boolean isCreate(RecordedRequest q) {
        return q.method().equals("POST") && q.path().equals("/v1/messages/batches");
    }

    private static boolean isList(RecordedRequest q) {
        return q.method().equals("GET") && q.path().equals("/v1/messages/batches");
    }

    /** Create calls this run's harvester made (its custom ids are sample keys), not the other client's. */
    private static long ourCreates(AnthropicStub stub) {
        return stub.requests().stream().filter(BatchHarvesterTest::isCreate)
                .filter(q -> SAMPLE_KEY.matcher(q.json().get("requests").get(0).get("custom_id").asText()).matches())
                .count();
    }

    /** Batches the stub holds, by its own list. */
    private static int batchesMade(OtherAnthropicClient client) throws Exception {
        return Json.parse(client.list("limit=1000").body()).get("data").size();
    }

    private static BatchHarvester.Options anthropicOptions(Path prompts, int batchSize, boolean resubmitUnconfirmed) {
        return new BatchHarvester.Options(prompts, 1, false, false, 3, Duration.ofMillis(5), Duration.ofMillis(40),
                batchSize, resubmitUnconfirmed);
    }

    @Test
    void anthropicBatchWhoseCreateAnswerWasLostIsFoundByTheNextRunAndNotBoughtTwice() throws Exception {
        Path prompts = prompts(PROMPTS);
        try (AnthropicStub stub = AnthropicStub.start().requireApiKey(KEY);
             OtherAnthropicClient other = new OtherAnthropicClient(stub, KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            java.util.concurrent.atomic.AtomicInteger creates = new java.util.concurrent.atomic.AtomicInteger();
            AtomicBoolean listDown = new AtomicBoolean(true);
            // the second batch is made, then the connection drops halfway through its answer; the list is down, so
            // this run cannot look for it and stops with the batch stored as submitting
            stub.onRequest(q -> isCreate(q) && creates.incrementAndGet() == 2 ? Fault.truncatedBody()
                    : isList(q) && listDown.get() ? Fault.status(500) : null);
            var first = harvestAnthropic(stub, store, anthropicOptions(prompts, 10, false), batchBudget(null));
            assertThat(first.outcome()).isEqualTo(Harvester.Outcome.FATAL);
            assertThat(first.fatal().getMessage()).contains("looking for the batch at the provider failed",
                    "the next run looks for it again");
            assertThat(store.batches(StoredBatch.State.OPEN)).hasSize(1);
            assertThat(store.batches(StoredBatch.State.SUBMITTING)).hasSize(1);
            assertThat(ourCreates(stub)).isEqualTo(2);

            // meanwhile another client of the workspace makes batches of other sizes
            for (int n : new int[] {9, 11, 12}) other.create(n, "other" + n);
            listDown.set(false);
            Budget budget = batchBudget(null);
            var second = harvestAnthropic(stub, store, anthropicOptions(prompts, 10, false), budget);
            assertThat(second.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            // the first batch (known to the run, also of 10) is no candidate; the lost one is adopted
            assertThat(second.notes()).anyMatch(n -> n.contains("found it again by its creation time and request"
                    + " count"));
            assertThat(second.progress().resumed()).isEqualTo(20);
            assertThat(ourCreates(stub)).as("the third batch only").isEqualTo(3);
            assertThat(stub.requests()).filteredOn(BatchHarvesterTest::isList)
                    .anyMatch(q -> q.queryParams().containsKey("after_id")); // the look-up paged
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(PROMPTS);
            assertThat(store.batches(StoredBatch.State.COLLECTED)).hasSize(3);
            assertThat(stub.batchBilledAnswers()).isEqualTo(PROMPTS);
            double stored = 0;
            for (Sample s : doneSamples(store)) stored += s.costUsd();
            assertThat(stored).isCloseTo(stub.billedUsd(PRICE_IN, PRICE_OUT), within(1e-12));
            assertThat(budget.spentUsd()).isCloseTo(stored, within(1e-12));
        }
    }

    @Test
    void anthropicBatchWhoseCreateAnswerWasLostIsFoundWithinTheRun() throws Exception {
        Path prompts = prompts(PROMPTS);
        try (AnthropicStub stub = AnthropicStub.start().requireApiKey(KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            java.util.concurrent.atomic.AtomicInteger creates = new java.util.concurrent.atomic.AtomicInteger();
            stub.onRequest(q -> isCreate(q) && creates.incrementAndGet() == 2 ? Fault.truncatedBody() : null);
            var r = harvestAnthropic(stub, store, anthropicOptions(prompts, 10, false), batchBudget(null));
            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            assertThat(r.notes()).anyMatch(n -> n.contains("the answer to its create call was lost; found it by its"
                    + " creation time and request count"));
            assertThat(ourCreates(stub)).isEqualTo(3);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(PROMPTS);
            assertThat(stub.batchBilledAnswers()).isEqualTo(PROMPTS);
        }
    }

    @Test
    void anthropicLostCreateWithNoBatchMadeIsSubmittedAgainOnce() throws Exception {
        Path prompts = prompts(10);
        try (AnthropicStub stub = AnthropicStub.start().requireApiKey(KEY);
             OtherAnthropicClient other = new OtherAnthropicClient(stub, KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            // the connection is dropped before the stub makes anything
            stub.enqueue(Fault.connectionReset());
            var r = harvestAnthropic(stub, store, anthropicOptions(prompts, 100, false), batchBudget(null));
            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            assertThat(ourCreates(stub)).isEqualTo(2);
            assertThat(stub.requests()).filteredOn(BatchHarvesterTest::isList).hasSize(1); // looked, found none
            assertThat(batchesMade(other)).isEqualTo(1);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(10);
            assertThat(stub.batchBilledAnswers()).isEqualTo(10);
        }
    }

    @Test
    void anthropicLostCreateWithTwoCandidatesStopsUntilTheirResultsTellThemApart() throws Exception {
        Path prompts = prompts(10);
        try (AnthropicStub stub = AnthropicStub.start().requireApiKey(KEY);
             OtherAnthropicClient other = new OtherAnthropicClient(stub, KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            String theirs = other.create(10, "other"); // the same size, a moment earlier
            java.util.concurrent.atomic.AtomicInteger creates = new java.util.concurrent.atomic.AtomicInteger();
            stub.onRequest(q -> isCreate(q) && creates.incrementAndGet() == 1 ? Fault.truncatedBody() : null);
            var first = harvestAnthropic(stub, store, anthropicOptions(prompts, 100, false), batchBudget(null));
            assertThat(first.outcome()).isEqualTo(Harvester.Outcome.FATAL);
            var unconfirmed = (BatchHarvester.UnconfirmedBatchException) first.fatal();
            assertThat(unconfirmed.candidateIds()).hasSize(2).contains(theirs);
            String ours = unconfirmed.candidateIds().stream().filter(id -> !id.equals(theirs)).findFirst()
                    .orElseThrow();
            assertThat(unconfirmed.getMessage()).contains(theirs, ours, "in_progress", "Nothing was submitted again",
                    "--resubmit-unconfirmed", "once they have ended");
            assertThat(store.batches(StoredBatch.State.SUBMITTING)).hasSize(1);

            // rerun while both still run: the same stop, nothing submitted
            var second = harvestAnthropic(stub, store, anthropicOptions(prompts, 100, false), batchBudget(null));
            assertThat(second.outcome()).isEqualTo(Harvester.Outcome.FATAL);
            assertThat(second.fatal()).isInstanceOf(BatchHarvester.UnconfirmedBatchException.class);
            assertThat(ourCreates(stub)).isEqualTo(1);
            assertThat(stub.batchBilledAnswers()).isZero();

            // once both have ended, their results say which is ours
            for (String id : List.of(theirs, ours)) {
                other.poll(id);
                assertThat(other.poll(id).get("processing_status").asText()).isEqualTo("ended");
            }
            Budget budget = batchBudget(null);
            var third = harvestAnthropic(stub, store, anthropicOptions(prompts, 100, false), budget);
            assertThat(third.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            assertThat(third.notes()).anyMatch(n -> n.contains("batch " + ours) && n.contains("by its results"));
            assertThat(store.batches(StoredBatch.State.COLLECTED)).extracting(StoredBatch::providerId)
                    .containsExactly(ours);
            assertThat(ourCreates(stub)).isEqualTo(1);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(10);
            assertThat(stub.batchBilledAnswers()).as("ours and theirs, each once").isEqualTo(20);
            double stored = 0;
            for (Sample s : doneSamples(store)) stored += s.costUsd();
            assertThat(stored).isPositive();
            assertThat(budget.spentUsd()).isCloseTo(stored, within(1e-12));
        }
    }

    @Test
    void resubmitUnconfirmedSubmitsTheRequestsAgainKnowingly() throws Exception {
        Path prompts = prompts(10);
        try (AnthropicStub stub = AnthropicStub.start().requireApiKey(KEY);
             OtherAnthropicClient other = new OtherAnthropicClient(stub, KEY);
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            other.create(10, "other");
            java.util.concurrent.atomic.AtomicInteger creates = new java.util.concurrent.atomic.AtomicInteger();
            stub.onRequest(q -> isCreate(q) && creates.incrementAndGet() == 1 ? Fault.truncatedBody() : null);
            var r = harvestAnthropic(stub, store, anthropicOptions(prompts, 100, true), batchBudget(null));
            assertThat(r.outcome()).isEqualTo(Harvester.Outcome.COMPLETE);
            assertThat(r.notes()).anyMatch(n -> n.startsWith("--resubmit-unconfirmed") && n.contains("bought twice"));
            assertThat(ourCreates(stub)).isEqualTo(2);
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(10);
        }
    }

    private static List<Sample> doneSamples(RunStore store) {
        List<Sample> done = new ArrayList<>();
        store.forEachSample(SampleStatus.DONE, (p, s) -> done.add(s));
        return done;
    }
}
