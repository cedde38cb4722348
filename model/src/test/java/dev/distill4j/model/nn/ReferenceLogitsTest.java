package dev.distill4j.model.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Logits of every family match the independent float64 PyTorch reference within 1e-4, padding included. */
class ReferenceLogitsTest {

    @ParameterizedTest
    @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3"})
    void logitsMatchReference(String family) throws IOException {
        ReferenceFixture f = ReferenceFixture.load(family);
        int[][] ids = f.ints("input_ids");
        int[][] mask = f.ints("attention_mask");
        double[][][] expected = f.logits();
        try (NDManager m = NDManager.newBaseManager("PyTorch"); CausalLM model = f.model(m)) {
            int b = ids.length, t = ids[0].length, v = f.config().vocabSize();
            NDArray logits = model.forward(m.create(flatten(ids), new Shape(b, t)),
                    m.create(flatten(mask), new Shape(b, t)), null);
            assertThat(logits.getShape()).isEqualTo(new Shape(b, t, v));
            float[] got = logits.toFloatArray();
            double worst = 0;
            int compared = 0;
            for (int bi = 0; bi < b; bi++) {
                for (int ti = 0; ti < t; ti++) {
                    if (mask[bi][ti] == 0) continue;    // padding rows are undefined in every implementation
                    for (int vi = 0; vi < v; vi++) {
                        worst = Math.max(worst, Math.abs(got[(bi * t + ti) * v + vi] - expected[bi][ti][vi]));
                        compared++;
                    }
                }
            }
            System.out.printf("%s: max abs logit difference %.3g over %d values%n", family, worst, compared);
            assertThat(compared).isGreaterThan(0);
            assertThat(worst).as("max |Δlogit| for %s", family).isLessThan(1e-4);
        }
    }

    static int[] flatten(int[][] a) {
        return java.util.Arrays.stream(a).flatMapToInt(java.util.Arrays::stream).toArray();
    }
}
