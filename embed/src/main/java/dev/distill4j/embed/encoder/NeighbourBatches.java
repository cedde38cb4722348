package dev.distill4j.embed.encoder;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * Training batches whose sentences are near each other in the teacher's space, for the pairwise-cosine term of
 * {@link CosineStructureLoss}. With batches of random sentences that term spends itself on pairs far apart, while
 * recall@k and nDCG@k depend only on how a sentence's nearest neighbours are ordered. Here each batch is one seed
 * sentence plus {@code batchSize − 1} sentences drawn at random from the seed's {@code neighbourhood} nearest
 * sentences not yet in a batch, so the in-batch pairs are the close ones retrieval has to tell apart:
 * <pre>
 *   seed s (random, unused)  →  N_K(s) = the K unused sentences with the highest t_s·t_j  →  batch = {s} ∪ sample(N_K(s), B − 1)
 * </pre>
 * K = B − 1 takes the seed's nearest neighbours; a larger K spreads a batch over a wider neighbourhood (for a
 * collection of n sentences a top-10 is its nearest 1 %, so K near 1 % of the training set matches that scale).
 * Every sentence lands in exactly one batch per call. Cost: about n²·D / (2B) multiply-adds (each seed is compared
 * with the sentences still unused), seconds for 100,000 sentences of 384 dimensions.
 */
public final class NeighbourBatches {
    private NeighbourBatches() {}

    /**
     * @param vectors       the teacher's unit-norm vector of each training sentence
     * @param batchSize     sentences per batch (the last batch may be smaller)
     * @param neighbourhood K, how many of the seed's nearest unused sentences a batch draws from (≥ batchSize − 1)
     * @param rnd           seeds and draws
     * @return batches of indices into {@code vectors}, together covering each index once
     */
    public static List<int[]> of(float[][] vectors, int batchSize, int neighbourhood, Random rnd) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be ≥ 1, got " + batchSize);
        if (neighbourhood < batchSize - 1) {
            throw new IllegalArgumentException("the neighbourhood (" + neighbourhood + ") must hold a batch's other "
                    + (batchSize - 1) + " sentences");
        }
        int n = vectors.length;
        Unused unused = new Unused(n);
        int[] seeds = permutation(n, rnd);
        List<int[]> batches = new ArrayList<>((n + batchSize - 1) / batchSize);
        for (int seed : seeds) {
            if (!unused.contains(seed)) continue;
            unused.remove(seed);
            int[] near = nearest(vectors, seed, unused, Math.min(neighbourhood, unused.size()));
            int take = Math.min(batchSize - 1, near.length);
            for (int i = 0; i < take; i++) {                                   // partial Fisher–Yates over the K nearest
                int j = i + rnd.nextInt(near.length - i);
                int tmp = near[i];
                near[i] = near[j];
                near[j] = tmp;
            }
            int[] batch = new int[take + 1];
            batch[0] = seed;
            for (int i = 0; i < take; i++) {
                batch[i + 1] = near[i];
                unused.remove(near[i]);
            }
            batches.add(batch);
        }
        return batches;
    }

    /** The {@code k} unused sentences with the highest dot product with {@code seed}'s vector (any order). */
    static int[] nearest(float[][] v, int seed, Unused unused, int k) {
        if (k == 0) return new int[0];
        float[] q = v[seed];
        PriorityQueue<Candidate> best = new PriorityQueue<>(k, Comparator.comparingDouble(Candidate::similarity));
        for (int p = 0; p < unused.size(); p++) {                        // a min-heap: its head is the one to beat
            int j = unused.at(p);
            float d = dot(q, v[j]);
            if (best.size() < k) best.add(new Candidate(d, j));
            else if (d > best.peek().similarity()) {
                best.poll();
                best.add(new Candidate(d, j));
            }
        }
        return best.stream().mapToInt(Candidate::index).toArray();
    }

    private record Candidate(float similarity, int index) {}

    /** Four partial sums: independent chains the JIT can pipeline (a single float sum is one long dependency chain). */
    static float dot(float[] a, float[] b) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        for (; k + 3 < a.length; k += 4) {
            s0 += a[k] * b[k];
            s1 += a[k + 1] * b[k + 1];
            s2 += a[k + 2] * b[k + 2];
            s3 += a[k + 3] * b[k + 3];
        }
        for (; k < a.length; k++) s0 += a[k] * b[k];
        return (s0 + s1) + (s2 + s3);
    }

    private static int[] permutation(int n, Random rnd) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }

    /** The sentences not yet in a batch: a dense list for scanning, with O(1) removal (swap with the last). */
    static final class Unused {
        private final int[] list, position;
        private int size;

        Unused(int n) {
            list = new int[n];
            position = new int[n];
            for (int i = 0; i < n; i++) {
                list[i] = i;
                position[i] = i;
            }
            size = n;
        }

        int size() { return size; }

        int at(int p) { return list[p]; }

        boolean contains(int i) { return position[i] >= 0; }

        void remove(int i) {
            int p = position[i];
            int last = list[--size];
            list[p] = last;
            position[last] = p;
            position[i] = -1;
        }
    }
}
