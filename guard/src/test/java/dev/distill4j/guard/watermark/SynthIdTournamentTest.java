package dev.distill4j.guard.watermark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.model.generate.SamplingParams;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * SynthID's closed form against the tournament it stands for, and its non-distortion: averaged over keys, the
 * watermarked choice is distributed as the model's own.
 */
class SynthIdTournamentTest {
    private static final TokenizerFingerprint TOKENIZER = new TokenizerFingerprint("0".repeat(64), 5);
    private static final float[] LOGITS = {2.0f, 1.0f, 0.5f, 0.0f, -1.0f};
    private static final SamplingParams SAMPLE = SamplingParams.greedy(1).withSampling(1.0, 0, 1.0, 0);

    @Test
    void closedFormEqualsASimulatedTournament() {
        WatermarkKey key = Keys.of(WatermarkKey.Scheme.SYNTHID, Map.of("layers", 3), TOKENIZER, 5);
        SynthId wm = (SynthId) Watermark.of(key);
        int[] history = {1, 2, 3, 4};
        double[] p = softmax(LOGITS);
        // the closed form's choice frequencies
        double[] closed = frequencies(200_000, rng -> wm.choose(history, 4, LOGITS.clone(), SAMPLE, rng));
        // the tournament itself: 2³ candidates drawn from p, pairs decided by g_l (ties by a coin)
        double[] simulated = frequencies(200_000, rng -> {
            int[] c = new int[8];
            for (int i = 0; i < 8; i++) c[i] = draw(p, rng);
            for (int l = 0, n = 8; l < 3; l++, n /= 2) {
                for (int i = 0; i < n / 2; i++) {
                    int a = c[2 * i], b = c[2 * i + 1];
                    int ga = wm.g(history, 4, a, l);
                    int gb = wm.g(history, 4, b, l);
                    c[i] = ga > gb ? a : gb > ga ? b : rng.nextBoolean() ? a : b;
                }
            }
            return c[0];
        });
        for (int v = 0; v < p.length; v++) assertThat(closed[v]).as("token %d", v).isCloseTo(simulated[v], within(0.006));
    }

    @Test
    void averagedOverKeysTheChoiceIsTheModelsDistribution() {
        double[] p = softmax(LOGITS);
        double[] freq = new double[p.length];
        SplittableRandom rng = new SplittableRandom(9);
        int keys = 20_000;
        for (int k = 0; k < keys; k++) {
            Watermark wm = Watermark.of(Keys.of(WatermarkKey.Scheme.SYNTHID, Map.of(), TOKENIZER, 100 + k));
            freq[wm.choose(new int[] {1, 2, 3, 4}, 4, LOGITS.clone(), SAMPLE, rng)] += 1.0 / keys;
        }
        for (int v = 0; v < p.length; v++) assertThat(freq[v]).as("token %d", v).isCloseTo(p[v], within(0.012));
    }

    private static double[] frequencies(int n, java.util.function.ToIntFunction<SplittableRandom> pick) {
        SplittableRandom rng = new SplittableRandom(1);
        double[] f = new double[LOGITS.length];
        for (int i = 0; i < n; i++) f[pick.applyAsInt(rng)] += 1.0 / n;
        return f;
    }

    private static int draw(double[] p, SplittableRandom rng) {
        double u = rng.nextDouble();
        for (int i = 0; i < p.length; i++) if ((u -= p[i]) < 0) return i;
        return p.length - 1;
    }

    private static double[] softmax(float[] logits) {
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i]);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }
}
