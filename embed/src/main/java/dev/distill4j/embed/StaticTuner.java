package dev.distill4j.embed;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.nn.Scalars;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.train.optim.LrSchedule;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Tunes a static student's token table on the teacher's embeddings of whole sentences. The static distiller only
 * ever shows the teacher one token at a time; here the table learns how tokens combine in the teacher's sentence
 * space. For a sentence with tokens {@code t₁…t_L} and table {@code E}:
 *
 * <pre>
 *   s   = normalise( (1/L) Σ_l E[t_l] )                 the student's sentence vector, as at inference
 *   y   = Cᵀ · teacher(sentence)                          the target: the teacher's vector on the PCA axes
 *   cosine       L = mean_b (1 − s_b · ŷ_b)               ŷ = y / ‖y‖
 *   mse          L = mean_{b,k} (s_bk − y_bk)²
 *   contrastive  L = −mean_b log softmax_j (s_b · ŷ_j / τ)[b]      in-batch InfoNCE
 * </pre>
 *
 * <p><b>Why the PCA basis for targets.</b> The rows start as the teacher's token vectors projected on the
 * distiller's PCA axes {@code C}, so projecting the teacher's sentence vectors on the same axes puts the targets
 * in the space the table already lives in: training starts from the static solution rather than from a rotated
 * copy of it. The projection is orthonormal, so cosines between targets are the teacher's cosines up to what the
 * dropped axes held (recorded as {@code target_ceiling_spearman}). A learned linear map {@code W} from student to
 * teacher space would fit the loss as well, but the student is compared on its own vectors {@code s}, and unless
 * {@code W} is orthogonal {@code cos(Ws_a, Ws_b) ≠ cos(s_a, s_b)}: the map would absorb what the table should
 * learn. The targets are not centred: the teacher's cosines are taken on its raw vectors, and the rows are free to
 * learn the shared offset. With unit vectors on both sides MSE is the cosine loss weighted by {@code ‖y‖} (how much
 * of the sentence the kept axes hold); it is offered because the issue asks for it and reads on that scale.
 *
 * <p>Only the rows of tokens that occur in the training sentences can receive a gradient, so training runs on that
 * compact sub-table and writes it back. Within it, a step reads only its batch's rows (about a thousand of tens of
 * thousands), so only those go through autograd and only those are updated, by lazy Adam ({@link RowAdam}): on
 * 50,000 real sentences an epoch takes 5–6 s instead of 20–35 s with a dense step over the whole sub-table, at the
 * same fidelity (docs/benchmarks.md). There is no separate per-token weight: a row's norm already is its token's
 * weight in the mean, and the optimizer has no weight decay for the same reason (decay would shrink trained rows
 * against untrained ones). The
 * held-out split picks the best epoch by Spearman of pairwise cosines against the teacher; given the seed, the
 * split, the batch order and therefore the result are the same on every run.
 */
public final class StaticTuner {
    /** What the student's sentence vectors are pulled toward the targets with. */
    public enum Loss {
        COSINE, MSE, CONTRASTIVE;

        public static Loss parse(String s) {
            for (Loss l : values()) if (l.name().equalsIgnoreCase(s)) return l;
            throw new InvalidInputException("unknown --loss '" + s + "': use cosine, mse or contrastive");
        }

        public String id() { return name().toLowerCase(Locale.ROOT); }
    }

