package dev.distill4j.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The README's demo is the one docs/benchmarks.md measured: the default profile's settings, written out by
 * {@link DemoPipeline.Profile#describe}, appear there word for word. Changing a default without re-running the
 * benchmark (and updating its figures) fails here, so CI cannot drift from what the README promises.
 */
class DemoProfileTest {
    @Test
    void theDefaultProfileIsTheOneTheBenchmarkRan() throws Exception {
        Path benchmarks = Path.of("..", "docs", "benchmarks.md");
        assertThat(benchmarks).isRegularFile();
        assertThat(Files.readString(benchmarks)).contains(DemoPipeline.DEFAULT.describe());
    }

    @Test
    void theStudentIsOverSixTimesSmallerThanTheTeacherInTheDefaultProfile() throws Exception {
        long teacher = params(DemoPipeline.DEFAULT.teacher(), DemoPipeline.DEFAULT.vocab());
        long student = params(DemoPipeline.DEFAULT.student(), DemoPipeline.DEFAULT.vocab());
        assertThat((double) teacher / student).isGreaterThan(6.0);
    }

    /** Llama parameters with tied embeddings: embeddings, attention (q, o full; k, v by kv heads), SwiGLU, norms. */
    private static long params(dev.distill4j.model.ops.ModelInit.Spec s, int vocab) {
        long d = s.hidden();
        long headDim = d / s.heads();
        long kv = (long) s.kvHeads() * headDim;
        long inter = s.intermediate() != null ? s.intermediate()
                : dev.distill4j.model.ops.ModelInit.defaultIntermediate(s.hidden());
        long layer = d * d * 2 + d * kv * 2 + 3 * d * inter + 2 * d;
        return vocab * d + s.layers() * layer + d;
    }
}
