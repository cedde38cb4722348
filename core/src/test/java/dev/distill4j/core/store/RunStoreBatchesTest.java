package dev.distill4j.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Capability;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batch tables of schema version 3 (docs/run-store.md): what a resumed {@code harvest --batch} relies on. */
class RunStoreBatchesTest {
    @TempDir Path dir;

    private static StoredBatch submitting(String id, int requests) {
        return new StoredBatch(id, "openai", null, null, StoredBatch.State.SUBMITTING, null, requests, 0.25, null,
                Instant.ofEpochMilli(1000), Instant.ofEpochMilli(1000));
    }

    private static Sample pending(String key) {
        return Sample.builder(key, "p-" + key, 0).capability(Capability.TEXT).build();
    }

    @Test
    void aBatchGoesFromSubmittingToOpenToCollectedAndHoldsItsSamplesUntilThen() throws Exception {
        try (RunStore store = RunStore.open(dir)) {
            store.putPending(List.of(pending("k1"), pending("k2"), pending("k3")));
            store.putBatch(submitting("b-1", 2), List.of("k2", "k1"));
            assertThat(store.keysInOpenBatches(List.of("k1", "k2", "k3"))).containsExactlyInAnyOrder("k1", "k2");
            assertThat(store.batchSampleKeys("b-1")).containsExactly("k2", "k1");

            StoredBatch open = store.batches(StoredBatch.State.SUBMITTING).getFirst()
                    .accepted("batch_abc", "file-1", "validating", "{}");
            store.updateBatch(open);
            StoredBatch read = store.batches(StoredBatch.State.OPEN).getFirst();
            assertThat(read.providerId()).isEqualTo("batch_abc");
            assertThat(read.inputFileId()).isEqualTo("file-1");
            assertThat(read.reservedUsd()).isEqualTo(0.25);
            assertThat(read.createdAt()).isEqualTo(Instant.ofEpochMilli(1000));

            store.collectBatch(read.with(StoredBatch.State.OPEN, "completed", "{\"x\":1}"), List.of(
                    pending("k1").toBuilder().status(SampleStatus.DONE).text("a").build(),
                    pending("k2").toBuilder().status(SampleStatus.FAILED).error("bad_request: no", null).build()));
            assertThat(store.batches(StoredBatch.State.COLLECTED)).singleElement()
                    .satisfies(b -> assertThat(b.status()).isEqualTo("completed"));
            assertThat(store.keysInOpenBatches(List.of("k1", "k2"))).isEmpty();
            assertThat(store.sample("k1").orElseThrow().status()).isEqualTo(SampleStatus.DONE);
            assertThat(store.sample("k2").orElseThrow().status()).isEqualTo(SampleStatus.FAILED);
        }
    }

    @Test
    void collectingIsAllOrNothingAndADroppedBatchFreesItsSamples() throws Exception {
        try (RunStore store = RunStore.open(dir)) {
            store.putPending(List.of(pending("k1")));
            store.putBatch(submitting("b-1", 1), List.of("k1"));
            // a batch that is not stored cannot be collected: its results are not stored either
            StoredBatch ghost = submitting("b-ghost", 1);
            assertThatThrownBy(() -> store.collectBatch(ghost, List.of(pending("k1").toBuilder()
                    .status(SampleStatus.DONE).text("a").build()))).isInstanceOf(RunStoreException.class);
            assertThat(store.sample("k1").orElseThrow().status()).isEqualTo(SampleStatus.PENDING);

            store.dropBatch("b-1");
            assertThat(store.batches(null)).isEmpty();
            assertThat(store.keysInOpenBatches(List.of("k1"))).isEmpty();
        }
    }

    @Test
    void aVersion2RunIsMigratedToTheCurrentVersion() throws Exception {
        try (RunStore store = RunStore.open(dir)) {
            store.putPending(List.of(pending("old")));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
             Statement st = c.createStatement()) {
            st.execute("DROP TABLE batch_samples");
            st.execute("DROP TABLE batches");
            st.execute("PRAGMA user_version = 2");
        }
        try (RunStore store = RunStore.open(dir)) {
            assertThat(store.sample("old")).isPresent();
            store.putBatch(submitting("b-1", 1), List.of("old"));
            assertThat(store.keysInOpenBatches(List.of("old"))).containsExactly("old");
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
             Statement st = c.createStatement()) {
            assertThat(st.executeQuery("PRAGMA user_version").getInt(1)).isEqualTo(RunStore.SCHEMA_VERSION);
        }
    }

    /**
     * Version 3 → 4 adds the teacher score tables, which version-3 on-policy runs created on first use: a store
     * without them gains them, one with them keeps its rows.
     */
    @Test
    void aVersion3RunGainsTheScoreTablesAndKeepsScoresItHad() throws Exception {
        try (RunStore store = RunStore.open(dir)) {
            store.putPending(List.of(pending("old")));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
             Statement st = c.createStatement()) {
            st.execute("DROP TABLE teacher_dialects");
            st.execute("PRAGMA user_version = 3");
            st.execute("INSERT INTO teacher_scores (key, teacher, model, dialect, top_k, text, tokens, created_at)"
                    + " VALUES ('k', 'http://t/v1/completions', 'm', 'echo', 0, 'hi', x'00', 1)");
        }
        try (ScoreStore scores = ScoreStore.open(dir)) {
            scores.putDialect("http://t/v1/completions", "m", "echo");
            assertThat(scores.dialect("http://t/v1/completions", "m")).hasValue("echo");
            assertThat(scores.spend("m").scores()).isEqualTo(1);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
             Statement st = c.createStatement()) {
            assertThat(st.executeQuery("PRAGMA user_version").getInt(1)).isEqualTo(4);
        }
    }
}
