package dev.distill4j.guard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherSampling;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Radioactivity end to end on real models (see {@link AuditFixture}): a student distilled from watermarked answers
 * is radioactive in the open and the closed audit; the control student, trained the same way on the same teacher's
 * unwatermarked answers, is not; neither is the watermarked student under another key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RadioactivityTest {
    private AuditFixture f;
    private List<AuditText> watermarked;

    @BeforeAll
    void build(@TempDir Path tmp) throws IOException {
        f = new AuditFixture(tmp);
        watermarked = AuditText.read(f.watermarkedJsonl);
    }

    private AuditReport open(Path student, Watermark wm) throws IOException {
        try (LocalModel m = LocalModel.load(student)) {
            return OpenAudit.of(wm, m, 1024).run(watermarked, AuditProgress.NONE);
        }
    }

    @Test
    void openAuditTellsTheWatermarkedStudentFromTheControl() throws IOException {
        Watermark wm = Watermark.of(f.key);
        AuditReport student = open(f.watermarkedStudent, wm);
        AuditReport control = open(f.controlStudent, wm);
        AuditReport otherKey = open(f.watermarkedStudent, Watermark.of(f.otherKey));
        for (AuditReport r : List.of(student, control, otherKey)) System.out.println(String.join("\n", r.summary(1e-3)));

        assertThat(student.pValue().value()).isLessThan(1e-3);
        assertThat(student.radioactive(1e-3)).isTrue();
        assertThat(student.meanScore()).isGreaterThan(0.25);
        assertThat(control.pValue().value()).isGreaterThan(0.01);
        assertThat(otherKey.pValue().value()).isGreaterThan(0.01);
        assertThat(control.scored()).isGreaterThan(100);
        // the counts add up: every text token is scored or removed by one filter
        long removed = student.filtered().values().stream().mapToLong(Long::longValue).sum();
        assertThat(student.scored() + removed).isEqualTo(student.positions());
    }

    @Test
    void closedAuditOverRealHttp() throws IOException {
        Watermark wm = Watermark.of(f.key);
        long t0 = System.nanoTime();
        AuditReport student = closed(f.watermarkedStudent, wm);
        AuditReport control = closed(f.controlStudent, wm);
        System.out.println(String.join("\n", student.summary(1e-3)));
        System.out.println(String.join("\n", control.summary(1e-3)));
        System.out.printf("closed audits: %.1f s%n", (System.nanoTime() - t0) / 1e9);

        assertThat(student.pValue().value()).isLessThan(1e-3);
        assertThat(control.pValue().value()).isGreaterThan(0.01);
        assertThat(student.extra().get("answers")).isEqualTo((long) AuditFixture.PROMPTS);
        assertThat(student.extra().get("requests")).isEqualTo((long) AuditFixture.PROMPTS);
        assertThat(student.filtered().get(Filter.NOT_IN_DATA) + student.scored()).isPositive();
    }

    private AuditReport closed(Path student, Watermark wm) throws IOException {
        try (LocalModel m = LocalModel.load(student);
             OpenAiServer server = OpenAiServer.builder().setModel(m).optServedModelName("suspect").optPort(0)
                     .optMaxBatch(16).build();
             HfTokenizer tok = HfTokenizer.load(f.tokenizerDir)) {
            int port = server.start();
            TeacherSampling sampling = new TeacherSampling(0.8, null, AuditFixture.MAX_NEW, false, 5L, List.of(), 0,
                    null);
            try (Teacher client = ClosedAudit.client(URI.create("http://127.0.0.1:" + port + "/v1"), "suspect", null,
                    Map.of(), sampling, Duration.ofSeconds(60))) {
                return new ClosedAudit(wm, tok, client, 16, new Backoff(2)).run(watermarked, f.prompts, 1,
                        AuditProgress.NONE);
            }
        }
    }

    @Test
    void aSuspectWithAnotherTokenizerIsOutOfScope() throws IOException {
        try (LocalModel m = LocalModel.load(f.watermarkedStudent)) {
            var other = new dev.distill4j.guard.watermark.WatermarkKey(f.key.scheme(), f.key.params(),
                    new dev.distill4j.guard.watermark.TokenizerFingerprint("ab".repeat(32), 999), f.key.secret());
            assertThatThrownBy(() -> OpenAudit.of(Watermark.of(other), m, 1024))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("out of scope");
        }
    }
}
