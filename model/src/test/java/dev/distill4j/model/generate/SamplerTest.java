package dev.distill4j.model.generate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Sampler#candidates} sorts primitive keys instead of boxed ids; its candidates and probabilities must be
 * exactly those of the comparator sort it replaced (kept here as the reference), so that a seed keeps drawing the
 * same tokens.
 */
class SamplerTest {
    /** The former implementation's order: scaled logit descending, ties by lower id, boxed and compared. */
    private static int[] referenceOrder(float[] logits, double temperature) {
        int v = logits.length;
        double[] scaled = new double[v];
        for (int i = 0; i < v; i++) scaled[i] = logits[i] / temperature;
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> scaled[a] != scaled[b] ? Double.compare(scaled[b], scaled[a]) : Integer.compare(a, b));
        return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }

    @Test
    void theOrderIsTheComparatorsWithTiesSignedZerosAndExtremes() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            int v = 1 + rng.nextInt(3000);
            float[] logits = new float[v];
            for (int i = 0; i < v; i++) {
                logits[i] = switch (rng.nextInt(8)) {
                    case 0 -> 0.0f;
                    case 1 -> -0.0f;
                    case 2 -> (float) rng.nextInt(-3, 4);                 // many exact ties
                    case 3 -> rng.nextBoolean() ? -1e30f : 3e38f;
                    case 4 -> Float.MIN_VALUE * rng.nextInt(-5, 6);       // subnormals
                    default -> (float) (rng.nextGaussian() * 8);
                };
            }
            for (double t : new double[] {0.05, 0.7, 1, 1.3, 2}) {
                assertThat(Sampler.byLogitDescending(logits)).as("trial %d, T %s", trial, t)
                        .containsExactly(referenceOrder(logits, t));
            }
        }
    }

    @Test
    void candidatesAndDrawsAreUnchanged() {
        SplittableRandom rng = new SplittableRandom(5);
        float[] logits = new float[49_152];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (rng.nextGaussian() * 3);
        for (double t : new double[] {0.6, 1.0, 1.4}) {
            for (int k : new int[] {0, 1, 40}) {
                for (double topP : new double[] {1, 0.9, 0.3}) {
                    SamplingParams p = new SamplingParams(8, t, k, topP, 17, List.of(), List.of(), 0);
                    Sampler.Candidates c = Sampler.candidates(logits, p);
                    int[] order = referenceOrder(logits, t);
                    if (p.isGreedy()) {
                        assertThat(c.ids()).containsExactly(order[0]);
                        continue;
                    }
                    assertThat(c.ids()).containsExactly(Arrays.copyOf(order, c.size()));
                    assertThat(Arrays.stream(c.probs()).sum()).isCloseTo(1, org.assertj.core.api.Assertions.within(1e-9));
                }
            }
        }
    }

    /** The former candidates(): the full order, then the same arithmetic; the reference for exact probabilities. */
    private static Sampler.Candidates referenceCandidates(float[] logits, SamplingParams p) {
        int v = logits.length;
        double[] scaled = new double[v];
        for (int i = 0; i < v; i++) scaled[i] = logits[i] / p.temperature();
        int[] order = referenceOrder(logits, p.temperature());
        int keep = p.topK() > 0 ? Math.min(p.topK(), v) : v;
        double max = scaled[order[0]];
        double[] prob = new double[keep];
        double sum = 0;
        for (int r = 0; r < keep; r++) sum += prob[r] = Math.exp(scaled[order[r]] - max);
        for (int r = 0; r < keep; r++) prob[r] /= sum;
        if (p.topP() < 1) {
            double cum = 0;
            int r = 0;
            while (r < keep) {
                cum += prob[r++];
                if (cum >= p.topP()) break;
            }
            keep = r;
        }
        double mass = 0;
        for (int r = 0; r < keep; r++) mass += prob[r];
        double[] probs = Arrays.copyOf(prob, keep);
        for (int r = 0; r < keep; r++) probs[r] /= mass;
        return new Sampler.Candidates(Arrays.copyOf(order, keep), probs);
    }

    /**
     * Top-k selects the k best before sorting only them (no full sort): the same ids in the same order and the same
     * probabilities, bit for bit, as the full sort — on ties, signed zeros, extremes, k of 1, 2, 40 and the whole
     * vocabulary, and vocabularies where k is most of them.
     */
    @Test
    void topKSelectionGivesTheFullSortsCandidatesBitForBit() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int trial = 0; trial < 60; trial++) {
            int v = 2 + rng.nextInt(3000);
            float[] logits = new float[v];
            for (int i = 0; i < v; i++) {
                logits[i] = switch (rng.nextInt(8)) {
                    case 0 -> 0.0f;
                    case 1 -> -0.0f;
                    case 2 -> (float) rng.nextInt(-3, 4);
                    case 3 -> rng.nextBoolean() ? -1e30f : 3e38f;
                    case 4 -> Float.MIN_VALUE * rng.nextInt(-5, 6);
                    default -> (float) (rng.nextGaussian() * 8);
                };
            }
            if (trial % 3 == 0) Arrays.sort(logits);   // an already sorted vocabulary: quickselect's awkward case
            for (int k : new int[] {2, 3, 40, v - 1, v}) {
                for (double topP : new double[] {1, 0.9}) {
                    SamplingParams p = new SamplingParams(8, 0.8, k, topP, 17, List.of(), List.of(), 0);
                    Sampler.Candidates got = Sampler.candidates(logits, p);
                    Sampler.Candidates want = referenceCandidates(logits, p);
                    assertThat(got.ids()).as("trial %d k %d", trial, k).containsExactly(want.ids());
                    assertThat(got.probs()).as("trial %d k %d", trial, k).containsExactly(want.probs());
                }
                assertThat(Sampler.topByLogit(logits, Math.min(k, v)))
                        .containsExactly(Arrays.copyOf(referenceOrder(logits, 1), Math.min(k, v)));
            }
        }
    }
}
