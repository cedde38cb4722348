package dev.distill4j.embed;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;

/** Fidelity and speed of a student against its teacher on one sentence set, on this machine. */
public final class EmbedEval {
    public static final int RECALL_K = 10;

    /** One comparison; speeds are measured with each model embedding the whole set in its own batches. */
    public record Scorecard(String teacher, String student, int sentences, int teacherDim, int studentDim,
                            double spearman, double recallAt10, double cka,
                            double teacherSentencesPerSec, double studentSentencesPerSec, double speedup,
                            double teacherLatencyMs, double studentLatencyMs, int cpus, double loadAverage) {}

    private EmbedEval() {}

    public static Scorecard run(EmbeddingModel teacher, EmbeddingModel student, List<String> sentences) {
        if (sentences.size() <= RECALL_K) {
            throw new IllegalArgumentException("evaluation needs more than " + RECALL_K + " sentences, got " + sentences.size());
        }
        teacher.embed(sentences.subList(0, Math.min(8, sentences.size())));   // warm-up: graph init, JIT
        student.embed(sentences);
        long t0 = System.nanoTime();
        float[][] t = teacher.embed(sentences);
        long t1 = System.nanoTime();
        float[][] s = student.embed(sentences);
        long t2 = System.nanoTime();
        double tps = sentences.size() / ((t1 - t0) / 1e9), sps = sentences.size() / ((t2 - t1) / 1e9);
        List<String> probe = sentences.subList(0, Math.min(32, sentences.size()));
        return new Scorecard(teacher.name(), student.name(), sentences.size(), teacher.dimension(), student.dimension(),
                Fidelity.similaritySpearman(t, s), Fidelity.recallAtK(t, s, RECALL_K), Fidelity.linearCka(t, s),
                tps, sps, sps / tps, medianLatencyMs(teacher, probe), medianLatencyMs(student, probe),
                Runtime.getRuntime().availableProcessors(), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    /** Median wall time of embedding one sentence alone (what a request sees). */
    static double medianLatencyMs(EmbeddingModel m, List<String> probe) {
        double[] ms = new double[probe.size()];
        for (int i = 0; i < ms.length; i++) {
            long a = System.nanoTime();
            m.embed(probe.get(i));
            ms[i] = (System.nanoTime() - a) / 1e6;
        }
        Arrays.sort(ms);
        return ms[ms.length / 2];
    }
}