    /**
     * @param loss            training loss
     * @param epochs          passes over the training split
     * @param learningRate    AdamW peak rate (linear warmup over the first 5 % of steps, cosine decay to 0)
     * @param batchSize       sentences per step (and in-batch negatives for the contrastive loss)
     * @param temperature     τ of the contrastive loss
     * @param heldOutFraction share of the corpus kept out of training to pick the best epoch and report fidelity
     * @param maxGradNorm     global gradient-norm clip; 0 = off
     * @param seed            split and batch order
     */
    public record Options(Loss loss, int epochs, double learningRate, int batchSize, double temperature,
                          double heldOutFraction, double maxGradNorm, long seed, double structureWeight) {
        public static final int DEFAULT_EPOCHS = 10;
        public static final double DEFAULT_LR = 3e-3;
        public static final int DEFAULT_BATCH = 64;
        public static final double DEFAULT_TEMPERATURE = 0.05;
        public static final double DEFAULT_STRUCTURE_WEIGHT = 0;

        public Options {
            if (loss == null) throw new InvalidInputException("a loss is required: cosine, mse or contrastive");
            if (epochs < 1) throw new InvalidInputException("--epochs must be at least 1, got " + epochs);
            if (!(learningRate > 0)) throw new InvalidInputException("--lr must be > 0, got " + learningRate);
            if (batchSize < 2) throw new InvalidInputException("--batch-size must be at least 2, got " + batchSize);
            if (!(temperature > 0)) throw new InvalidInputException("the contrastive temperature must be > 0, got " + temperature);
            if (!(heldOutFraction > 0 && heldOutFraction < 1)) {
                throw new InvalidInputException("the held-out fraction must be in (0, 1), got " + heldOutFraction);
            }
            if (!(maxGradNorm >= 0)) throw new InvalidInputException("the gradient clip must be ≥ 0, got " + maxGradNorm);
            if (!(structureWeight >= 0)) throw new InvalidInputException("--structure-weight must be ≥ 0, got " + structureWeight);
        }

        public Options(Loss loss, int epochs, double learningRate, int batchSize, double temperature,
                       double heldOutFraction, double maxGradNorm, long seed) {
            this(loss, epochs, learningRate, batchSize, temperature, heldOutFraction, maxGradNorm, seed, DEFAULT_STRUCTURE_WEIGHT);
        }

        public static Options defaults(Loss loss) {
            return new Options(loss, DEFAULT_EPOCHS, DEFAULT_LR, DEFAULT_BATCH, DEFAULT_TEMPERATURE, 0.1, 1.0, 42);
        }

        public Options withEpochs(int e) { return new Options(loss, e, learningRate, batchSize, temperature, heldOutFraction, maxGradNorm, seed, structureWeight); }

        public Options withLearningRate(double lr) { return new Options(loss, epochs, lr, batchSize, temperature, heldOutFraction, maxGradNorm, seed, structureWeight); }

        public Options withBatchSize(int b) { return new Options(loss, epochs, learningRate, b, temperature, heldOutFraction, maxGradNorm, seed, structureWeight); }

        public Options withSeed(long s) { return new Options(loss, epochs, learningRate, batchSize, temperature, heldOutFraction, maxGradNorm, s, structureWeight); }

        /** Adds {@code w ·} the in-batch cosine-structure loss (see the class comment); 0 = off. */
        public Options withStructureWeight(double w) { return new Options(loss, epochs, learningRate, batchSize, temperature, heldOutFraction, maxGradNorm, seed, w); }
    }

    /** What a long run reports while it goes. */
    public sealed interface Progress {
        /** The teacher has embedded {@code done} of {@code total} corpus sentences. */
        record TeacherPass(int done, int total) implements Progress {}

        /** Epoch {@code epoch} of {@code epochs} ended (0 = before training). */
        record Epoch(int epoch, int epochs, long steps, double trainLoss, double heldOutSpearman, double seconds)
                implements Progress {}
    }

    /** The tuned student and how it got there; {@code spearman*} are on the held-out split. */
    public record Result(StaticEmbeddingModel model, int trainSentences, int heldOutSentences, int trainedTokens,
                         double spearmanBefore, double spearmanAfter, int bestEpoch, double targetCeilingSpearman,
                         double seconds) {}

    static final int HELD_OUT_MIN = 20;
    static final int HELD_OUT_SCORED_MAX = 1000;   // n(n−1)/2 pairs: 1,000 sentences are 499,500 pairs
    private static final int TEACHER_CHUNK = 256;
    private static final double NORM_FLOOR = 1e-6;

