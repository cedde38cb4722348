package dev.distill4j.model.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.engine.DecodeEngine;
import dev.distill4j.model.engine.Quantization;
import dev.distill4j.model.generate.Generator;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.generate.StepDecoder;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.nn.KvCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batch-1 decode against the memory-bandwidth roofline (not a test; bench/decode/run.sh runs it, docs/benchmarks.md
 * has the figures). It measures the machine's read bandwidth (a Vector-API sum over a 512 MiB float array, one
 * thread and all threads), prints each model's roofline (bandwidth / weight bytes one token reads), then decode
 * tokens/s at batch 1: DJL's {@code CausalLM} with its KV cache (the path generation took before the engine), and
 * the engine at F32 and int8 through {@link Generator} (so sampling bookkeeping and logprobs are included).
 *
 * <p>Decode tokens/s = 63 / (time of generate(64) − time of generate(1)), from a 32-token prompt, greedy, after one
 * warm-up; F32 and int8 run back to back and are repeated until their medians and the medians of their per-pair ratio
 * have settled ({@link Repeated}: interquartile range within 5 % of the median, or 8 × {@code repeats} samples). Given a student and its teacher, it also measures both as the demo's scorecard does
 * ({@link ScorecardDecodeBench}), and it ends with issue 15's targets as this run measured them.
 */
public final class DecodeBench {
    static final List<Object[]> MODELS = ForwardBench.MODELS;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    public static void main(String[] args) throws Exception {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path demo = args.length > 1 ? Path.of(args[1]) : null;
        Path teacher = args.length > 2 ? Path.of(args[2]) : null;
        boolean djl = !"false".equals(System.getProperty("bench.djl"));
        System.out.printf("load average before: %s%n", loadAverage());
        int threads = Integer.getInteger("distill4j.engine.threads", Runtime.getRuntime().availableProcessors());
        double bw1 = bandwidth(1);
        double bwN = bandwidth(threads);
        System.out.printf("read bandwidth: %.1f GB/s (1 thread), %.1f GB/s (%d threads); roofline uses the larger%n",
                bw1 / 1e9, bwN / 1e9, threads);
        double bw = Math.max(bw1, bwN);
        List<String> targets = new ArrayList<>();
        for (Object[] spec : MODELS) {
            ModelConfig c = ForwardBench.config(spec);
            try (NDManager root = NDManager.newBaseManager("PyTorch"); CausalLM model = CausalLM.init(c, root, 1)) {
                System.out.printf("%s: %,d parameters%n", spec[0], model.parameterCount());
                double[] r = run(model, root, bw, repeats, djl);
                targets.add(String.format("  %s F32 at %.0f %% of the bandwidth roofline (target >= 60 %%): %s", spec[0],
                        100 * r[0], r[0] >= 0.6 ? "met" : "MISSED"));
                targets.add(String.format("  %s int8 / F32 = %.2fx (target >= 2x): %s", spec[0], r[1],
                        r[1] >= 2 ? "met" : "MISSED"));
            }
        }
        if (demo != null && Files.isDirectory(demo)) {
            try (LocalModel m = LocalModel.load(demo)) {
                System.out.printf("demo student %s: %,d parameters%n", demo, m.parameterCount());
                run(m.model(), m.model().manager(), bw, repeats, djl);
            }
        }
        if (demo != null && teacher != null) {
            double ratio = ScorecardDecodeBench.compare(demo, teacher, Path.of(System.getProperty("bench.prompts")),
                    60, 96, repeats);
            targets.add(String.format("  demo scorecard: student / teacher decode = %.2fx (target >= 4x): %s", ratio,
                    ratio >= 4 ? "met" : "MISSED"));
        }
        System.out.println("issue 15 targets, as measured in this run:");
        targets.forEach(System.out::println);
        System.out.printf("load average after: %s%n", loadAverage());
    }

    /** The 1, 5 and 15-minute load averages (Linux), or "unknown". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Prints one model's figures; returns {F32 fraction of its roofline, int8 / F32}. */
    static double[] run(CausalLM model, NDManager root, double bw, int repeats, boolean withDjl) {
        DecodeEngine f32 = DecodeEngine.of(model, Quantization.F32);
        DecodeEngine int8 = DecodeEngine.of(model, Quantization.INT8);
        System.out.printf("  engine kernels: %s%n", f32.describe());
        double rf = bw / f32.streamedBytes();
        double ri = bw / int8.streamedBytes();
        System.out.printf("  roofline F32 : %,.1f MB/token -> %,8.0f tokens/s%n", f32.streamedBytes() / 1e6, rf);
        System.out.printf("  roofline int8: %,.1f MB/token -> %,8.0f tokens/s%n", int8.streamedBytes() / 1e6, ri);
        double djl = Double.NaN;
        if (withDjl) {
            djl = decodeDjl(model, root, repeats);
            System.out.printf("  DJL CausalLM + KvCache, B=1  %,8.0f tokens/s  (%.0f %% of F32 roofline)%n", djl,
                    100 * djl / rf);
        }
        // F32 and int8 back to back in every sample, so a drift of the machine hits both and their ratio keeps
        int vocab = model.config().vocabSize();
        Generator g32 = new Generator(f32, new ForwardBench.IdTokenizer(vocab));
        Generator g8 = new Generator(int8, new ForwardBench.IdTokenizer(vocab));
        decodeOnce(g32, vocab);   // warm-up
        decodeOnce(g8, vocab);
        Repeated.Series[] s = Repeated.until(() -> {
            double a = decodeOnce(g32, vocab), b = decodeOnce(g8, vocab);
            return new double[] {a, b, b / a};
        }, repeats, 8 * repeats, SPREAD);
        double e32 = s[0].median(), e8 = s[1].median();
        System.out.printf("  engine F32, B=1              %,8.0f tokens/s  (%.0f %% of F32 roofline%s)%n", e32, 100 * e32 / rf,
                withDjl ? String.format(", %.1fx DJL", e32 / djl) : "");
        System.out.printf("    %s%n", s[0].describe("%,.0f"));
        System.out.printf("  engine int8, B=1             %,8.0f tokens/s  (%.0f %% of int8 roofline)%n", e8, 100 * e8 / ri);
        System.out.printf("    %s%n", s[1].describe("%,.0f"));
        System.out.printf("  int8 / F32 (per back-to-back pair) %.2fx: %s%n", s[2].median(), s[2].describe("%.2f"));
        return new double[] {e32 / rf, s[2].median()};
    }

