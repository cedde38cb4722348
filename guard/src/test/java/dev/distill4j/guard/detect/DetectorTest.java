package dev.distill4j.guard.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.guard.watermark.Keys;
import dev.distill4j.guard.watermark.TokenizerFingerprint;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.generate.TokenChooser;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.serve.TinyModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DetectorTest {
    @TempDir static Path dir;
    static LocalModel model;
    static Watermark kgw;
    static Detector detector;

    @BeforeAll
    static void load() throws Exception {
        model = LocalModel.load(TinyModel.write(dir.resolve("tiny"), 64, 2, 4, 2, 128, 512));
        // a strong bias: the tiny random model has little entropy to hide a weak one in
        kgw = Watermark.of(Keys.of(WatermarkKey.Scheme.KGW, Map.of("delta", 4.0), model.tokenizer(), 1));
        detector = new Detector(kgw, model.tokenizer(), "the tiny model");
    }

    @AfterAll
    static void close() { model.close(); }

    @Test
    void aRepeatedTextCountsOnceInThePooledResult() {
        String text = generate(kgw, "the river", 120, 1);
        Detector.Report one = detector.detect(List.of(new Detector.Input("a", null, text)), false, 0);
        Detector.Report twice = detector.detect(List.of(new Detector.Input("a", null, text),
                new Detector.Input("b", null, text)), false, 0);
        assertThat(twice.pooled().scored()).isEqualTo(one.pooled().scored());
        assertThat(twice.pooled().pValue()).isEqualTo(one.pooled().pValue());
        assertThat(twice.pooled().skipped()).isEqualTo(one.pooled().skipped() + one.texts().getFirst().tokens()
                - kgw.contextWidth());
        // each text alone still gets its own verdict
        assertThat(twice.texts().get(1).pValue()).isEqualTo(one.texts().getFirst().pValue());
        assertThat(one.texts().getFirst().pValue().log10()).isLessThan(-4);
    }

    @Test
    void promptTokensAreContextNeverScore() {
        String prompt = "a prompt the user wrote, with words the answer echoes";
        Detector.Report r = detector.detect(List.of(new Detector.Input("x", prompt, prompt)), false, 0);
        // the answer repeats the prompt: every tuple but the first (whose window spans the boundary) was seen there
        assertThat(r.texts().getFirst().scored()).isLessThanOrEqualTo(1);
    }

    @Test
    void winMaxFindsAWatermarkedPassagePastedIntoPlainText() {
        String before = generate(TokenChooser.SAMPLE, "north garden", 200, 2);
        String marked = generate(kgw, "the stone", 80, 3);
        String after = generate(TokenChooser.SAMPLE, "seven windows", 200, 4);
        String text = before + marked + after;
        Detector.TextResult r = detector.detect(List.of(new Detector.Input("mix", null, text)), true, 20)
                .texts().getFirst();
        assertThat(r.passage()).isNotNull();
        assertThat(r.passage().corrected().log10()).as("corrected p of the passage").isLessThan(-2);
        assertThat(r.passage().corrected()).isLessThan(r.pValue());
        // the passage found overlaps the pasted one by most of its length
        int start = r.passageCharStart(), end = start + r.passageText().length();
        int overlap = Math.min(end, before.length() + marked.length()) - Math.max(start, before.length());
        assertThat(overlap).isGreaterThan(marked.length() / 2);
    }

    @Test
    void aKeyForAnotherTokenizerCannotDetect() {
        Watermark foreign = Watermark.of(Keys.of(WatermarkKey.Scheme.KGW, Map.of(),
                new TokenizerFingerprint("cd".repeat(32), 50_000), 1));
        assertThatThrownBy(() -> new Detector(foreign, model.tokenizer(), "tiny model"))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("50000 tokens");
    }

    private static String generate(TokenChooser chooser, String prompt, int tokens, long seed) {
        model.setTokenChooser(chooser);
        try {
            SamplingParams p = SamplingParams.greedy(tokens).withSampling(1.0, 0, 1.0, seed);
            return model.generate(model.encodeText(prompt), p).text();
        } finally {
            model.setTokenChooser(TokenChooser.SAMPLE);
        }
    }

}
