package dev.distill4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class SampleTest {
    private static final Instant T0 = Instant.parse("2026-01-02T03:04:05Z");

    @Test
    void builderStartsAsAFreshPendingSample() {
        Sample built = Sample.builder("k", "p", 2).build();

        assertThat(built).isEqualTo(new Sample("k", "p", 2, SampleStatus.PENDING, null, null, null, null, null, 0, 0,
                null, null, null, 0, null, null));
        assertThat(built.capability()).isEqualTo(Capability.TEXT);
        assertThat(built.tokens()).isEqualTo(TokenDistribution.EMPTY);
        assertThat(built.usage()).isEqualTo(Usage.ZERO);
    }

    @Test
    void builderSetsEveryFieldInItsPlace() {
        Sample built = Sample.builder("k", "p", 1).status(SampleStatus.FAILED).text("t").finishReason("length")
                .capability(Capability.topK(3)).usage(new Usage(4, 5)).costUsd(0.5).latencyMs(7).requestId("req")
                .error("http 500", "{}").attempts(3).createdAt(T0).updatedAt(T0.plusSeconds(9)).build();

        assertThat(built).isEqualTo(new Sample("k", "p", 1, SampleStatus.FAILED, "t", "length", Capability.topK(3),
                null, new Usage(4, 5), 0.5, 7, "req", "http 500", "{}", 3, T0, T0.plusSeconds(9)));
    }

    @Test
    void toBuilderCopiesEveryFieldAndChangesOnlyWhatIsSet() {
        Sample pending = Sample.builder("k", "p", 0).capability(Capability.FULL).requestId("r").error("x", "y")
                .attempts(2).costUsd(0.25).latencyMs(11).stored(T0).build();

        assertThat(pending.toBuilder().build()).isEqualTo(pending);
        Sample done = pending.toBuilder().status(SampleStatus.DONE).text("answer").updatedAt(T0.plusSeconds(1)).build();
        assertThat(done).isEqualTo(new Sample("k", "p", 0, SampleStatus.DONE, "answer", null, Capability.FULL, null,
                null, 0.25, 11, "r", "x", "y", 2, T0, T0.plusSeconds(1)));
    }
}
