package dev.distill4j.train.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.train.loss.ChunkedLoss;
import dev.distill4j.train.loss.SftLoss;
import dev.distill4j.train.optim.AdamW;
import dev.distill4j.train.optim.GradClip;
import dev.distill4j.train.optim.Gradients;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where one {@link TrainBench} step's time goes (not a test): trunk forward, chunked LM-head loss with the whole
 * backward, clipping, AdamW and zeroing, averaged over steps 3–8. PyTorch on the CPU runs each op to completion
 * before returning, so wall-clock marks between the phases are the phases' own times.
 *
 * <pre>
 *   TrainStepPhases MODEL_INDEX CHUNK_ROWS      0 = llama-10M, 1 = llama-25M; CHUNK_ROWS 0 = the trainer's default
 * </pre>
 * Run it with bench/train/run.sh's class path and environment (see docs/benchmarks.md, "Training").
 */
public final class TrainStepPhases {
    public static void main(String[] args) throws Exception {
        Object[] spec = TrainBench.MODELS.get(Integer.parseInt(args[0]));
        int batch = 8, seqLen = 256;
        try (NDManager root = NDManager.newBaseManager("PyTorch"); CausalLM model = CausalLM.init(TrainBench.config(spec), root, 1)) {
            int vocab = model.config().vocabSize();
            SplittableRandom rng = new SplittableRandom(7);
            int[] stream = rng.ints((long) batch * seqLen + 1, 3, vocab).toArray();
            int[] ids = Arrays.copyOf(stream, batch * seqLen);
            long[] targets = new long[batch * seqLen]; long[] rows = new long[batch * seqLen];
            for (int i = 0; i < targets.length; i++) { targets[i] = stream[i + 1]; rows[i] = i; }
            Map<String, NDArray> params = model.parameters(); Collection<NDArray> paramList = params.values();
            model.setTrainable(true);
            AdamW adamW = AdamW.builder().optWeightDecay(0.01).build(); SftLoss sft = new SftLoss();
            double[] acc = new double[5];
            for (int step = 0; step < 8; step++) {
                long t0 = System.nanoTime(), t1, t2, t3, t4;
                try (GradientCollector collector = Engine.getInstance().newGradientCollector(); NDManager scope = root.newSubManager()) {
                    NDArray input = scope.create(ids, new Shape(batch, seqLen));
                    NDArray attention = scope.ones(new Shape(batch, seqLen), ai.djl.ndarray.types.DataType.INT32);
                    NDArray hidden = model.forwardHidden(input, attention);
                    NDArray selected = hidden.reshape(-1, hidden.getShape().get(2)).get(new NDIndex("{}", scope.create(rows)));
                    selected.getFloat(0, 0);
                    t1 = System.nanoTime();
                    ChunkedLoss.backward(collector, selected, model::logits,
                            (logits, from, to) -> sft.compute(logits, logits.getManager().create(Arrays.copyOfRange(targets, (int) from, (int) to)), logits.getManager().ones(new Shape(to - from))),
                            rows.length, Integer.parseInt(args[1]) > 0 ? Integer.parseInt(args[1]) : ChunkedLoss.rowsFor(vocab));
                }
                t2 = System.nanoTime();
                GradClip.clip(paramList, 1.0);
                t3 = System.nanoTime();
                adamW.step(params, 1e-4);
                t4 = System.nanoTime();
                Gradients.zero(paramList);
                long t5 = System.nanoTime();
                if (step >= 2) { acc[0] += t1 - t0; acc[1] += t2 - t1; acc[2] += t3 - t2; acc[3] += t4 - t3; acc[4] += t5 - t4; }
            }
            System.out.printf("fwd %.0f ms, loss+bwd %.0f ms, clip %.0f ms, adam %.0f ms, zero %.0f ms%n", acc[0]/6e6, acc[1]/6e6, acc[2]/6e6, acc[3]/6e6, acc[4]/6e6);
        }
    }
}
