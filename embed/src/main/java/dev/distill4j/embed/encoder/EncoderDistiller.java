package dev.distill4j.embed.encoder;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.embed.CachedEmbeddingModel;
import dev.distill4j.embed.EmbedCorpus;
import dev.distill4j.embed.Fidelity;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.model.nn.Scalars;
import dev.distill4j.train.optim.AdamW;
import dev.distill4j.train.optim.GradClip;
import dev.distill4j.train.optim.Gradients;
import dev.distill4j.train.optim.LrSchedule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Layer-dropped transformer students (DistilBERT-style, Sanh et al. 2019): the teacher's embeddings and a chosen
 * subset of its layers, then trained so the student's pooled, normalised embedding matches the teacher's:
 * <pre>
 *   L = mean_batch ‖ s(x) − t(x) ‖²  +  λ · mean_{i≠j in batch} (s_i·s_j − t_i·t_j)²      ({@link CosineStructureLoss})
 *         [ + μ · L_h ]                                                                   ({@link HiddenStateLoss})
 * </pre>
 * The first term alone is 2 − 2·cos(s, t) per sentence (unit vectors: MSE and cosine loss agree); the second makes
 * the batch's pairwise cosines the teacher's. The teacher's vectors can be kept on disk between runs
 * ({@link CachedEmbeddingModel}).
 * L_h, off by default (μ = 0), compares every token's state at every kept layer with the whole teacher's, run on
 * DJL beside the student; on real text it added +0.02 Spearman at 250 steps for 1.75× the step time, less than the
 * same time spent on more sentences gives (docs/embed.md).
 * The word-embedding table stays frozen by default: a corpus touches few of its 30k rows, and weight decay would
 * otherwise shrink every row it never sees. Batches hold sentences of similar length (little padding); their order
 * is shuffled each epoch with the seed.
 */
public final class EncoderDistiller {
    private EncoderDistiller() {}

