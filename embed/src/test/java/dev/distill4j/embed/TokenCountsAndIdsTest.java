package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.core.Json;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What /v1/embeddings relies on: token counts taken while embedding, and embedding from token ids. */
class TokenCountsAndIdsTest {
    static OnnxEmbeddingModel bge;
    static StaticEmbeddingModel table;   // bge's vocabulary, a seeded random table: exact sums to check against

    @BeforeAll
    static void load() throws Exception {
        bge = OnnxEmbeddingModel.load("bge-small-en-v1.5");
        int vocab = 30522, dim = 8;
        float[] t = new float[vocab * dim];
        Random rnd = new Random(3);
        for (int i = 0; i < t.length; i++) t[i] = (float) rnd.nextGaussian();
        table = new StaticEmbeddingModel("random", bge.tokenizerJson(), t, vocab, dim, Json.object());
    }

    @AfterAll
    static void close() {
        table.close();
        bge.close();
    }

    @Test
    void teacherCountsItsSpecialTokensAndTruncation() {
        long[] ids = bge.tokenize("Hello world");
        assertThat(ids).hasSize(4);                              // [CLS] hello world [SEP]
        assertThat(bge.countTokens("Hello world")).isEqualTo(4);
        assertThat(bge.countTokens("word ".repeat(600))).isEqualTo(512);
        EmbeddingModel.Embedded e = bge.embedCounting(List.of("Hello world", "word ".repeat(600)));
        assertThat(e.tokens()).containsExactly(4, 512);
        assertThat(e.totalTokens()).isEqualTo(516);
        assertThat(e.vectors()[0]).containsExactly(bge.embed("Hello world"));
    }

    @Test
    void teacherFramesTokenIdsAsItFramesText() {
        String text = "The band played a song at the concert.";
        long[] framed = bge.tokenize(text);
        long[] bare = Arrays.copyOfRange(framed, 1, framed.length - 1);
        assertThat(bge.withSpecialTokens(bare)).containsExactly(framed);
        float[] fromIds = bge.embedTokenIds(List.of(bare))[0];
        assertThat(Vectors.dot(fromIds, bge.embed(text))).isCloseTo(1.0, within(1e-5));
        long[] tooLong = new long[700];
        Arrays.fill(tooLong, bare[0]);
        long[] cut = bge.withSpecialTokens(tooLong);
        assertThat(cut).hasSize(512);
        assertThat(cut[0]).isEqualTo(framed[0]);
        assertThat(cut[511]).isEqualTo(framed[framed.length - 1]);
        assertThatThrownBy(() -> bge.embedTokenIds(List.of(new long[] {5, 30522})))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id 30522 in input 0");
    }

    @Test
    void staticModelSumsTheRowsOfGivenIds() {
        long[] ids = table.tokenize("Hello world");
        assertThat(ids).hasSize(2);                              // no special tokens: nothing but the words
        float[] expected = new float[8];
        for (long id : ids) {
            float[] row = table.row((int) id);
            for (int k = 0; k < 8; k++) expected[k] += row[k];
        }
        Vectors.normalize(expected);
        float[] fromIds = table.embedTokenIds(List.of(ids))[0];
        for (int k = 0; k < 8; k++) assertThat(fromIds[k]).isCloseTo(expected[k], within(1e-6f));
        assertThat(table.embed("Hello world")).containsExactly(fromIds);
        assertThat(table.countTokens("Hello world")).isEqualTo(2);
        assertThat(table.embedCounting(List.of("Hello world", "a")).tokens()).containsExactly(2, 1);
        assertThatThrownBy(() -> table.embedTokenIds(List.of(ids, new long[] {-1})))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id -1 in input 1");
    }

    @Test
    void defaultsCountWordsAndRefuseIds() {
        EmbeddingModel textOnly = new EmbeddingModel() {
            public float[][] embed(List<String> texts) { return table.embed(texts); }
            public int dimension() { return 8; }
            public String name() { return "text-only"; }
        };
        assertThat(textOnly.countTokens("  three  small words ")).isEqualTo(3);
        assertThat(textOnly.countTokens("   ")).isZero();
        assertThat(textOnly.embedCounting(List.of("a b", "c")).tokens()).containsExactly(2, 1);
        assertThat(textOnly.acceptsTokenIds()).isFalse();
        assertThatThrownBy(() -> textOnly.embedTokenIds(List.of(new long[] {1})))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("send text");
    }
}
