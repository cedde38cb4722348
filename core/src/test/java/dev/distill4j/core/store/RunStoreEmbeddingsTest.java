package dev.distill4j.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.SampleKey;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunStoreEmbeddingsTest {
    @TempDir Path dir;

    private static StoredEmbedding emb(String text, float... v) {
        return new StoredEmbedding(SampleKey.embedding("openai", "m", 0, text), "openai", "m", 0, text, v, 3, "req_1",
                Instant.ofEpochMilli(1_700_000_000_000L));
    }

    @Test
    void embeddingsRoundTripBitExactAndTheFirstVectorOfAKeyWins() throws Exception {
        float[] v = {0.1f, -0.0f, Float.MIN_VALUE, 1e30f};
        try (RunStore store = RunStore.open(dir)) {
            store.putEmbeddings(List.of(emb("hello", v), emb("world", 1, 2, 3, 4)));
            store.putEmbeddings(List.of(emb("hello", 9, 9, 9, 9)));
            Map<String, StoredEmbedding> found = store.findEmbeddings(List.of(
                    SampleKey.embedding("openai", "m", 0, "hello"), SampleKey.embedding("openai", "m", 0, "absent")));
            assertThat(found).hasSize(1);
            StoredEmbedding e = found.values().iterator().next();
            assertThat(e.vector()).containsExactly(v);
            assertThat(e.text()).isEqualTo("hello");
            assertThat(e.promptTokens()).isEqualTo(3);
            assertThat(e.createdAt()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
            assertThat(store.embeddingStats("openai", "m", 0)).isEqualTo(new RunStore.EmbeddingStats(2, 4, 6));
            assertThat(store.embeddingStats("openai", "m", 256).count()).isZero();
        }
        // little-endian float32 on disk, as documented
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT vector, dims FROM embeddings WHERE text = 'world'")) {
            assertThat(rs.getBytes(1)).startsWith((byte) 0, (byte) 0, (byte) 0x80, (byte) 0x3f);
            assertThat(rs.getInt(2)).isEqualTo(4);
        }
    }

    @Test
    void theKeyDependsOnTextTeacherModelAndDims() {
        String k = SampleKey.embedding("openai", "m", 0, "t");
        assertThat(k).isEqualTo(SampleKey.embedding("openai", "m", 0, "t")).hasSize(32);
        assertThat(List.of(SampleKey.embedding("openai", "m", 0, "t "), SampleKey.embedding("openai", "m2", 0, "t"),
                SampleKey.embedding("openai", "m", 256, "t"), SampleKey.embedding("other", "m", 0, "t")))
                .doesNotContain(k).doesNotHaveDuplicates();
    }

    @Test
    void aVersion1RunIsMigratedAndKeepsItsPrompts() throws Exception {
        try (RunStore store = RunStore.open(dir)) {
            store.putPrompts(List.of(RunStoreTest.textPrompt("p1", "an old prompt")));
        }
        // make it look as version 1 wrote it: no embeddings table, user_version 1
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
             Statement st = c.createStatement()) {
            st.execute("DROP TABLE embeddings");
            st.execute("PRAGMA user_version = 1");
        }
        try (RunStore store = RunStore.open(dir)) {
            assertThat(store.prompt("p1")).isPresent();
            store.putEmbeddings(List.of(emb("new", 1, 0)));
            assertThat(store.embeddingCount()).isEqualTo(1);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(RunStore.FILE));
             Statement st = c.createStatement()) {
            assertThat(st.executeQuery("PRAGMA user_version").getInt(1)).isEqualTo(RunStore.SCHEMA_VERSION);
        }
    }
}
