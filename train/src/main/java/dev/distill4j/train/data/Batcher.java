package dev.distill4j.train.data;

import dev.distill4j.core.Capability;
import dev.distill4j.core.InvalidInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * Length-bucketed batches with right padding, in an order fixed by (seed, epoch) so a resumed run sees exactly the
 * batches it would have seen.
 *
 * <p>For an epoch: the examples are shuffled; each window of {@link #WINDOW} examples is sorted by length
 * (longest first) and cut greedily into batches whose padded size B × T stays within {@code batchTokens} (an
 * example longer than that gets a batch of its own); then the batches are shuffled. Sorting within windows keeps
 * padding low while the shuffle keeps the order random. The plan is computed from the lengths alone, so skipping
 * to batch N of an epoch costs a sort of ints, not a rebuild of the data. Randomness is {@link java.util.Random},
 * whose algorithm the Java specification fixes, so the order is the same on every JVM.
 */
public final class Batcher {
    /** Examples sorted together; large enough to group similar lengths, small enough to keep the order random. */
    static final int WINDOW = 1024;

    private final List<TrainingExample> examples;
    private final int batchTokens;
    private final int padId;
    private final int[] lengths;
    private final Mixture mixture;

    /**
     * @param examples    the examples, in a fixed order (ExampleSet's)
     * @param batchTokens most padded tokens (B × T) per batch
     * @param padId       id written into padding positions (masked everywhere; the tokenizer's pad token, or 0)
     */
    public Batcher(List<TrainingExample> examples, int batchTokens, int padId) {
        this(examples, batchTokens, padId, null);
    }

    /**
     * Batches of a mixture of runs: each epoch draws the examples {@code mixture} says (null: every example once).
     */
    public Batcher(List<TrainingExample> examples, int batchTokens, int padId, Mixture mixture) {
        if (examples.isEmpty()) throw new IllegalArgumentException("no examples to batch");
        if (batchTokens < 1) throw new InvalidInputException("--batch-tokens must be positive, got " + batchTokens);
        this.examples = List.copyOf(examples);
        this.batchTokens = batchTokens;
        this.padId = Math.max(padId, 0);
        this.lengths = this.examples.stream().mapToInt(TrainingExample::length).toArray();
        this.mixture = mixture;
    }

    public List<TrainingExample> examples() { return examples; }

    /** Example indices of each batch of the epoch, in the order they are trained. */
    public List<int[]> plan(long seed, int epoch) {
        Random rng = new Random(mix(seed, epoch));
        List<Integer> order;
        if (mixture == null) {
            order = new ArrayList<>(lengths.length);
            for (int i = 0; i < lengths.length; i++) order.add(i);
        } else {
            order = mixture.epoch(rng);
        }
        Collections.shuffle(order, rng);
        List<int[]> batches = new ArrayList<>();
        for (int w = 0; w < order.size(); w += WINDOW) {
            List<Integer> window = new ArrayList<>(order.subList(w, Math.min(order.size(), w + WINDOW)));
            window.sort(Comparator.comparingInt((Integer i) -> lengths[i]).reversed()); // stable: ties keep shuffle
            int from = 0;
            while (from < window.size()) {
                int longest = lengths[window.get(from)];
                int fit = Math.max(1, batchTokens / Math.max(longest, 1));
                int to = Math.min(window.size(), from + fit);
                batches.add(window.subList(from, to).stream().mapToInt(Integer::intValue).toArray());
                from = to;
            }
        }
        Collections.shuffle(batches, rng);
        return batches;
    }

    /** Batches of the epoch from batch {@code startBatch} on (0 for a fresh epoch). */
    public Iterator<Batch> iterator(long seed, int epoch, int startBatch) {
        List<int[]> plan = plan(seed, epoch);
        if (startBatch < 0 || startBatch > plan.size()) {
            throw new IllegalArgumentException("batch " + startBatch + " is outside epoch " + epoch + " ("
                    + plan.size() + " batches): was the checkpoint made with other data or --batch-tokens?");
        }
        return new Iterator<>() {
            int next = startBatch;

            @Override public boolean hasNext() { return next < plan.size(); }

            @Override public Batch next() {
                if (!hasNext()) throw new NoSuchElementException();
                int i = next++;
                return batch(i, plan.get(i));
            }
        };
    }

    /** Pads the given examples into one batch. */
    public Batch batch(int index, int[] exampleIndices) {
        int b = exampleIndices.length;
        int t = 0;
        int k = 0;
        for (int i : exampleIndices) {
            t = Math.max(t, lengths[i]);
            KdTargets kd = examples.get(i).kd();
            if (kd != null) k = Math.max(k, kd.k());
        }
        int[] ids = new int[b * t];
        int[] attention = new int[b * t];
        int[] labels = new int[b * t];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, TrainingExample.IGNORE);
        int[] kdIds = new int[b * t * k];
        float[] kdLogprobs = new float[b * t * k];
        Arrays.fill(kdLogprobs, Float.NEGATIVE_INFINITY);
        float[] kdTail = new float[b * t];
        boolean[] kdPresent = new boolean[b * t];
        List<Capability> caps = new ArrayList<>(b);
        for (int row = 0; row < b; row++) {
            TrainingExample e = examples.get(exampleIndices[row]);
            caps.add(e.capability());
            int n = e.length();
            System.arraycopy(e.inputIds(), 0, ids, row * t, n);
            System.arraycopy(e.labels(), 0, labels, row * t, n);
            Arrays.fill(attention, row * t, row * t + n, 1);
            KdTargets kd = e.kd();
            if (kd == null) continue;
            for (int r = 0; r < kd.length(); r++) {
                if (!kd.present()[r]) continue;
                int pos = row * t + kd.start() + r;
                kdPresent[pos] = true;
                kdTail[pos] = kd.tail()[r];
                System.arraycopy(kd.ids(), r * kd.k(), kdIds, pos * k, kd.k());
                System.arraycopy(kd.logprobs(), r * kd.k(), kdLogprobs, pos * k, kd.k());
            }
        }
        return new Batch(index, b, t, exampleIndices.clone(), caps, ids, attention, labels, k, kdIds, kdLogprobs,
                kdTail, kdPresent);
    }

    /** SplitMix64 finaliser over (seed, epoch), so nearby seeds and epochs give unrelated streams. */
    static long mix(long seed, int epoch) {
        long z = seed + 0x9E3779B97F4A7C15L * (epoch + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
