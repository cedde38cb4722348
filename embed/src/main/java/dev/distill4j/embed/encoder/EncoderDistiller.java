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
import dev.distill4j.embed.EmbedCorpus;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.train.optim.AdamW;
import dev.distill4j.train.optim.GradClip;
import dev.distill4j.train.optim.Gradients;
import dev.distill4j.train.optim.LrSchedule;
import java.io.IOException;
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
 *   L = mean_batch ‖ s(x) − t(x) ‖²   (= 2 − 2·cos(s, t), both unit vectors: MSE and cosine loss agree)
 * </pre>
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
     */
    public record Options(int[] layers, int epochs, double lr, int batchSize, long seed, boolean trainWordEmbeddings) {
        // with each other: Spearman 0.985 on bge-small layers 0,4,8,11 (docs/benchmarks.md)
        public static final int DEFAULT_EPOCHS = 4;
        public static final double DEFAULT_LR = 3e-4;
        public static final int DEFAULT_BATCH = 32;
        public static final int DEFAULT_TRAIN_SENTENCES = 4000;

        public Options {
            if (layers.length == 0) throw new InvalidInputException("keep at least one teacher layer");
            if (Arrays.stream(layers).distinct().count() != layers.length) {
                throw new InvalidInputException("each teacher layer can be kept once: " + Arrays.toString(layers));
            }
            if (epochs < 0) throw new InvalidInputException("epochs must be ≥ 0, got " + epochs);
            if (batchSize < 1) throw new InvalidInputException("batch size must be ≥ 1, got " + batchSize);
            if (!(lr > 0)) throw new InvalidInputException("learning rate must be > 0, got " + lr);
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

    /** Training progress: each optimizer step, and the held-out loss before training and after each epoch. */
    public interface Progress {
        void onStep(int epoch, long step, long totalSteps, double loss, double lr);

        void onEval(int epoch, double heldOutLoss);
    }

    /** The trained student and its held-out loss before training (index 0) and after each epoch. */
    public record Result(EncoderStudent student, double[] heldOutLoss, double seconds) {}

    /**
     * Builds the student from {@code teacher}'s ONNX weights ({@code teacherSpec} as for
     * {@link OnnxEmbeddingModel#load(String)}) and trains it on {@code train}; {@code heldOut} only measures.
     */
    public static Result distill(OnnxEmbeddingModel teacher, String teacherSpec, List<String> train,
                                 List<String> heldOut, Options o, Progress progress) throws IOException {
        long start = System.nanoTime();
        byte[] teacherGraph = OnnxEmbeddingModel.onnxBytes(teacherSpec);
        BertWeights all = BertWeights.fromOnnx(OnnxGraph.parse(teacherGraph));
        ObjectNode info = Json.object();
        info.put("teacher", teacher.name());
        ArrayNode kept = info.putArray("teacher_layers");
        for (int l : o.layers()) kept.add(l);
        info.put("teacher_num_layers", all.config().numHiddenLayers());
        info.put("loss", "mse");
        info.put("epochs", o.epochs());
        info.put("lr", o.lr());
        info.put("batch_size", o.batchSize());
        info.put("train_sentences", train.size());
        EncoderStudent student = new EncoderStudent(teacher.name() + "-" + o.layers().length + "L", all.keepLayers(o.layers()),
                teacher.tokenizerJson(), teacher.pooling(), teacher.maxLength(), info,
                new EncoderStudent.Graph(() -> teacherGraph, o.layers()));
        double[] curve = train(student, teacher, train, heldOut, o, progress);
        return new Result(student, curve, (System.nanoTime() - start) / 1e9);
    }

    /** Trains {@code student} in place towards {@code teacher}'s embeddings; returns the held-out loss curve. */
    static double[] train(EncoderStudent student, OnnxEmbeddingModel teacher, List<String> train, List<String> heldOut,
                          Options o, Progress progress) {
        long[][] trainIds = tokenize(student, train), evalIds = tokenize(student, heldOut);
        float[][] trainTargets = teacher.embedIds(trainIds), evalTargets = teacher.embedIds(evalIds);
        double[] curve = new double[o.epochs() + 1];
        curve[0] = loss(student.embedIds(evalIds), evalTargets);
        progress.onEval(0, curve[0]);
        if (o.epochs() == 0 || train.isEmpty()) return Arrays.copyOf(curve, 1);

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
                    try (NDManager m = student.manager().newSubManager();
                         GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        NDArray s = student.encoder().embed(m, ids, student.pooling());                  // [B, D]
                        NDArray l = s.sub(m.create(target, new Shape(batch.length, d))).square().sum(new int[] {1}).mean();
                        collector.backward(l);
                        loss = l.getFloat();
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
                curve[epoch] = loss(student.embedIds(evalIds), evalTargets);
                for (NDArray p : paramList) p.setRequiresGradient(true);
                progress.onEval(epoch, curve[epoch]);
            }
        }
        for (NDArray p : paramList) p.setRequiresGradient(false);
        return curve;
    }

    /** Training and evaluation sentences, disjoint. */
    public record Split(List<String> train, List<String> heldOut) {}

    /**
     * A user corpus: every fifth sentence is held out for evaluation, the rest trains. Without one: the generated
     * evaluation set ({@code EmbedCorpus.synthetic(1000, 42)}, the one every embedding benchmark scores on) is held
     * out, and training uses other generated sentences ({@code trainSize} of them, another seed, the evaluation
     * sentences removed).
     */
    public static Split split(List<String> corpus, int trainSize) {
        if (corpus != null) {
            List<String> train = new ArrayList<>(), held = new ArrayList<>();
            for (int i = 0; i < corpus.size(); i++) (i % 5 == 4 ? held : train).add(corpus.get(i));
            return new Split(EmbedCorpus.withoutOverlap(train, held), held);
        }
        List<String> held = EmbedCorpus.synthetic(1000, 42);
        List<String> train = EmbedCorpus.withoutOverlap(EmbedCorpus.synthetic(Math.min(5000, trainSize + 1000), 43), held);
        return new Split(train.subList(0, Math.min(trainSize, train.size())), held);
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