    private StaticTuner() {}

    /**
     * Tunes {@code start} (built by {@link StaticDistiller} with the PCA basis {@code basis}) on the teacher's
     * embeddings of {@code corpus}; {@code start} is not changed.
     */
    public static Result tune(StaticEmbeddingModel start, Pca.Fit basis, EmbeddingModel teacher, List<String> corpus,
                              Options o, Consumer<Progress> progress) throws IOException {
        long t0 = System.nanoTime();
        int dim = start.dimension();
        if (basis.components().length != dim) {
            throw new InvalidInputException("the PCA basis has " + basis.components().length + " axes but the student " + dim + " dimensions");
        }
        if (basis.components()[0].length != teacher.dimension()) {
            throw new InvalidInputException("the PCA basis is for " + basis.components()[0].length
                    + "-d vectors but the teacher gives " + teacher.dimension() + "-d: tune with the teacher the student was distilled from");
        }
        Consumer<Progress> report = progress != null ? progress : p -> {};

        // Sentences with no known token have no student vector to train
        List<String> texts = new ArrayList<>();
        List<int[]> tokens = new ArrayList<>();
        for (String s : corpus) {
            int[] ids = start.tokenIds(s);
            if (ids.length > 0) {
                texts.add(s);
                tokens.add(ids);
            }
        }
        int heldOut = (int) Math.round(texts.size() * o.heldOutFraction());
        if (heldOut < HELD_OUT_MIN || texts.size() - heldOut < o.batchSize()) {
            throw new InvalidInputException("the training corpus has " + texts.size() + " usable sentences: too few for a "
                    + HELD_OUT_MIN + "-sentence held-out split and one batch of " + o.batchSize() + "; give it more sentences");
        }

        Random rnd = new Random(o.seed());
        int[] order = shuffled(texts.size(), rnd);
        int[] trainIdx = Arrays.copyOfRange(order, heldOut, order.length);
        int[] heldIdx = Arrays.copyOf(order, Math.min(heldOut, HELD_OUT_SCORED_MAX));
        int[] heldSlot = new int[texts.size()];
        Arrays.fill(heldSlot, -1);
        for (int i = 0; i < heldIdx.length; i++) heldSlot[heldIdx[i]] = i;

        // Streamed: only the d-dimensional targets are kept per sentence (and the teacher's own vectors of the
        // scored held-out sentences), so 100,000 sentences of a 384-d teacher at 256 dims take about 100 MB
        float[][] targets = new float[texts.size()][];
        float[][] heldTeacher = new float[heldIdx.length][];
        for (int from = 0; from < texts.size(); from += TEACHER_CHUNK) {
            int to = Math.min(texts.size(), from + TEACHER_CHUNK);
            float[][] t = teacher.embed(texts.subList(from, to));
            for (int i = from; i < to; i++) {
                if (heldSlot[i] >= 0) heldTeacher[heldSlot[i]] = t[i - from];
                targets[i] = project(basis, t[i - from]);
            }
            report.accept(new Progress.TeacherPass(to, texts.size()));
        }

        // The compact sub-table: every token of the corpus, in id order, renumbered from 0
        TreeMap<Integer, Integer> compact = new TreeMap<>();
        for (int[] ids : tokens) for (int id : ids) compact.putIfAbsent(id, 0);
        int[] vocabIds = compact.keySet().stream().mapToInt(Integer::intValue).toArray();
        for (int i = 0; i < vocabIds.length; i++) compact.put(vocabIds[i], i);
        int[][] local = new int[tokens.size()][];
        for (int i = 0; i < local.length; i++) local[i] = Arrays.stream(tokens.get(i)).map(compact::get).toArray();
        float[] sub = new float[vocabIds.length * dim];
        for (int i = 0; i < vocabIds.length; i++) System.arraycopy(start.row(vocabIds[i]), 0, sub, i * dim, dim);

        float[][] heldTargets = new float[heldIdx.length][];
        for (int i = 0; i < heldIdx.length; i++) {
            heldTargets[i] = Vectors.normalize(targets[heldIdx[i]].clone());
        }
        double ceiling = Fidelity.similaritySpearman(heldTeacher, heldTargets);
        double before = heldOutSpearman(sub, dim, local, heldIdx, heldTeacher);
        report.accept(new Progress.Epoch(0, o.epochs(), 0, Double.NaN, before, (System.nanoTime() - t0) / 1e9));

        int stepsPerEpoch = (trainIdx.length + o.batchSize() - 1) / o.batchSize();
        long totalSteps = (long) stepsPerEpoch * o.epochs();
        LrSchedule schedule = new LrSchedule(o.learningRate(), 0, totalSteps / 20, totalSteps);
        float[] best = sub.clone();
        double bestSpearman = before;
        int bestEpoch = 0;
        Engine engine = Engine.getEngine("PyTorch");
        RowAdam adam = new RowAdam(sub, dim);
        try (NDManager manager = engine.newBaseManager()) {
            for (int epoch = 1; epoch <= o.epochs(); epoch++) {
                int[] batchOrder = shuffled(trainIdx.length, rnd);
                double lossSum = 0;
                for (int from = 0; from < trainIdx.length; from += o.batchSize()) {
                    int to = Math.min(trainIdx.length, from + o.batchSize());
                    int[] batch = new int[to - from];
                    for (int i = from; i < to; i++) batch[i - from] = trainIdx[batchOrder[i]];
                    // only the rows this batch reads get a gradient, so only they go through autograd
                    Batch b = Batch.of(local, targets, batch, dim);
                    float[] grad;
                    try (NDManager scope = manager.newSubManager();
                         GradientCollector collector = engine.newGradientCollector()) {
                        NDArray rows = scope.create(adam.gather(b.rows()), new Shape(b.rows().length, dim));
                        rows.setRequiresGradient(true);
                        NDArray ids = scope.create(b.ids(), new Shape(batch.length, b.length()));
                        NDArray mask = scope.create(b.mask(), new Shape(batch.length, b.length()));
                        NDArray y = scope.create(b.targets(), new Shape(batch.length, dim));
                        NDArray pooled = pool(rows, ids, mask);
                        NDArray loss = loss(pooled, y, o.loss(), o.temperature());
                        if (o.structureWeight() > 0) loss = loss.add(Scalars.mul(structure(pooled, y), o.structureWeight()));
                        collector.backward(loss);
                        lossSum += loss.getFloat() * batch.length;
                        grad = rows.getGradient().toFloatArray();
                    }
                    adam.step(b.rows(), grad, schedule.at(adam.steps()), o.maxGradNorm());
                }
                float[] now = adam.table();
                double spearman = heldOutSpearman(now, dim, local, heldIdx, heldTeacher);
                if (spearman > bestSpearman) {
                    bestSpearman = spearman;
                    bestEpoch = epoch;
                    best = now.clone();
                }
                report.accept(new Progress.Epoch(epoch, o.epochs(), adam.steps(), lossSum / trainIdx.length, spearman,
                        (System.nanoTime() - t0) / 1e9));
            }
        }

        float[] full = start.tableCopy();
        for (int i = 0; i < vocabIds.length; i++) System.arraycopy(best, i * dim, full, vocabIds[i] * dim, dim);
        double seconds = (System.nanoTime() - t0) / 1e9;
        ObjectNode cfg = start.config();
        ObjectNode tuned = cfg.putObject("tuned");
        tuned.put("loss", o.loss().id());
        tuned.put("epochs", o.epochs());
        tuned.put("best_epoch", bestEpoch);
        tuned.put("learning_rate", o.learningRate());
        tuned.put("batch_size", o.batchSize());
        if (o.loss() == Loss.CONTRASTIVE) tuned.put("temperature", o.temperature());
        tuned.put("seed", o.seed());
        if (o.structureWeight() > 0) tuned.put("structure_weight", o.structureWeight());
        tuned.put("target_basis", "pca");
        tuned.put("corpus_sentences", texts.size());
        tuned.put("train_sentences", trainIdx.length);
        tuned.put("held_out_sentences", heldOut);
        tuned.put("trained_tokens", vocabIds.length);
        tuned.put("held_out_spearman_before", before);
        tuned.put("held_out_spearman", bestSpearman);
        tuned.put("target_ceiling_spearman", ceiling);
        tuned.put("seconds", seconds);
        StaticEmbeddingModel model = new StaticEmbeddingModel(start.name().replaceFirst("^static-", "static-tuned-"),
                start.tokenizerJson(), full, start.vocabSize(), dim, cfg);
        return new Result(model, trainIdx.length, heldOut, vocabIds.length, before, bestSpearman, bestEpoch, ceiling, seconds);
    }