    /**
     * @param layers         teacher layers to keep, in order (e.g. 0, 4, 8, 11)
     * @param epochs         passes over the training sentences; 0 = the initialisation only
     * @param lr             AdamW peak rate (linear warmup over 10 % of steps, cosine decay to 0)
     * @param batchSize      sentences per step
     * @param seed           batch order
     * @param trainWordEmbeddings also update the word-embedding table
     * @param pairWeight     λ of {@link CosineStructureLoss}: weight of the in-batch pairwise-cosine term (0 = MSE only)
     * @param teacherCache   folder keeping the teacher's vectors between runs ({@link CachedEmbeddingModel}); null = none
     * @param hiddenWeight   weight of {@link HiddenStateLoss}, the per-token, per-layer term (0 = sentence vectors only);
     *                       it runs the whole teacher on every batch, about doubling a step's time
     * @param ffnWidth       feed-forward neurons each kept layer keeps ({@link BertWeights#pruneFfn}, the most important
     *                       on the first {@value #IMPORTANCE_SENTENCES} training sentences); 0 = all of the teacher's
     */
    public record Options(int[] layers, int epochs, double lr, int batchSize, long seed, boolean trainWordEmbeddings,
                          double pairWeight, Path teacherCache, double hiddenWeight, int ffnWidth) {
        // chosen on real text's validation split (docs/benchmarks.md, "Layer-dropped student on real text"):
        // the pairwise term beat MSE alone at the same steps
        public static final int DEFAULT_EPOCHS = 4;
        /** As the learning rate: {@link #defaultLr} for the student's depth, chosen once the teacher's is known. */
        public static final double DEFAULT_LR = Double.NaN;
        public static final int DEFAULT_BATCH = 32;
        public static final int DEFAULT_TRAIN_SENTENCES = 4000;
        public static final double DEFAULT_PAIR_WEIGHT = 1.0;
        // the token-state term at μ = 4 (session 11's best on four layers: +0.02 recall@10 at equal steps) lifted the
        // eleven-layer student from 0.854 to 0.870 recall@10 where 50 % more sentences gave +0.001 (session 18);
        // it costs 1.6-1.75× the time per step (the whole teacher runs on each batch)
        public static final double DEFAULT_HIDDEN_WEIGHT = 4.0;

        public Options {
            if (layers.length == 0) throw new InvalidInputException("keep at least one teacher layer");
            if (Arrays.stream(layers).distinct().count() != layers.length) {
                throw new InvalidInputException("each teacher layer can be kept once: " + Arrays.toString(layers));
            }
            if (epochs < 0) throw new InvalidInputException("epochs must be ≥ 0, got " + epochs);
            if (batchSize < 1) throw new InvalidInputException("batch size must be ≥ 1, got " + batchSize);
            if (!(lr > 0) && !Double.isNaN(lr)) throw new InvalidInputException("learning rate must be > 0, got " + lr);
            if (!(pairWeight >= 0) || Double.isInfinite(pairWeight)) {
                throw new InvalidInputException("--structure-weight must be a finite number ≥ 0, got " + pairWeight);
            }
            if (!(hiddenWeight >= 0) || Double.isInfinite(hiddenWeight)) {
                throw new InvalidInputException("--hidden-weight must be a finite number ≥ 0, got " + hiddenWeight);
            }
            if (ffnWidth < 0) throw new InvalidInputException("--ffn-width must be ≥ 1 (or 0 for the teacher's), got " + ffnWidth);
        }

        /**
         * The learning rate for a student that keeps {@code kept} of the teacher's {@code teacherLayers} layers: the
         * nearer it starts to its teacher, the lower. Measured on real text: a third of the layers (4 of 12) trains
         * best at 1e-3 (+0.033 Spearman over 3e-4), five sixths (10 of 12) at 1e-4 (0.923 against 0.851 at 1e-3);
         * in between the rate falls geometrically (checked at 7 of 12: 3.2e-4 beat 1e-3 and 1e-4), and it stays at
         * the ends outside.
         */
        public static double defaultLr(int kept, int teacherLayers) {
            double f = (double) kept / teacherLayers, far = 1.0 / 3, near = 5.0 / 6;
            double t = Math.max(0, Math.min(1, (f - far) / (near - far)));
            return 1e-3 * Math.pow(10, -t);
        }

        /** These options with {@link #DEFAULT_LR} resolved for a teacher of {@code teacherLayers} layers. */
        Options withLrFor(int teacherLayers) {
            return Double.isNaN(lr) ? new Options(layers, epochs, defaultLr(layers.length, teacherLayers), batchSize,
                    seed, trainWordEmbeddings, pairWeight, teacherCache, hiddenWeight, ffnWidth) : this;
        }

        /** The teacher's feed-forward width. */
        public Options(int[] layers, int epochs, double lr, int batchSize, long seed, boolean trainWordEmbeddings,
                       double pairWeight, Path teacherCache, double hiddenWeight) {
            this(layers, epochs, lr, batchSize, seed, trainWordEmbeddings, pairWeight, teacherCache, hiddenWeight, 0);
        }

        /** Sentence-vector losses only (no {@link HiddenStateLoss}). */
        public Options(int[] layers, int epochs, double lr, int batchSize, long seed, boolean trainWordEmbeddings,
                       double pairWeight, Path teacherCache) {
            this(layers, epochs, lr, batchSize, seed, trainWordEmbeddings, pairWeight, teacherCache, 0);
        }

        /** The default loss ({@link #DEFAULT_PAIR_WEIGHT}) and no teacher cache. */
        public Options(int[] layers, int epochs, double lr, int batchSize, long seed, boolean trainWordEmbeddings) {
            this(layers, epochs, lr, batchSize, seed, trainWordEmbeddings, DEFAULT_PAIR_WEIGHT, null);
        }

        /** Parses {@code layers:0,4,8}; null if {@code spec} is not a layers spec. */
        public static int[] parseLayers(String spec) {
            if (!spec.startsWith("layers:")) return null;
            try {
                int[] l = Arrays.stream(spec.substring("layers:".length()).split(",")).map(String::trim)
                        .mapToInt(Integer::parseInt).toArray();
                if (l.length == 0) throw new NumberFormatException();
                return l;
            } catch (NumberFormatException e) {
                throw new InvalidInputException("bad student '" + spec + "': write layers:0,4,8 (teacher layer indices)");
            }
        }
    }

    /** Training progress: the teacher pass, each optimizer step, and the held-out scores before training and after each epoch. */
    public interface Progress {
        /** The teacher has embedded {@code done} of the {@code missing} sentences its cache lacked (or all, without one). */
        default void onTeacher(int done, int missing) {}