    /** Interquartile range, relative to the median, at which {@link Repeated} stops sampling. */
    static final double SPREAD = 0.05;

    /** One decode measurement: 63 / (time of generate(64) − time of generate(1)) from the 32-token prompt. */
    static double decodeOnce(Generator g, int vocab) {
        int[] prompt = prompt(vocab);
        long t0 = System.nanoTime();
        g.generate(prompt, SamplingParams.greedy(1));
        long t1 = System.nanoTime();
        g.generate(prompt, SamplingParams.greedy(64));
        long t2 = System.nanoTime();
        return 63 / (((t2 - t1) - (t1 - t0)) / 1e9);
    }



    static int[] prompt(int vocab) {
        return new SplittableRandom(4).ints(32, 3, vocab).toArray();
    }

    static double decode(StepDecoder engine, int vocab, int repeats) {
        Generator g = new Generator(engine, new ForwardBench.IdTokenizer(vocab));
        decodeOnce(g, vocab);   // warm-up
        List<Double> rates = new ArrayList<>();
        for (int r = 0; r < repeats; r++) rates.add(decodeOnce(g, vocab));
        return median(rates);
    }

    /** The DJL path: forwardLast with a KvCache, argmax on the host, one token per step. */
    static double decodeDjl(CausalLM model, NDManager root, int repeats) {
        int[] prompt = prompt(model.config().vocabSize());
        List<Double> rates = new ArrayList<>();
        for (int r = 0; r < repeats + 1; r++) {
            long t0 = System.nanoTime();
            djlGreedy(model, root, prompt, 1);
            long t1 = System.nanoTime();
            djlGreedy(model, root, prompt, 64);
            long t2 = System.nanoTime();
            if (r > 0) rates.add(63 / (((t2 - t1) - (t1 - t0)) / 1e9));
        }
        return median(rates);
    }

    static void djlGreedy(CausalLM model, NDManager root, int[] prompt, int tokens) {
        try (NDManager scope = root.newSubManager(); KvCache cache = model.newCache(scope)) {
            int[] input = prompt;
            for (int t = 0; t < tokens; t++) {
                float[] logits;
                try (NDManager step = scope.newSubManager()) {
                    NDArray out = model.forwardLast(step.create(input, new Shape(1, input.length)), null, cache);
                    logits = out.toFloatArray();
                }
                int best = 0;
                for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
                input = new int[] {best};
            }
        }
    }

    /** Bytes/s of summing a 512 MiB array, split over {@code threads}; best of 5 after a warm-up. */
    static double bandwidth(int threads) throws Exception {
        float[] a = new float[128 << 20];
        for (int i = 0; i < a.length; i += 1024) a[i] = i;
        double best = 0;
        try (ForkJoinPool pool = new ForkJoinPool(threads)) {
            for (int r = 0; r < 6; r++) {
                long t0 = System.nanoTime();
                double s = pool.submit(() -> IntStream.range(0, threads).parallel()
                        .mapToDouble(t -> sum(a, (int) ((long) a.length * t / threads),
                                (int) ((long) a.length * (t + 1) / threads))).sum()).get();
                double secs = (System.nanoTime() - t0) / 1e9;
                if (s == 42) System.out.print("");   // keep the sum alive
                if (r > 0) best = Math.max(best, 4.0 * a.length / secs);
            }
        }
        return best;
    }

    static float sum(float[] a, int from, int to) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        int l = F.length();
        int i = from;
        for (; i + 4 * l <= to; i += 4 * l) {
            s0 = s0.add(FloatVector.fromArray(F, a, i));
            s1 = s1.add(FloatVector.fromArray(F, a, i + l));
            s2 = s2.add(FloatVector.fromArray(F, a, i + 2 * l));
            s3 = s3.add(FloatVector.fromArray(F, a, i + 3 * l));
        }
        float s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) s += a[i];
        return s;
    }

    static double median(List<Double> xs) {
        List<Double> sorted = xs.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
