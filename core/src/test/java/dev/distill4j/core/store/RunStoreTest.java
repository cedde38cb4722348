package dev.distill4j.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Capability;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.Usage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunStoreTest {
    @TempDir Path dir;

    static Prompt textPrompt(String id, String text) {
        return new Prompt(id, text, null, null, "prompts.jsonl", 1);
    }

    static Sample pending(String key, String promptId, int index) {
        return Sample.builder(key, promptId, index).build();
    }

    static Sample done(String key, String promptId, int index, String text, long latencyMs) {
        Instant t = Instant.parse("2026-01-02T03:04:05.678Z");
        return Sample.builder(key, promptId, index).status(SampleStatus.DONE).text(text).finishReason("stop")
                .capability(Capability.topK(2))
                .tokens(TokenDistributionCodecTest.synthetic(3, 2, new Random(key.hashCode())))
                .usage(new Usage(10, 3, 4, 1)).costUsd(0.25).latencyMs(latencyMs).requestId("req-" + key).attempts(1)
                .createdAt(t).updatedAt(t.plusSeconds(1)).build();
    }

    static Sample failed(String key, String promptId, String cause) {
        return Sample.builder(key, promptId, 0).status(SampleStatus.FAILED)
                .error(cause, "{\"error\":\"" + cause + "\"}").attempts(3).build();
    }

    @Test
    void everythingSurvivesCloseAndReopen() throws IOException {
        Path run = dir.resolve("runs/a");
        var meta = Json.object().put("topic", "maths");
        Prompt chat = new Prompt("c1", null, List.of(Message.system("be brief"), Message.user("2+2?")), meta,
                "p.jsonl", 7);
        Prompt text = textPrompt("t1", "Hello 😀");
        Sample d = done("k1", "c1", 0, "4", 120);
        Sample f = failed("k2", "t1", "http 400: invalid_request_error");
        try (RunStore store = RunStore.open(run)) {
            store.putPrompts(List.of(chat, text));
            store.upsertSamples(List.of(d, f));
        }
        assertThat(run.resolve(RunStore.FILE)).isRegularFile();
        try (RunStore store = RunStore.openExisting(run)) {
            assertThat(store.promptCount()).isEqualTo(2);
            assertThat(store.prompt("c1")).contains(chat);
            assertThat(store.prompt("t1")).contains(text);
            assertThat(store.prompt("nope")).isEmpty();
            assertThat(store.sample("k1")).contains(d);
            Sample back = store.sample("k2").orElseThrow();
            assertThat(back).usingRecursiveComparison().ignoringFields("createdAt", "updatedAt").isEqualTo(f);
            assertThat(back.createdAt()).isCloseTo(Instant.now(), within60s());
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(1);
            assertThat(store.count(SampleStatus.FAILED)).isEqualTo(1);
            assertThat(store.count(SampleStatus.PENDING)).isZero();
        }
    }

    private static org.assertj.core.data.TemporalUnitOffset within60s() {
        return org.assertj.core.api.Assertions.within(60, ChronoUnit.SECONDS);
    }

    @Test
    void schemaIsVersionedAndWal() throws Exception {
        try (RunStore store = RunStore.open(dir)) {
            assertThat(store.dbFile()).isEqualTo(dir.resolve(RunStore.FILE));
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
                 Statement st = c.createStatement()) {
                assertThat(st.executeQuery("PRAGMA user_version").getInt(1)).isEqualTo(RunStore.SCHEMA_VERSION);
                assertThat(st.executeQuery("PRAGMA application_id").getInt(1)).isEqualTo(RunStore.APPLICATION_ID);
                assertThat(st.executeQuery("PRAGMA journal_mode").getString(1)).isEqualTo("wal");
            }
        }
    }

    @Test
    void openExistingWithoutAStoreSaysWhatToDo() {
        Path run = dir.resolve("missing");
        assertThatThrownBy(() -> RunStore.openExisting(run))
                .isInstanceOf(IOException.class)
                .hasMessage("no run at " + run + " (no samples.db): run `distill harvest --run " + run
                        + " ...` first");
        assertThat(run).doesNotExist();
    }

    @Test
    void randomBytesAreNotARunStore() throws IOException {
        byte[] noise = new byte[8192];
        new Random(42).nextBytes(noise);
        Files.write(dir.resolve(RunStore.FILE), noise);
        assertThatThrownBy(() -> RunStore.open(dir))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith(dir.resolve(RunStore.FILE) + " is not a distill4j run store: ");
        assertThatThrownBy(() -> RunStore.openExisting(dir))
                .hasMessageStartingWith(dir.resolve(RunStore.FILE) + " is not a distill4j run store: ");
    }

    @Test
    void anotherSqliteDatabaseIsNotARunStore() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE invoices (id INTEGER)");
        }
        assertThatThrownBy(() -> RunStore.open(dir))
                .hasMessageStartingWith(dir.resolve(RunStore.FILE) + " is not a distill4j run store: ")
                .hasMessageContaining("invoices");
    }

    @Test
    void aNewerSchemaAsksForANewerDistill4j() throws Exception {
        RunStore.open(dir).close(); // a store that the next version then wrote
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
             Statement st = c.createStatement()) {
            st.execute("PRAGMA user_version = " + (RunStore.SCHEMA_VERSION + 1));
        }
        assertThatThrownBy(() -> RunStore.open(dir))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("newer distill4j")
                .hasMessageContaining("schema version " + (RunStore.SCHEMA_VERSION + 1));
    }

    @Test
    void aRunDirThatIsAFileIsRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThatThrownBy(() -> RunStore.open(file)).isInstanceOf(IOException.class).hasMessageContaining("is a file");
    }

    @Test
    void putPromptsKeepsTheFirstPromptOfAnId() throws IOException {
        try (RunStore store = RunStore.open(dir)) {
            store.putPrompts(List.of(textPrompt("a", "first"), textPrompt("b", "b")));
            store.putPrompts(List.of(textPrompt("a", "second"), textPrompt("c", "c")));
            assertThat(store.promptCount()).isEqualTo(3);
            assertThat(store.prompt("a").orElseThrow().text()).isEqualTo("first");
        }
    }

    @Test
    void putPendingNeverDowngradesAStoredSample() throws IOException {
        try (RunStore store = RunStore.open(dir)) {
            store.putPrompts(List.of(textPrompt("p", "x")));
            store.upsertSamples(List.of(done("k-done", "p", 0, "answer", 5), failed("k-failed", "p", "timeout")));
            store.putPending(List.of(pending("k-done", "p", 0), pending("k-failed", "p", 0), pending("k-new", "p", 1)));

            assertThat(store.sample("k-done").orElseThrow().status()).isEqualTo(SampleStatus.DONE);
            assertThat(store.sample("k-done").orElseThrow().text()).isEqualTo("answer");
            assertThat(store.sample("k-failed").orElseThrow().status()).isEqualTo(SampleStatus.FAILED);
            assertThat(store.sample("k-failed").orElseThrow().attempts()).isEqualTo(3);
            assertThat(store.sample("k-new").orElseThrow().status()).isEqualTo(SampleStatus.PENDING);
            assertThat(store.count(SampleStatus.PENDING)).isEqualTo(1);
        }
    }

    @Test
    void upsertReplacesFieldsButKeepsCreatedAt() throws IOException {
        try (RunStore store = RunStore.open(dir)) {
            store.putPending(List.of(pending("k", "p", 0)));
            Instant created = store.sample("k").orElseThrow().createdAt();
            Sample answer = done("k", "p", 0, "later", 9);
            store.upsertSamples(List.of(answer));
            Sample back = store.sample("k").orElseThrow();
            assertThat(back.createdAt()).isEqualTo(created).isNotEqualTo(answer.createdAt());
            assertThat(back.updatedAt()).isEqualTo(answer.updatedAt());
            assertThat(back).usingRecursiveComparison().ignoringFields("createdAt").isEqualTo(answer);

            Sample retried = failed("k", "p", "http 500");
            store.upsertSamples(List.of(retried));
            assertThat(store.sample("k").orElseThrow().createdAt()).isEqualTo(created);
            assertThat(store.sample("k").orElseThrow().tokens()).isEqualTo(TokenDistribution.EMPTY);
            assertThat(store.sample("k").orElseThrow().text()).isNull();
        }
    }

    @Test
    void findLooksUpLargeBatchesInChunks() throws IOException {
        try (RunStore store = RunStore.open(dir)) {
            List<Sample> stored = IntStream.range(0, 1500).mapToObj(i -> pending("k" + i, "p" + i, 0)).toList();
            store.putPending(stored);
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 2500; i += 2) keys.add("k" + i);
            keys.add("k0");
            Map<String, Sample> found = store.find(keys);
            assertThat(found).hasSize(750);
            assertThat(found.keySet()).allMatch(k -> Integer.parseInt(k.substring(1)) % 2 == 0
                    && Integer.parseInt(k.substring(1)) < 1500);
            assertThat(found.get("k42").promptId()).isEqualTo("p42");
            assertThat(store.find(List.of())).isEmpty();
        }
    }

    @Test
    void forEachSampleStreamsInPromptOrderThenSampleIndex() throws IOException {
        try (RunStore store = RunStore.open(dir)) {
            // ids sort differently from insertion order, which is the order that counts
            store.putPrompts(List.of(textPrompt("z", "zz"), textPrompt("a", "aa"), textPrompt("m", "mm")));
            store.upsertSamples(List.of(done("a1", "a", 1, "a-1", 1), done("m0", "m", 0, "m-0", 1),
                    done("z1", "z", 1, "z-1", 1), failed("z0", "z", "x"), done("a0", "a", 0, "a-0", 1)));
            store.putPending(List.of(pending("m1", "m", 1), pending("orphan", "no-such-prompt", 0)));

            List<String> all = new ArrayList<>();
            store.forEachSample(null, (p, s) -> {
                assertThat(s.promptId()).isEqualTo(p.id());
                all.add(s.key());
            });
            assertThat(all).containsExactly("z0", "z1", "a0", "a1", "m0", "m1");

            List<String> doneTexts = new ArrayList<>();
            store.forEachSample(SampleStatus.DONE, (p, s) -> doneTexts.add(p.text() + ":" + s.text()));
            assertThat(doneTexts).containsExactly("zz:z-1", "aa:a-0", "aa:a-1", "mm:m-0");

            // the consumer may write to the store while the stream is open
            store.forEachSample(SampleStatus.PENDING, (p, s) -> store.upsertSamples(List.of(done(s.key(), p.id(),
                    s.sampleIndex(), "now", 2))));
            assertThat(store.count(SampleStatus.PENDING)).isEqualTo(1);
            assertThat(store.sample("m1").orElseThrow().status()).isEqualTo(SampleStatus.DONE);
        }
    }

    @Test
    void concurrentWritersFromSeveralThreadsAndTwoStoresLoseNothing() throws Exception {
        int threads = 4;
        int perThread = 300;
        try (RunStore a = RunStore.open(dir); RunStore b = RunStore.open(dir)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    RunStore store = t % 2 == 0 ? a : b; // two stores: as two processes on one run would
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i += 10) {
                            List<Prompt> prompts = new ArrayList<>();
                            List<Sample> samples = new ArrayList<>();
                            for (int j = i; j < i + 10; j++) {
                                String id = "t" + thread + "-" + j;
                                prompts.add(textPrompt(id, id));
                                samples.add(pending("k" + id, id, 0));
                            }
                            store.putPrompts(prompts);
                            store.putPending(samples);
                            store.find(samples.stream().map(Sample::key).toList());
                            store.upsertSamples(samples.stream()
                                    .map(s -> done(s.key(), s.promptId(), 0, "ok", 3)).toList());
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) f.get();
            } finally {
                pool.shutdown();
            }
            assertThat(a.promptCount()).isEqualTo(threads * perThread);
            assertThat(b.count(SampleStatus.DONE)).isEqualTo(threads * perThread);
            assertThat(a.count(SampleStatus.PENDING)).isZero();
        }
    }

    @Test
    void statsSummariseTheRun() throws IOException {
        try (RunStore store = RunStore.open(dir)) {
            assertThat(store.stats(3).samples()).isZero();
            assertThat(store.stats(3).p95LatencyMs()).isZero();

            List<Prompt> prompts = new ArrayList<>();
            List<Sample> samples = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                prompts.add(textPrompt("p" + i, "question   number\n" + i));
                samples.add(done("d" + i, "p" + i, 0, "answer " + i, (i + 1) * 10L));
            }
            samples.add(failed("f1", "p0", "http 429: rate limited"));
            samples.add(failed("f2", "p1", "http 429: rate limited"));
            samples.add(failed("f3", "p2", "timeout"));
            samples.add(failed("f4", "p3", null));
            for (int i = 0; i < 3; i++) {  // one kind, three messages (each quotes its own body): one line
                samples.add(failed("m" + i, "p" + (5 + i), "malformed_response (http 200): the teacher answered 200"
                        + " but its body lacks usage: {\"id\": \"x" + i + "\"}"));
            }
            store.putPrompts(prompts);
            store.upsertSamples(samples);
            store.putPending(List.of(pending("q", "p4", 1)));

            RunStats stats = store.stats(2);
            assertThat(stats.prompts()).isEqualTo(20);
            assertThat(stats.byStatus()).containsEntry(SampleStatus.DONE, 20L).containsEntry(SampleStatus.FAILED, 7L)
                    .containsEntry(SampleStatus.PENDING, 1L);
            assertThat(stats.samples()).isEqualTo(28);
            assertThat(stats.failureCauses()).containsExactly(
                    new RunStats.CauseCount("malformed_response (http 200)", 3, "malformed_response (http 200): the"
                            + " teacher answered 200 but its body lacks usage: {\"id\": \"x0\"}"),
                    new RunStats.CauseCount("http 429", 2, "http 429: rate limited"),
                    new RunStats.CauseCount("(no cause recorded)", 1, "(no cause recorded)"),
                    new RunStats.CauseCount("timeout", 1, "timeout"));
            assertThat(stats.totalUsage()).isEqualTo(new Usage(200, 60, 80, 20));
            assertThat(stats.costUsd()).isEqualTo(5.0);
            assertThat(stats.capabilities()).containsExactly("TOP_K(2)");
            assertThat(stats.meanLatencyMs()).isEqualTo(105.0);
            assertThat(stats.p95LatencyMs()).isEqualTo(190); // nearest rank: the 19th of 20
            assertThat(stats.examples()).hasSize(2);
            assertThat(stats.examples()).containsExactly(
                    new RunStats.Example("d0", "p0", 0, "question number 0", "answer 0"),
                    new RunStats.Example("d1", "p1", 0, "question number 1", "answer 1"));
        }
    }

    @Test
    void streamingNeverSortsInSqlite() throws Exception {
        try (RunStore store = RunStore.open(dir)) {
            List<Prompt> prompts = new ArrayList<>();
            List<Sample> samples = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                prompts.add(textPrompt("p" + i, "q"));
                samples.add(i % 3 == 0 ? failed("f" + i, "p" + i, "x") : done("d" + i, "p" + i, 0, "a", 1));
            }
            store.putPrompts(prompts);
            store.upsertSamples(samples);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
             Statement st = c.createStatement()) {
            // plans with the default estimates and with the statistics ANALYZE (run by PRAGMA optimize) gathers
            for (String prepare : List.of("SELECT 1", "ANALYZE")) {
                st.execute(prepare);
                for (boolean byStatus : List.of(false, true)) {
                    String sql = RunStore.joinedSamplesSql(byStatus, "").replace("?", "'done'");
                    StringBuilder plan = new StringBuilder();
                    try (var rs = st.executeQuery("EXPLAIN QUERY PLAN " + sql)) {
                        while (rs.next()) plan.append(rs.getString("detail")).append('\n');
                    }
                    assertThat(plan.toString()).as(sql).doesNotContain("TEMP B-TREE")
                            .contains("samples_by_prompt").doesNotContain("samples_by_status");
                }
            }
        }
    }

    @Test
    void statsListTheCapabilitiesOfDoneSamplesOnly() throws IOException {
        try (RunStore store = RunStore.open(dir)) {
            store.putPrompts(List.of(textPrompt("p", "q")));
            Sample topK = done("a", "p", 0, "x", 1);
            Sample text = Sample.builder("b", "p", 1).status(SampleStatus.DONE).text("y").finishReason("stop")
                    .latencyMs(1).attempts(1).build();
            Sample failedFull = Sample.builder("c", "p", 2).status(SampleStatus.FAILED).capability(Capability.FULL)
                    .error("x", null).attempts(1).build();
            store.upsertSamples(List.of(topK, text, failedFull));
            assertThat(store.stats(0).capabilities()).containsExactly("TEXT", "TOP_K(2)");
            assertThat(store.stats(0).examples()).isEmpty();
        }
    }

    @Test
    void previewsAreOneShortLine() {
        assertThat(RunStore.preview(" a\n\tb ")).isEqualTo("a b");
        assertThat(RunStore.preview("x".repeat(500))).hasSize(120).endsWith("…");
        assertThat(RunStore.preview(null)).isEmpty();
    }

    @Test
    void aClosedStoreSaysSo() throws IOException {
        RunStore store = RunStore.open(dir);
        store.close();
        store.close();
        assertThatThrownBy(store::promptCount).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }
}