    /** {@code Cᵀ x}: the teacher's vector on the PCA axes, not centred (see the class comment). */
    static float[] project(Pca.Fit basis, float[] x) {
        double[][] c = basis.components();
        float[] y = new float[c.length];
        for (int k = 0; k < c.length; k++) {
            double s = 0;
            for (int i = 0; i < x.length; i++) s += c[k][i] * x[i];
            y[k] = (float) s;
        }
        return y;
    }

    /**
     * A padded batch over the rows it reads: {@code rows} are the table rows its sentences use (ascending), {@code ids}
     * [B, length] index into {@code rows} (0 past each sentence's end), {@code mask} [B, length] is 1 at a token,
     * {@code targets} [B, d].
     */
    record Batch(int[] rows, long[] ids, float[] mask, int length, float[] targets) {
        static Batch of(int[][] tokens, float[][] targets, int[] sentences, int dim) {
            int len = 0;
            TreeMap<Integer, Integer> slot = new TreeMap<>();
            for (int r : sentences) {
                len = Math.max(len, tokens[r].length);
                for (int t : tokens[r]) slot.putIfAbsent(t, 0);
            }
            int[] rows = slot.keySet().stream().mapToInt(Integer::intValue).toArray();
            for (int i = 0; i < rows.length; i++) slot.put(rows[i], i);
            long[] ids = new long[sentences.length * len];
            float[] mask = new float[sentences.length * len];
            float[] y = new float[sentences.length * dim];
            for (int b = 0; b < sentences.length; b++) {
                int[] t = tokens[sentences[b]];
                for (int l = 0; l < t.length; l++) {
                    ids[b * len + l] = slot.get(t[l]);
                    mask[b * len + l] = 1;
                }
                System.arraycopy(targets[sentences[b]], 0, y, b * dim, dim);
            }
            return new Batch(rows, ids, mask, len, y);
        }
    }