        void onStep(int epoch, long step, long totalSteps, double loss, double lr);

        /**
         * @param heldOutLoss     mean ‖s − t‖² over the held-out sentences
         * @param heldOutSpearman Spearman of their pairwise cosines, student against teacher
         */
        void onEval(int epoch, double heldOutLoss, double heldOutSpearman);
    }

    /**
     * The trained student, its held-out MSE and Spearman before training (index 0) and after each epoch, and how
     * many training/held-out teacher vectors came from the cache.
     */
    public record Result(EncoderStudent student, double[] heldOutLoss, double[] heldOutSpearman, int cachedVectors,
                         double seconds) {}

    /**
     * Builds the student from {@code teacher}'s ONNX weights ({@code teacherSpec} as for
     * {@link OnnxEmbeddingModel#load(String)}) and trains it on {@code train}; {@code heldOut} only measures.
     */
    public static Result distill(OnnxEmbeddingModel teacher, String teacherSpec, List<String> train,
                                 List<String> heldOut, Options options, Progress progress) throws IOException {
        long start = System.nanoTime();
        byte[] teacherGraph = OnnxEmbeddingModel.onnxBytes(teacherSpec);
        BertWeights all = BertWeights.fromOnnx(OnnxGraph.parse(teacherGraph));
        Options o = options.withLrFor(all.config().numHiddenLayers());
        ObjectNode info = Json.object();
        info.put("teacher", teacher.name());
        ArrayNode kept = info.putArray("teacher_layers");
        for (int l : o.layers()) kept.add(l);
        info.put("teacher_num_layers", all.config().numHiddenLayers());
        info.put("loss", (o.pairWeight() == 0 ? "mse" : "mse+pairwise-cosine") + (o.hiddenWeight() > 0 ? "+hidden-states" : ""));
        info.put("pair_weight", o.pairWeight());
        info.put("hidden_weight", o.hiddenWeight());
        info.put("epochs", o.epochs());
        info.put("lr", o.lr());
        info.put("batch_size", o.batchSize());
        info.put("train_sentences", train.size());
        BertWeights initial = all.keepLayers(o.layers());
        if (o.ffnWidth() > 0 && o.ffnWidth() != initial.config().intermediateSize()) {
            initial = pruned(initial, teacher, train, o.ffnWidth());
            info.put("ffn_width", o.ffnWidth());
            info.put("teacher_ffn_width", all.config().intermediateSize());
        }
        EncoderStudent student = new EncoderStudent(teacher.name() + "-" + o.layers().length + "L", initial,
                teacher.tokenizerJson(), teacher.pooling(), teacher.maxLength(), info,
                new EncoderStudent.Graph(() -> teacherGraph, o.layers()));
        Targets targets = Targets.of(teacher, train, heldOut, o.teacherCache(), progress);
        Curves curves;
        // the whole teacher on DJL only when the token-state term needs it (null resources are skipped on close)
        try (NDManager m = NDManager.newBaseManager();
             BertEncoder whole = o.hiddenWeight() > 0 && o.epochs() > 0 ? new BertEncoder(all, m) : null) {
            curves = train(student, whole, targets, train, heldOut, o, progress);
        }
        info.put("held_out_sentences", heldOut.size());
        info.put("held_out_spearman", curves.spearman()[curves.spearman().length - 1]);
        return new Result(student, curves.loss(), curves.spearman(), targets.cached(), (System.nanoTime() - start) / 1e9);
    }

    /** Training sentences whose feed-forward activations rank the neurons {@link Options#ffnWidth} keeps. */
    public static final int IMPORTANCE_SENTENCES = 512;

