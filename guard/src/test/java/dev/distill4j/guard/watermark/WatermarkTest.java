package dev.distill4j.guard.watermark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.guard.detect.Detector;
import dev.distill4j.guard.detect.TokenScores;
import dev.distill4j.guard.detect.TupleSet;
import dev.distill4j.guard.stats.PValue;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.generate.TokenChooser;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.serve.TinyModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Each scheme, applied in the real generator of a (tiny, random) model, is found by its key and by no other. */
class WatermarkTest {
    @TempDir static Path dir;
    static LocalModel model;
    static List<int[]> prompts;

    @BeforeAll
    static void load() throws Exception {
        model = LocalModel.load(TinyModel.write(dir.resolve("tiny"), 64, 2, 4, 2, 128, 256));
        prompts = new ArrayList<>();
        String[] words = {"the", "river", "stone", "light", "seven", "garden", "window", "north"};
        for (int i = 0; i < 24; i++) {
            prompts.add(model.encodeText(words[i % 8] + " " + words[(i * 3 + 1) % 8] + " " + i));
        }
    }

    @AfterAll
    static void close() { model.close(); }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("dev.distill4j.guard.watermark.Keys#schemes")
    void generatedTextCarriesItsKeyAndNoOther(WatermarkKey.Scheme scheme, Map<String, Object> params) {
        Watermark wm = Watermark.of(Keys.of(scheme, params, model.tokenizer(), 1));
        Watermark other = Watermark.of(Keys.of(scheme, params, model.tokenizer(), 2));
        List<int[]> marked = generate(wm);
        List<int[]> plain = generate(TokenChooser.SAMPLE);

        assertThat(pooled(wm, marked).log10()).as("own key on its text").isLessThan(-6);
        assertThat(pooled(other, marked).value()).as("another key on the same text").isGreaterThan(0.01);
        assertThat(pooled(wm, plain).value()).as("the key on unwatermarked text").isGreaterThan(0.01);
    }

    /** Prompt + continuation ids of every prompt, sampled at temperature 1 with the given chooser. */
    private static List<int[]> generate(TokenChooser chooser) {
        model.setTokenChooser(chooser);
        try {
            SamplingParams params = SamplingParams.greedy(48).withSampling(1.0, 0, 1.0, 7);
            List<Generation> out = model.generator().generate(prompts, params);
            List<int[]> seqs = new ArrayList<>();
            for (int i = 0; i < out.size(); i++) {
                int[] p = prompts.get(i);
                int[] g = out.get(i).tokenIds();
                int[] all = java.util.Arrays.copyOf(p, p.length + g.length);
                System.arraycopy(g, 0, all, p.length, g.length);
                seqs.add(all);
            }
            return seqs;
        } finally {
            model.setTokenChooser(TokenChooser.SAMPLE);
        }
    }

    private static PValue pooled(Watermark wm, List<int[]> seqs) {
        TupleSet tape = new TupleSet();
        double total = 0;
        long n = 0;
        for (int i = 0; i < seqs.size(); i++) {
            TokenScores s = Detector.score(wm, seqs.get(i), prompts.get(i).length, tape);
            total += s.total();
            n += s.scored();
        }
        assertThat(n).as("scored tokens").isGreaterThan(300);
        return wm.pValue(total, n);
    }
}