    /**
     * Adam over the rows of a table, updating only the rows a step has a gradient for (the lazy Adam of
     * {@code torch.optim.SparseAdam} and TensorFlow's LazyAdam): a batch of 64 sentences reads about a thousand of a
     * table's tens of thousands of rows, and a dense step would decay the moments of, and move, every row at every
     * step. A row's moments change only on the steps that read it; the step count and bias correction are
     * global, as in {@link dev.distill4j.train.optim.AdamW}, whose update this is for the rows read (the first step equals AdamW's exactly).
     * The gradient is clipped to a global norm first, which over the rows read is the whole table's norm.
     */
    static final class RowAdam {
        private static final double BETA1 = 0.9, BETA2 = 0.999, EPSILON = 1e-8;
        private final float[] table, m, v;
        private final int dim;
        private long step;

        RowAdam(float[] table, int dim) {
            this.table = table;
            this.dim = dim;
            this.m = new float[table.length];
            this.v = new float[table.length];
        }

        long steps() { return step; }

        /** The live table (row-major [rows, d]). */
        float[] table() { return table; }

        /** The given rows, concatenated. */
        float[] gather(int[] rows) {
            float[] out = new float[rows.length * dim];
            for (int i = 0; i < rows.length; i++) System.arraycopy(table, rows[i] * dim, out, i * dim, dim);
            return out;
        }