    /**
     * {@code start} with {@code width} feed-forward neurons per layer: the ones that contribute most on the first
     * {@value #IMPORTANCE_SENTENCES} training sentences, measured on the unpruned layers ({@link BertEncoder#ffnImportance}).
     */
    static BertWeights pruned(BertWeights start, OnnxEmbeddingModel teacher, List<String> train, int width) {
        if (train.isEmpty()) throw new InvalidInputException("--ffn-width needs training sentences to rank the neurons by");
        long[][] ids = new long[Math.min(train.size(), IMPORTANCE_SENTENCES)][];
        for (int i = 0; i < ids.length; i++) ids[i] = teacher.tokenize(train.get(i));
        List<long[][]> batches = new ArrayList<>();
        for (int[] b : lengthBatches(ids, 32)) {
            long[][] batch = new long[b.length][];
            for (int i = 0; i < b.length; i++) batch[i] = ids[b[i]];
            batches.add(batch);
        }
        try (NDManager m = NDManager.newBaseManager(); BertEncoder encoder = new BertEncoder(start, m)) {
            return start.pruneFfn(width, encoder.ffnImportance(batches));
        }
    }

    /**
     * The teacher's vectors of the training and held-out sentences; {@code cached} of them came from the cache
     * (sentences, less the distinct ones it lacked).
     */
    record Targets(float[][] train, float[][] heldOut, int cached) {
        static Targets of(OnnxEmbeddingModel teacher, List<String> train, List<String> heldOut, Path cacheDir,
                          Progress progress) throws IOException {
            List<String> all = new ArrayList<>(train.size() + heldOut.size());
            all.addAll(train);
            all.addAll(heldOut);
            if (cacheDir == null) {
                float[][] v = new float[all.size()][];
                for (int s = 0; s < all.size(); s += TEACHER_CHUNK) {                   // chunks: progress on long passes
                    int e = Math.min(all.size(), s + TEACHER_CHUNK);
                    System.arraycopy(teacher.embed(all.subList(s, e)), 0, v, s, e - s);
                    progress.onTeacher(e, all.size());
                }
                return split(v, train.size(), 0);
            }
            CachedEmbeddingModel cache = CachedEmbeddingModel.open(teacher, cacheDir);
            int missing = cache.missing(all);
            return split(cache.embed(all, progress::onTeacher), train.size(), all.size() - missing);
        }

        private static Targets split(float[][] v, int train, int cached) {
            return new Targets(Arrays.copyOfRange(v, 0, train), Arrays.copyOfRange(v, train, v.length), cached);
        }
    }

    /** Sentences the teacher embeds between two progress reports when nothing is cached. */
    private static final int TEACHER_CHUNK = 2048;

    /** Held-out MSE and Spearman before training (index 0) and after each epoch. */
    record Curves(double[] loss, double[] spearman) {}

