package dev.distill4j.guard.watermark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.guard.detect.Detector;
import dev.distill4j.guard.detect.TokenScores;
import dev.distill4j.guard.detect.TupleSet;
import dev.distill4j.guard.stats.Tails;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Under H0 (text that does not depend on the key) the p-values are uniform: Kolmogorov–Smirnov over 1,000 keys on
 * one fixed text. The text repeats phrases, so without the tuple de-duplication the repeated draws would inflate
 * the scores' variance and the test would fail. Binomial p-values are discrete, hence conservative; their
 * randomised version P(X > k) + U·P(X = k) is exactly uniform and is the one tested for KGW and SynthID.
 */
class NullCalibrationTest {
    private static final int KEYS = 1000;
    private static final TokenizerFingerprint TOKENIZER = new TokenizerFingerprint("0".repeat(64), 500);

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("dev.distill4j.guard.watermark.Keys#schemes")
    void pValuesOfUnwatermarkedTextAreUniformOverKeys(WatermarkKey.Scheme scheme, Map<String, Object> params) {
        int[] text = repetitiveText();
        SplittableRandom u = new SplittableRandom(3);
        double[] p = new double[KEYS];
        int atOnePercent = 0;
        for (int k = 0; k < KEYS; k++) {
            Watermark wm = Watermark.of(Keys.of(scheme, params, TOKENIZER, 1000 + k));
            TokenScores s = Detector.score(wm, text, 0, new TupleSet());
            double exact = wm.pValue(s.total(), s.scored()).value();
            if (exact <= 0.01) atOnePercent++;
            p[k] = scheme == WatermarkKey.Scheme.GUMBEL ? exact : randomized(wm, s, u.nextDouble());
        }
        // KS critical value at the 0.1 % level for n = 1000: 1.95 / √n
        assertThat(ksDistance(p)).isLessThan(1.95 / Math.sqrt(KEYS));
        // the exact test is valid: about α of keys reject (P(Bin(1000, 0.01) ≥ 26) < 1e-5; SynthID gives 22 here,
        // and 1.04 % over 20,000 keys)
        assertThat(atOnePercent).isLessThanOrEqualTo(25);
    }

    /** 400 tokens of phrases drawn with repetition from a small pool, so many (window, token) tuples recur. */
    private static int[] repetitiveText() {
        SplittableRandom r = new SplittableRandom(11);
        int[][] phrases = new int[30][];
        for (int i = 0; i < phrases.length; i++) {
            phrases[i] = new int[3 + r.nextInt(6)];
            for (int j = 0; j < phrases[i].length; j++) phrases[i][j] = r.nextInt(500);
        }
        int[] text = new int[400];
        int n = 0;
        while (n < text.length) {
            for (int t : phrases[r.nextInt(phrases.length)]) if (n < text.length) text[n++] = t;
        }
        return text;
    }

    /** P(X > k) + U·P(X = k) for the scheme's binomial null. */
    private static double randomized(Watermark wm, TokenScores s, double u) {
        long k = Math.round(s.total());
        long trials = wm instanceof SynthId sid ? (long) s.scored() * sid.layers() : s.scored();
        double q = wm instanceof Kgw kgw ? kgw.gamma() : 0.5;
        return Tails.binomialUpper(k + 1, trials, q).value() + u * Math.exp(Tails.logBinomialPmf(k, trials, q));
    }

    private static double ksDistance(double[] p) {
        double[] s = p.clone();
        Arrays.sort(s);
        double d = 0;
        for (int i = 0; i < s.length; i++) {
            d = Math.max(d, Math.max((i + 1.0) / s.length - s[i], s[i] - (double) i / s.length));
        }
        return d;
    }
}
