package dev.distill4j.train;

import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.Generator;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.train.data.Batch;
import dev.distill4j.train.data.TrainingExample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * On-policy steps (GKD, Agarwal et al. 2024, TRL's {@code GKDTrainer} {@code lmbda}): which steps train on the
 * student's own samples, and the micro-batches those steps train on.
 * <pre>
 *   on-policy(step)  ⇔  u(seed, step) &lt; λ                u uniform in [0, 1) from a SplitMix64 hash
 *   row'             =  prompt(row) ++ sample(student | prompt(row))   every sampled token learned
 * </pre>
 * Both are functions of (seed, step, micro-batch) and the weights, so a resumed run takes the same on-policy steps
 * and samples the same tokens as an uninterrupted one.
 */
final class OnPolicySampler {
    private final CausalLM student;
    private final HfTokenizer tokenizer;
    private final List<Integer> eosIds;
    private final double temperature;
    private final long seed;
    private final int padId;

    /**
     * @param eosIds       ids that end a sampled continuation (the student's EOS ids)
     * @param temperature  --temperature, the sampling temperature
     */
    OnPolicySampler(CausalLM student, HfTokenizer tokenizer, List<Integer> eosIds, double temperature, long seed,
            int padId) {
        this.student = student;
        this.tokenizer = tokenizer;
        this.eosIds = eosIds;
        this.temperature = temperature;
        this.seed = seed;
        this.padId = padId;
    }

    /**
     * Whether optimizer step {@code step} (0-based) trains on the student's own samples: a uniform draw from a hash
     * of (seed, step) below {@code fraction}. A function of the step alone, so a resumed run takes the same
     * on-policy steps as an uninterrupted one, and λ = 0 never draws.
     */
    static boolean draws(long seed, long step, double fraction) {
        if (fraction <= 0) return false;
        double u = (mix(seed, 0x6F6E2D706F6C6963L, step) >>> 11) * 0x1.0p-53;   // [0, 1)
        return u < fraction;
    }

    /**
     * The batch with every row's reply replaced by a continuation the student samples from the row's prompt: at
     * --temperature, up to the batch's longest reply (and no further than the row's room in the padded batch, so
     * the batch stays within --batch-tokens), stopping at an EOS or the end-of-turn token the examples end their
     * replies with. Every sampled token is learned. The sampling seed is a hash of (seed, step, micro-batch), so a
     * resumed run samples the same tokens from the same weights.
     */
    Batch sample(Batch b, long step, int microBatch) {
        int t = b.seqLen();
        int n = b.size();
        int[] promptLen = new int[n];
        int longestReply = 0;
        Set<Integer> stops = new LinkedHashSet<>(eosIds);
        List<int[]> prompts = new ArrayList<>(n);
        for (int row = 0; row < n; row++) {
            int len = 0;
            while (len < t && b.attentionMask()[row * t + len] == 1) len++;
            int first = 1;
            while (first < len && b.labels()[row * t + first] == TrainingExample.IGNORE) first++;
            int lastLabel = -1;
            for (int i = first; i < len; i++) if (b.labels()[row * t + i] != TrainingExample.IGNORE) lastLabel = i;
            if (lastLabel < 0) first = len;    // nothing learned in this row: keep it as it is, learn nothing
            else if (tokenizer.isSpecial(b.labels()[row * t + lastLabel])) stops.add(b.labels()[row * t + lastLabel]);
            promptLen[row] = first;
            longestReply = Math.max(longestReply, len - first);
            prompts.add(Arrays.copyOfRange(b.inputIds(), row * t, row * t + first));
        }
        // identical prompts (several samples of one prompt) get their own seeds, so they do not sample the same text
        int[] copy = new int[n];
        Map<String, Integer> seen = new HashMap<>();
        int copies = 0;
        for (int row = 0; row < n; row++) {
            copy[row] = seen.merge(Arrays.toString(prompts.get(row)), 1, Integer::sum) - 1;
            copies = Math.max(copies, copy[row] + 1);
        }
        int[][] continuation = new int[n][];
        Generator generator = new Generator(student, tokenizer);
        for (int c = 0; c < copies; c++) {
            List<Integer> rowsOfCopy = new ArrayList<>();
            List<int[]> promptsOfCopy = new ArrayList<>();
            for (int row = 0; row < n; row++) {
                if (copy[row] == c && promptLen[row] < t) {
                    rowsOfCopy.add(row);
                    promptsOfCopy.add(prompts.get(row));
                }
            }
            if (rowsOfCopy.isEmpty()) continue;
            SamplingParams params = new SamplingParams(longestReply, temperature, 0, 1.0,
                    mix(seed, step, (long) microBatch << 20 | c), List.copyOf(stops), List.of(), 0);
            List<Generation> out = generator.generate(promptsOfCopy, params);
            for (int i = 0; i < rowsOfCopy.size(); i++) continuation[rowsOfCopy.get(i)] = out.get(i).tokenIds();
        }
        return rebatch(b, prompts, promptLen, continuation);
    }

    /** Prompt + continuation per row, padded to the longest; labels are the continuation's tokens, nothing else. */
    private Batch rebatch(Batch b, List<int[]> prompts, int[] promptLen, int[][] continuation) {
        int t = b.seqLen();
        int n = b.size();
        int width = 1;
        for (int row = 0; row < n; row++) {
            int[] gen = continuation[row] == null ? new int[0] : continuation[row];
            continuation[row] = Arrays.copyOf(gen, Math.min(gen.length, t - promptLen[row]));
            width = Math.max(width, promptLen[row] + continuation[row].length);
        }
        int[] ids = new int[n * width];
        int[] attention = new int[n * width];
        int[] labels = new int[n * width];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, TrainingExample.IGNORE);
        for (int row = 0; row < n; row++) {
            int p = promptLen[row];
            int[] gen = continuation[row];
            System.arraycopy(prompts.get(row), 0, ids, row * width, p);
            System.arraycopy(gen, 0, ids, row * width + p, gen.length);
            System.arraycopy(gen, 0, labels, row * width + p, gen.length);
            Arrays.fill(attention, row * width, row * width + p + gen.length, 1);
        }
        return new Batch(b.index(), n, width, b.exampleIndices(), b.capabilities(), ids, attention, labels, 0,
                new int[0], new float[0], new float[n * width], new boolean[n * width]);
    }

    /** SplitMix64 over three values: unrelated streams for nearby seeds, steps and micro-batches. */
    private static long mix(long a, long b, long c) {
        long z = a;
        for (long v : new long[] {b, c}) {
            z += 0x9E3779B97F4A7C15L + v;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
        }
        return z;
    }
}