        /** One update of {@code rows} by their gradient {@code grad} ([rows, d], as {@link #gather} lays them out). */
        void step(int[] rows, float[] grad, double lr, double maxNorm) {
            step++;
            double norm = 0;
            for (float g : grad) norm += (double) g * g;
            norm = Math.sqrt(norm);
            double clip = maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
            double c1 = 1 - Math.pow(BETA1, step), c2 = Math.sqrt(1 - Math.pow(BETA2, step));
            for (int i = 0; i < rows.length; i++) {
                for (int k = 0, at = rows[i] * dim; k < dim; k++, at++) {
                    double g = grad[i * dim + k] * clip;
                    m[at] = (float) (BETA1 * m[at] + (1 - BETA1) * g);
                    v[at] = (float) (BETA2 * v[at] + (1 - BETA2) * g * g);
                    table[at] -= (float) (lr / c1 * m[at] / (Math.sqrt(v[at]) / c2 + EPSILON));
                }
            }
        }
    }

    /** s = normalise(mean of the rows of {@code ids} where {@code mask} is 1): [B, L] → [B, d]. */
    static NDArray pool(NDArray table, NDArray ids, NDArray mask) {
        NDArray rows = ids.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow(); // [B, L, d]
        NDArray m = mask.toType(table.getDataType(), false);
        NDArray mean = rows.mul(m.expandDims(2)).sum(new int[] {1}).div(m.sum(new int[] {1}, true));
        return normalise(mean);
    }

    /** Rows scaled to unit length; the floor keeps an all-zero row (a sentence of untrained tokens) finite. */
    static NDArray normalise(NDArray x) {
        return x.div(x.square().sum(new int[] {1}, true).add(NORM_FLOOR * NORM_FLOOR).sqrt());
    }

    /** The batch loss of unit student vectors {@code s} [B, d] against targets {@code y} [B, d] (see the class comment). */
    static NDArray loss(NDArray s, NDArray y, Loss loss, double temperature) {
        return switch (loss) {
            case COSINE -> s.mul(normalise(y)).sum(new int[] {1}).mean().neg().add(1);
            case MSE -> s.sub(y).square().mean();
            case CONTRASTIVE -> {
                int b = (int) s.getShape().get(0);
                NDArray logits = Scalars.div(s.matMul(normalise(y).transpose()), temperature);       // [B, B]: sentence × target
                NDArray eye = s.getManager().eye(b).toType(s.getDataType(), false);
                yield Scalars.div(logits.logSoftmax(1).mul(eye).sum(), -b);
            }
        };
    }

    /**
     * The in-batch cosine-structure loss: mean over pairs b ≠ c of {@code (s_b·s_c − ŷ_b·ŷ_c)²}, the squared gap
     * between the student's and the (projected) teacher's cosine of every pair of sentences in the batch. The
     * regression losses pull each sentence toward its own target; this one asks directly for what the Spearman of
     * pairwise cosines measures, that pairs keep the teacher's similarities.
     */
    static NDArray structure(NDArray s, NDArray y) {
        int b = (int) s.getShape().get(0);
        NDArray yn = normalise(y);
        NDArray gap = s.matMul(s.transpose()).sub(yn.matMul(yn.transpose()));
        NDArray offDiagonal = s.getManager().eye(b).toType(s.getDataType(), false).neg().add(1);
        return Scalars.div(gap.square().mul(offDiagonal).sum(), (double) b * (b - 1));
    }

    private static double heldOutSpearman(float[] table, int dim, int[][] local, int[] held, float[][] heldTeacher) {
        float[][] student = new float[held.length][];
        for (int i = 0; i < held.length; i++) student[i] = StaticEmbeddingModel.pool(table, dim, local[held[i]]);
        return Fidelity.similaritySpearman(heldTeacher, student);
    }

    private static int[] shuffled(int n, Random rnd) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
