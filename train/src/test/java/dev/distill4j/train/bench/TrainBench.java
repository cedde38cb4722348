package dev.distill4j.train.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.train.loss.ChunkedLoss;
import dev.distill4j.train.loss.LossSum;
import dev.distill4j.train.loss.SftLoss;
import dev.distill4j.train.optim.AdamW;
import dev.distill4j.train.optim.GradClip;
import dev.distill4j.train.optim.Gradients;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Training throughput of randomly initialised llama students (not a test). See docs/benchmarks.md ("Training") for
 * the commands; tools/reference/bench_train_torch.py measures the same step in PyTorch eager.
 *
 * <p>One step is what {@code Trainer} does for one micro-batch with {@code --loss sft}: trunk forward, the learned
 * rows of the hidden states, {@link ChunkedLoss} over chunks of LM-head logits sized as the trainer sizes them ({@link ChunkedLoss#rowsFor}) with {@link SftLoss},
 * backward, {@link GradClip} to norm 1, {@link AdamW} (weight decay 0.01, none for norms), {@link Gradients#zero}.
 * The batch is B × T random ids with every position learned (its target is the next id of a random stream).
 *
 * <p>MFU = 6 · parameters · tokens/s over the fp32 matmul peak measured in this JVM (best 2048³ {@code matMul}).
 * 6N counts the tied LM head as a matmul and ignores attention's T² terms, as the usual estimate does.
 *
 * <pre>
 *   TrainBench throughput [timedSteps] [warmupSteps] [batch] [seqLen]
 *   TrainBench rss [steps] [every]          tiny model, RSS (VmRSS) every N steps
 * </pre>
 */
public final class TrainBench {
    /** name, hidden, layers, heads, kv heads, intermediate, vocab: ForwardBench's shapes, tied embeddings. */
    static final List<Object[]> MODELS = List.of(
            new Object[] {"llama-10M", 256, 10, 8, 4, 704, 8192},
            new Object[] {"llama-25M", 384, 12, 6, 2, 1024, 16384});
    static final Object[] TINY = {"llama-tiny", 64, 2, 4, 2, 176, 1024};

    public static void main(String[] args) throws IOException {
        String mode = args.length > 0 ? args[0] : "throughput";
        switch (mode) {
            case "throughput" -> throughput(intArg(args, 1, 20), intArg(args, 2, 3), intArg(args, 3, 8),
                    intArg(args, 4, 256));
            case "rss" -> rss(intArg(args, 1, 1000), intArg(args, 2, 100));
            default -> throw new IllegalArgumentException("mode must be throughput or rss, got " + mode);
        }
    }

    static void throughput(int timed, int warmup, int batch, int seqLen) throws IOException {
        double peak = matmulPeak(2048, 5);   // first, so that the engine is loaded before its threads are asked
        System.out.printf("MALLOC_MMAP_THRESHOLD_=%s, %d intra-op threads, batch %d x %d%n",
                System.getenv("MALLOC_MMAP_THRESHOLD_"), ai.djl.pytorch.jni.JniUtils.getNumThreads(), batch, seqLen);
        System.out.printf("fp32 matMul peak (2048^3, best of 5): %.1f GFLOP/s%n", peak / 1e9);
        for (Object[] spec : MODELS) {
            try (NDManager root = NDManager.newBaseManager("PyTorch"); CausalLM model = CausalLM.init(config(spec), root, 1)) {
                Step step = new Step(model, root, batch, seqLen);
                for (int i = 0; i < warmup; i++) step.run();
                List<Double> seconds = new ArrayList<>();
                double loss = 0;
                for (int i = 0; i < timed; i++) {
                    long t0 = System.nanoTime();
                    loss = step.run();
                    seconds.add((System.nanoTime() - t0) / 1e9);
                }
                step.close();
                double total = seconds.stream().mapToDouble(Double::doubleValue).sum();
                double tps = (double) timed * batch * seqLen / total;
                List<Double> sorted = seconds.stream().sorted().toList();
                double mfu = 6.0 * model.parameterCount() * tps / peak;
                System.out.printf("%s: %,d parameters | %,.0f tokens/s (mean over %d steps; step median %.3f s,"
                                + " min %.3f, max %.3f) | MFU %.1f%% | last loss %.3f | RSS %,d MB%n",
                        spec[0], model.parameterCount(), tps, timed, sorted.get(sorted.size() / 2), sorted.getFirst(),
                        sorted.getLast(), 100 * mfu, loss, rssKb() / 1024);
            }
        }
    }

    static void rss(int steps, int every) throws IOException {
        System.out.printf("MALLOC_MMAP_THRESHOLD_=%s; %s, batch 4 x 64%n", System.getenv("MALLOC_MMAP_THRESHOLD_"),
                TINY[0]);
        try (NDManager root = NDManager.newBaseManager("PyTorch"); CausalLM model = CausalLM.init(config(TINY), root, 1)) {
            Step step = new Step(model, root, 4, 64);
            long start = System.nanoTime();
            for (int i = 1; i <= steps; i++) {
                double loss = step.run();
                if (i == 1 || i % every == 0) {
                    Runtime rt = Runtime.getRuntime();
                    // RSS minus the committed Java heap separates native (PyTorch, glibc) growth from heap sizing
                    System.out.printf("step %5d  RSS %,8d kB  Java heap committed %,8d kB (used %,8d kB)  loss %.3f"
                                    + "  %.1f s%n", i, rssKb(), rt.totalMemory() / 1024,
                            (rt.totalMemory() - rt.freeMemory()) / 1024, loss, (System.nanoTime() - start) / 1e9);
                }
            }
            step.close();
        }
    }

    /** One Trainer-style optimizer step on a fixed synthetic batch; returns the mean loss. */
    static final class Step implements AutoCloseable {
        private final CausalLM model;
        private final NDManager root;
        private final int batch;
        private final int seqLen;
        private final int[] ids;
        private final long[] targets;
        private final long[] rows;
        private final Map<String, NDArray> params;
        private final Collection<NDArray> paramList;
        private final AdamW adamW = AdamW.builder().optWeightDecay(0.01).build();
        private final SftLoss sft = new SftLoss();

        Step(CausalLM model, NDManager root, int batch, int seqLen) {
            this.model = model;
            this.root = root;
            this.batch = batch;
            this.seqLen = seqLen;
            int vocab = model.config().vocabSize();
            SplittableRandom rng = new SplittableRandom(7);
            int[] stream = rng.ints((long) batch * seqLen + 1, 3, vocab).toArray();
            ids = Arrays.copyOf(stream, batch * seqLen);
            targets = new long[batch * seqLen];
            rows = new long[batch * seqLen];
            for (int i = 0; i < targets.length; i++) {
                targets[i] = stream[i + 1];
                rows[i] = i;
            }
            params = model.parameters();
            paramList = params.values();
            model.setTrainable(true);
        }

        double run() {
            double loss;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector();
                 NDManager scope = root.newSubManager()) {
                NDArray input = scope.create(ids, new Shape(batch, seqLen));
                NDArray attention = scope.ones(new Shape(batch, seqLen), ai.djl.ndarray.types.DataType.INT32);
                NDArray hidden = model.forwardHidden(input, attention);
                NDArray selected = hidden.reshape(-1, hidden.getShape().get(2))
                        .get(new NDIndex("{}", scope.create(rows)));
                LossSum sum = ChunkedLoss.backward(collector, selected, model::logits,
                        (logits, from, to) -> sft.compute(logits,
                                logits.getManager().create(Arrays.copyOfRange(targets, (int) from, (int) to)),
                                logits.getManager().ones(new Shape(to - from))),
                        rows.length, ChunkedLoss.rowsFor(model.config().vocabSize()));   // TrainConfig's default
                loss = sum.sum().getDouble() / rows.length;
            }
            GradClip.clip(paramList, 1.0);
            adamW.step(params, 1e-4);
            Gradients.zero(paramList);
            return loss;
        }

        @Override public void close() { adamW.close(); }
    }

    /** Best FLOP/s of an n×n @ n×n F32 matMul (2n³ FLOPs) over {@code repeats} runs after one warm-up. */
    static double matmulPeak(int n, int repeats) {
        double best = 0;
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray a = m.randomNormal(new Shape(n, n));
            NDArray b = m.randomNormal(new Shape(n, n));
            for (int r = 0; r <= repeats; r++) {
                try (NDManager scope = m.newSubManager()) {
                    long t0 = System.nanoTime();
                    NDArray c = a.matMul(b);
                    c.attach(scope);
                    c.getFloat(0, 0);   // force completion
                    double s = (System.nanoTime() - t0) / 1e9;
                    if (r > 0) best = Math.max(best, 2.0 * n * n * n / s);
                }
            }
        }
        return best;
    }

    static ModelConfig config(Object[] spec) {
        ObjectNode n = Json.object();
        n.put("model_type", "llama").put("hidden_size", (int) spec[1]).put("num_hidden_layers", (int) spec[2])
                .put("num_attention_heads", (int) spec[3]).put("num_key_value_heads", (int) spec[4])
                .put("intermediate_size", (int) spec[5]).put("vocab_size", (int) spec[6])
                .put("tie_word_embeddings", true).put("max_position_embeddings", 2048);
        return ModelConfig.fromJson(n, (String) spec[0]);
    }

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        return -1;
    }

    private static int intArg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }
}
