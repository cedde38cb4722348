package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.InvalidInputException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CachedEmbeddingModelTest {
    @TempDir Path tmp;

    /** A deterministic model that records what it was asked: letter counts of the text, unit length. */
    static final class Counting implements EmbeddingModel {
        final List<String> asked = new ArrayList<>();
        final int dim;

        Counting(int dim) { this.dim = dim; }

        @Override
        public float[][] embed(List<String> texts) {
            asked.addAll(texts);
            float[][] out = new float[texts.size()][dim];
            for (int i = 0; i < out.length; i++) {
                for (char c : texts.get(i).toCharArray()) out[i][c % dim] += 1;
                Vectors.normalize(out[i]);
            }
            return out;
        }

        @Override public int dimension() { return dim; }

        @Override public String name() { return "counting"; }
    }

    @Test
    void asksTheTeacherOnlyForNewTextsAndKeepsThemAcrossOpens() throws Exception {
        Counting t = new Counting(8);
        CachedEmbeddingModel c = CachedEmbeddingModel.open(t, tmp);
        float[][] first = c.embed(List.of("alpha", "beta", "alpha"));
        assertThat(t.asked).containsExactly("alpha", "beta");
        assertThat(first[0]).containsExactly(first[2]);
        assertThat(first[1]).containsExactly(new Counting(8).embed(List.of("beta"))[0]);

        CachedEmbeddingModel again = CachedEmbeddingModel.open(t, tmp);
        assertThat(again.size()).isEqualTo(2);
        assertThat(again.missing(List.of("alpha", "gamma", "gamma"))).isEqualTo(1);
        float[][] second = again.embed(List.of("beta", "gamma"));
        assertThat(t.asked).containsExactly("alpha", "beta", "gamma");
        assertThat(second[0]).containsExactly(first[1]);
    }

    @Test
    void aRecordCutOffByAKilledProcessIsDroppedAndEmbeddedAgain() throws Exception {
        Counting t = new Counting(8);
        CachedEmbeddingModel.open(t, tmp).embed(List.of("alpha", "beta"));
        Path f = tmp.resolve("vectors.bin");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(f) - 5);   // half of beta's vector
        }
        CachedEmbeddingModel c = CachedEmbeddingModel.open(t, tmp);
        assertThat(c.size()).isEqualTo(1);
        c.embed(List.of("beta"));
        assertThat(t.asked).containsExactly("alpha", "beta", "beta");
        assertThat(CachedEmbeddingModel.open(t, tmp).size()).isEqualTo(2);
    }

    @Test
    void anotherTeachersCacheIsRefused() throws Exception {
        CachedEmbeddingModel.open(new Counting(8), tmp).embed(List.of("alpha"));
        assertThatThrownBy(() -> CachedEmbeddingModel.open(new Counting(4), tmp))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("8-d vectors").hasMessageContaining("4-d");
    }
}
