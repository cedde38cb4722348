package dev.distill4j.guard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.embed.EmbeddingModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The traffic bench's embedding cache: vectors survive a reopen, and two writers of one file keep both's vectors. */
class EmbeddingCacheTest {
    /** A stand-in for bge-small: the text's length and first character, counting the texts it was asked for. */
    static final class Counting implements EmbeddingModel {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public float[][] embed(List<String> texts) {
            calls.addAndGet(texts.size());
            return texts.stream().map(t -> new float[] {t.length(), t.charAt(0)}).toArray(float[][]::new);
        }

        @Override public int dimension() { return 2; }
        @Override public String name() { return "counting"; }
        @Override public void close() {}
    }

    @Test
    void twoWritersOfOneFileKeepEachOthersVectors(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("cache.bin");
        Counting model = new Counting();
        // both open the file before either writes, as two bench runs started together do
        EmbeddingCache a = new EmbeddingCache(file, "c", 2, () -> model);
        EmbeddingCache b = new EmbeddingCache(file, "c", 2, () -> model);
        a.warm(List.of("alpha", "beta"));
        b.warm(List.of("gamma"));
        EmbeddingCache reopened = new EmbeddingCache(file, "c", 2, () -> model);
        assertThat(reopened.size()).isEqualTo(3);
        int before = model.calls.get();
        assertThat(reopened.embed(List.of("beta", "gamma"))).isDeepEqualTo(new float[][] {{4, 'b'}, {5, 'g'}});
        assertThat(model.calls.get()).isEqualTo(before); // read from the file, not embedded again
    }
}