    /**
     * Trains {@code student} in place towards the teacher's vectors {@code targets}, and, when {@code teacher} (the
     * whole teacher on DJL) is given, towards its token states ({@link HiddenStateLoss}); returns the held-out curves.
     */
    static Curves train(EncoderStudent student, BertEncoder teacher, Targets targets, List<String> train,
                        List<String> heldOut, Options o, Progress progress) {
        long[][] trainIds = tokenize(student, train), evalIds = tokenize(student, heldOut);
        float[][] trainTargets = targets.train(), evalTargets = targets.heldOut();
        double[] curve = new double[o.epochs() + 1], rho = new double[o.epochs() + 1];
        float[][] before = student.embedIds(evalIds);
        curve[0] = loss(before, evalTargets);
        rho[0] = spearman(evalTargets, before);
        progress.onEval(0, curve[0], rho[0]);
        if (o.epochs() == 0 || train.isEmpty()) return new Curves(Arrays.copyOf(curve, 1), Arrays.copyOf(rho, 1));

        Map<String, NDArray> params = new LinkedHashMap<>();
        for (var e : student.encoder().parameters().entrySet()) {
            if (!o.trainWordEmbeddings() && e.getKey().equals("embeddings.word_embeddings.weight")) continue;
            e.getValue().setRequiresGradient(true);
            params.put(e.getKey(), e.getValue());
        }
        List<NDArray> paramList = new ArrayList<>(params.values());
        List<int[]> batches = lengthBatches(trainIds, o.batchSize());
        long total = (long) batches.size() * o.epochs();
        LrSchedule schedule = new LrSchedule(o.lr(), 0, total / 10, total);
        Random rnd = new Random(o.seed());
        long step = 0;
        int d = student.dimension();
        try (AdamW adamW = AdamW.builder().build()) {
            for (int epoch = 1; epoch <= o.epochs(); epoch++) {
                Collections.shuffle(batches, rnd);
                for (int[] batch : batches) {
                    long[][] ids = new long[batch.length][];
                    float[] target = new float[batch.length * d];
                    for (int i = 0; i < batch.length; i++) {
                        ids[i] = trainIds[batch[i]];
                        System.arraycopy(trainTargets[batch[i]], 0, target, i * d, d);
                    }
                    double loss;
                    try (NDManager m = student.manager().newSubManager()) {
                        // the teacher's states before the collector opens: constants, no graph kept for them
                        List<NDArray> teacherStates = teacher == null ? null : kept(teacher.states(m, ids), o.layers());
                        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                            BertEncoder.States states = student.encoder().states(m, ids);
                            NDArray s = BertEncoder.pool(states, student.pooling());                      // [B, D]
                            NDArray l = CosineStructureLoss.of(s, m.create(target, new Shape(batch.length, d)), o.pairWeight());
                            if (teacherStates != null) {
                                NDArray h = HiddenStateLoss.of(states.layers(), teacherStates, states.keep());
                                l = l.add(Scalars.mul(h, o.hiddenWeight()));
                            }
                            collector.backward(l);
                            loss = l.getFloat();
                        }
                    }
                    double norm = GradClip.clip(paramList, 1.0);
                    double lr = schedule.at(step);
                    if (!Double.isFinite(norm)) {
                        throw new IllegalStateException("step " + (step + 1) + ": the gradient norm is " + norm
                                + "; lower --lr and try again");
                    }
                    adamW.step(params, lr);
                    Gradients.zero(paramList);
                    step++;
                    progress.onStep(epoch, step, total, loss, lr);
                }
                for (NDArray p : paramList) p.setRequiresGradient(false);
                float[][] now = student.embedIds(evalIds);
                curve[epoch] = loss(now, evalTargets);
                rho[epoch] = spearman(evalTargets, now);
                for (NDArray p : paramList) p.setRequiresGradient(true);
                progress.onEval(epoch, curve[epoch], rho[epoch]);
            }
        }
        for (NDArray p : paramList) p.setRequiresGradient(false);
        return new Curves(curve, rho);
    }

    /** The teacher's outputs of the layers the student kept, in the student's order. */
    static List<NDArray> kept(BertEncoder.States teacher, int[] layers) {
        List<NDArray> out = new ArrayList<>(layers.length);
        for (int l : layers) out.add(teacher.layers().get(l));
        return out;
    }

    /** Spearman of pairwise cosines; NaN with fewer than 3 sentences (no ranking to compare). */
    private static double spearman(float[][] teacher, float[][] student) {
        return teacher.length < 3 ? Double.NaN : Fidelity.similaritySpearman(teacher, student);
    }

    /** Training and evaluation sentences, disjoint. */
    public record Split(List<String> train, List<String> heldOut) {}

    /** A user corpus: every fifth sentence is held out for evaluation, the rest (minus any held-out duplicate) trains. */
    public static Split split(List<String> corpus) {
        List<String> train = new ArrayList<>(), held = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) (i % 5 == 4 ? held : train).add(corpus.get(i));
        return new Split(EmbedCorpus.withoutOverlap(train, held), held);
    }

    /** Mean over sentences of ‖s − t‖², the training loss. */
    public static double loss(float[][] student, float[][] teacher) {
        double sum = 0;
        for (int i = 0; i < student.length; i++) {
            for (int k = 0; k < student[i].length; k++) {
                double diff = student[i][k] - teacher[i][k];
                sum += diff * diff;
            }
        }
        return student.length == 0 ? 0 : sum / student.length;
    }

    private static long[][] tokenize(EncoderStudent s, List<String> texts) {
        long[][] ids = new long[texts.size()][];
        for (int i = 0; i < ids.length; i++) ids[i] = s.tokenize(texts.get(i));
        return ids;
    }

    /** Indices sorted by token count, cut into batches: each batch pads to nearly its own length. */
    static List<int[]> lengthBatches(long[][] ids, int batchSize) {
        Integer[] order = new Integer[ids.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> ids[i].length));
        List<int[]> batches = new ArrayList<>();
        for (int s = 0; s < order.length; s += batchSize) {
            int[] b = new int[Math.min(batchSize, order.length - s)];
            for (int i = 0; i < b.length; i++) b[i] = order[s + i];
            batches.add(b);
        }
        return batches;
    }
}
