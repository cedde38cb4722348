package dev.distill4j.embed;

import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Fidelity and speed of a student against its teacher on one sentence set, on this machine. */
public final class EmbedEval {
    public static final int RECALL_K = 10;
    private static final long MIN_TIMING_NANOS = 1_000_000_000L;
    /** Sentences embedded untimed first (graph initialisation, JIT) and probed one at a time for latency. */
    static final int WARM_UP = 64;
    static final int LATENCY_PROBES = 32;

    /** One comparison; speeds are measured with each model embedding the whole set in its own batches. */
    public record Scorecard(String teacher, String student, int sentences, int teacherDim, int studentDim,
                            double spearman, double recallAt10, double ndcgAt10, double cka,
                            double teacherSentencesPerSec, double studentSentencesPerSec, double speedup,
                            double teacherLatencyMs, double studentLatencyMs, int cpus, double loadAverage) {}

    /** The scorecard's file in a student folder. */
    public static final String SCORECARD = "scorecard.json";

    /** Writes {@code card} as {@value #SCORECARD} into the student folder (atomically) and returns the file. */
    public static Path save(Scorecard card, Path studentDir) throws IOException {
        Path file = studentDir.resolve(SCORECARD);
        AtomicFiles.writeString(file, Json.writePretty(card));
        return file;
    }

    /**
     * One model on one sentence set: its vectors, its throughput embedding the whole set in one call (after a
     * warm-up), and the median wall time of embedding one sentence alone (what a request sees).
     */
    public record Measured(float[][] vectors, double sentencesPerSec, double latencyMs) {}

    /** How closely a student's vectors follow the teacher's: see {@link Fidelity}. */
    public record Agreement(double spearman, double[] recallAtK, double ndcgAt10, double cka) {
        public double recallAt10() { return recallAtK[RECALL_K - 1]; }
    }

    private EmbedEval() {}

    public static Scorecard run(EmbeddingModel teacher, EmbeddingModel student, List<String> sentences) {
        requireEnough(sentences);
        Measured t = measure(teacher, sentences), s = measure(student, sentences);
        Agreement a = agreement(t.vectors(), s.vectors());
        return new Scorecard(teacher.name(), student.name(), sentences.size(), teacher.dimension(), student.dimension(),
                a.spearman(), a.recallAt10(), a.ndcgAt10(), a.cka(), t.sentencesPerSec(), s.sentencesPerSec(),
                s.sentencesPerSec() / t.sentencesPerSec(), t.latencyMs(), s.latencyMs(),
                Runtime.getRuntime().availableProcessors(), loadAverage());
    }

    /** Fidelity needs more sentences than neighbours counted by recall@10. */
    public static void requireEnough(List<String> sentences) {
        if (sentences.size() <= RECALL_K) {
            throw new InvalidInputException("evaluation needs more than " + RECALL_K + " sentences, got " + sentences.size());
        }
    }

    public static Measured measure(EmbeddingModel m, List<String> sentences) {
        m.embed(sentences.subList(0, Math.min(WARM_UP, sentences.size())));
        // A fast student embeds the whole set in milliseconds: repeat the pass for at least a second so that the
        // figure is a steady rate, not one JIT-cold pass
        long t0 = System.nanoTime(), elapsed;
        float[][] v;
        int passes = 0;
        do {
            v = m.embed(sentences);
            passes++;
            elapsed = System.nanoTime() - t0;
        } while (elapsed < MIN_TIMING_NANOS);
        double perSec = (double) passes * sentences.size() / (elapsed / 1e9);
        return new Measured(v, perSec, medianLatencyMs(m, sentences.subList(0, Math.min(LATENCY_PROBES, sentences.size()))));
    }

    /**
     * Spearman of pairwise cosines, recall@1..10, nDCG@10 of the teacher's ranking on the query/document split
     * ({@link Fidelity#ndcgAtK}) and linear CKA of a student's vectors against the teacher's.
     */
    public static Agreement agreement(float[][] teacher, float[][] student) {
        return agreement(Fidelity.pairwiseCosines(teacher), teacher, student);
    }

    /** As above with the teacher's pairwise cosines computed once, for comparing several students. */
    public static Agreement agreement(double[] teacherPairCosines, float[][] teacher, float[][] student) {
        return new Agreement(Fidelity.spearman(teacherPairCosines, Fidelity.pairwiseCosines(student)),
                Fidelity.recallCurve(teacher, student, RECALL_K), ndcg(teacher, student), Fidelity.linearCka(teacher, student));
    }

    /** nDCG@10 where the set has enough documents for it (at least 11 besides the queries), else NaN. */
    static double ndcg(float[][] teacher, float[][] student) {
        int docs = teacher.length - (teacher.length + Fidelity.QUERY_EVERY - 1) / Fidelity.QUERY_EVERY;
        return docs >= RECALL_K ? Fidelity.ndcgAtK(teacher, student, RECALL_K) : Double.NaN;
    }

    /** The 1-minute load average (negative where the OS reports none); recorded beside every timing. */
    public static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
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
