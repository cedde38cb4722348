package dev.distill4j.eval;

import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Version;
import dev.distill4j.embed.EmbedCorpus;
import dev.distill4j.embed.EmbedEval;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.embed.Fidelity;
import dev.distill4j.embed.ModelFootprint;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.StudentSentences;
import dev.distill4j.embed.Vectors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * {@code distill eval} for embedding students: one teacher, one or more student folders (any kind
 * {@link EmbeddingModels#student} loads), one sentence set. Fidelity without labels (Spearman of pairwise cosines,
 * recall@1..10, linear CKA) and efficiency (parameters, bytes, sentences/s, single-sentence latency) of each
 * student against the teacher, measured here; writes {@code scorecard.json} and {@code report.html} to the output
 * folder. See docs/eval.md.
 *
 * <pre>{@code
 * EmbeddingScorecard card = EmbeddingEvaluator.builder().setTeacher("bge-small-en-v1.5")
 *         .addStudent(Path.of("students/static")).addStudent(Path.of("students/tuned"))
 *         .optOut(Path.of("eval/bge")).build().run();
 * }</pre>
 */
public final class EmbeddingEvaluator {
    /** Sentences when no corpus is given: the first of the real-text corpus's evaluation set, as {@code distill embed}. */
    public static final int DEFAULT_SENTENCES = 1000;
    public static final long CORPUS_SEED = 42;
    /** Pairs drawn for the scatter plot: enough to see the cloud, few enough to keep the page small. */
    public static final int PLOTTED_PAIRS = 800;

    private final Builder o;
    private volatile Evaluator.Progress progress = new Evaluator.Progress("loading", 0, 0);

    private EmbeddingEvaluator(Builder b) { this.o = b; }

    public static Builder builder() { return new Builder(); }

    public Evaluator.Progress progress() { return progress; }

    /** Where the files go: {@code --out}, else {@code <student>/eval} for a single student. */
    public Path outDir() { return o.out != null ? o.out : o.students.getFirst().resolve(Evaluator.DIR); }

    /** Cosines of a seeded sample of sentence pairs under the teacher and each student, for the scatter plot. */
    record PairSample(double[] teacher, List<double[]> students) {}

    public EmbeddingScorecard run() throws IOException {
        for (Path s : o.students) {
            if (!Files.isDirectory(s)) throw new InvalidInputException("no student folder at " + s);
            // loading says in one line why a folder is not a student (no config.json, or which model_type it has)
            if (!EmbeddingModels.isStudent(s)) EmbeddingModels.student(s).close();
        }
        List<String> sentences = o.sentences != null ? o.sentences
                : o.corpus != null ? EmbedCorpus.read(o.corpus)
                : StudentSentences.real(o.realCorpus).evaluation(o.evalSentences);
        EmbedEval.requireEnough(sentences);
        double loadStart = EmbedEval.loadAverage();
        int n = sentences.size();
        int[][] pairs = samplePairs(n, (int) Math.min(PLOTTED_PAIRS, (long) n * (n - 1) / 2));

        List<EmbeddingScorecard.Student> students = new ArrayList<>();
        List<double[]> studentPairs = new ArrayList<>();
        EmbeddingScorecard.Teacher teacher;
        double[] teacherPairs;
        progress = new Evaluator.Progress("loading the teacher", 0, 0);
        try (EmbeddingModel t = EmbeddingModels.teacher(o.teacher)) {
            progress = new Evaluator.Progress("teacher embeds " + n + " sentences", 0, 0);
            EmbedEval.Measured tm = EmbedEval.measure(t, sentences);
            ModelFootprint tf = t instanceof OnnxEmbeddingModel onnx ? onnx.footprint() : null;
            teacher = new EmbeddingScorecard.Teacher(t.name(), efficiency(t, tf, tm));
            teacherPairs = cosines(tm.vectors(), pairs);
            double[] teacherAllPairs = Fidelity.pairwiseCosines(tm.vectors());
            for (int i = 0; i < o.students.size(); i++) {
                Path dir = o.students.get(i);
                progress = new Evaluator.Progress("scoring " + dir, i, o.students.size());
                try (EmbeddingModel s = EmbeddingModels.student(dir)) {
                    EmbedEval.Measured sm = EmbedEval.measure(s, sentences);
                    ModelFootprint sf = ModelFootprint.ofFolder(dir);
                    EmbedEval.Agreement a = EmbedEval.agreement(teacherAllPairs, tm.vectors(), sm.vectors());
                    students.add(new EmbeddingScorecard.Student(dir.toString(), s.name(), EmbeddingModels.modelType(dir),
                            efficiency(s, sf, sm), sm.sentencesPerSec() / tm.sentencesPerSec(),
                            tm.latencyMs() / sm.latencyMs(), tf == null ? null : (double) tf.bytes() / sf.bytes(),
                            fidelity(a)));
                    studentPairs.add(cosines(sm.vectors(), pairs));
                }
            }
            for (int i = 0; i < o.references.size(); i++) {
                String spec = o.references.get(i);
                progress = new Evaluator.Progress("scoring reference " + spec, i, o.references.size());
                try (EmbeddingModel r = EmbeddingModels.model(spec)) {
                    EmbedEval.Measured rm = EmbedEval.measure(r, sentences);
                    ModelFootprint rf = r instanceof OnnxEmbeddingModel onnx ? onnx.footprint()
                            : ModelFootprint.ofFolder(Path.of(spec));
                    EmbedEval.Agreement a = EmbedEval.agreement(teacherAllPairs, tm.vectors(), rm.vectors());
                    String type = OnnxEmbeddingModel.Builtin.byId(spec) != null ? "onnx" : EmbeddingModels.modelType(Path.of(spec));
                    students.add(new EmbeddingScorecard.Student(spec, r.name(), type, efficiency(r, rf, rm),
                            rm.sentencesPerSec() / tm.sentencesPerSec(), tm.latencyMs() / rm.latencyMs(),
                            tf == null ? null : (double) tf.bytes() / rf.bytes(), fidelity(a), "reference"));
                    studentPairs.add(cosines(rm.vectors(), pairs));
                }
            }
        }
        progress = new Evaluator.Progress("writing the report", o.students.size(), o.students.size());
        Runtime rt = Runtime.getRuntime();
        EmbeddingScorecard card = new EmbeddingScorecard("embedding", Version.VERSION, Instant.now().toString(),
                parameters(), new EmbeddingScorecard.Corpus(o.sentences != null ? "given"
                        : o.corpus != null ? o.corpus.toString()
                        : "real-text corpus " + StudentSentences.real(o.realCorpus).evalFile(), n, (long) n * (n - 1) / 2, pairs.length),
                new EmbeddingScorecard.Machine(rt.availableProcessors(), loadStart, EmbedEval.loadAverage(),
                        System.getProperty("os.name"), System.getProperty("os.arch"), Runtime.version().toString()),
                teacher, students);
        Path out = outDir();
        Files.createDirectories(out);
        AtomicFiles.writeString(out.resolve(Evaluator.SCORECARD), Json.writePretty(card));
        EmbeddingReport.write(out.resolve(Evaluator.REPORT), card, new PairSample(teacherPairs, studentPairs));
        return card;
    }

    private static EmbeddingScorecard.Fidelity fidelity(EmbedEval.Agreement a) {
        return new EmbeddingScorecard.Fidelity(a.spearman(), a.recallAt10(), Arrays.stream(a.recallAtK()).boxed().toList(),
                Double.isNaN(a.ndcgAt10()) ? null : a.ndcgAt10(), a.cka());
    }

    private static EmbeddingScorecard.Efficiency efficiency(EmbeddingModel m, ModelFootprint f, EmbedEval.Measured x) {
        return new EmbeddingScorecard.Efficiency(m.dimension(), f == null ? null : f.parameters(),
                f == null ? null : f.bytes(), x.sentencesPerSec(), x.latencyMs());
    }

    /** {@code count} distinct pairs i &lt; j, drawn with a fixed seed so reports of one corpus plot the same pairs. */
    static int[][] samplePairs(int n, int count) {
        Random r = new Random(CORPUS_SEED);
        java.util.Set<Long> seen = new java.util.HashSet<>();
        int[][] out = new int[count][];
        for (int p = 0; p < count; ) {
            int i = r.nextInt(n), j = r.nextInt(n);
            if (i == j) continue;
            int a = Math.min(i, j), b = Math.max(i, j);
            if (seen.add((long) a * n + b)) out[p++] = new int[] {a, b};
        }
        return out;
    }

    private static double[] cosines(float[][] v, int[][] pairs) {
        double[] c = new double[pairs.length];
        for (int p = 0; p < pairs.length; p++) c[p] = Vectors.cosine(v[pairs[p][0]], v[pairs[p][1]]);
        return c;
    }

    private Map<String, Object> parameters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("teacher", o.teacher);
        p.put("students", o.students.stream().map(Path::toString).toList());
        if (!o.references.isEmpty()) p.put("references", List.copyOf(o.references));
        p.put("corpus", o.corpus == null ? null : o.corpus.toString());
        p.put("out", outDir().toString());
        return p;
    }

    /** {@code setX} required, {@code optX} optional, as DJL's builders. */
    public static final class Builder {
        private String teacher;
        private final List<Path> students = new ArrayList<>();
        private final List<String> references = new ArrayList<>();
        private Path corpus;
        private List<String> sentences;
        private Path out;
        private int evalSentences = DEFAULT_SENTENCES;
        private Path realCorpus;

        private Builder() {}

        /** A built-in teacher id ({@code bge-small-en-v1.5}, {@code all-minilm-l6-v2}) or an ONNX folder. */
        public Builder setTeacher(String teacher) {
            this.teacher = teacher;
            return this;
        }

        /** A student folder; call once per student to compare several in one report. */
        public Builder addStudent(Path dir) {
            students.add(dir);
            return this;
        }

        /**
         * Another pretrained model scored against the teacher exactly like a student (a built-in id such as
         * {@code all-minilm-l6-v2}, or any ONNX encoder folder), marked "reference" in the scorecard: what the
         * figures of an independently trained model of the same family look like on this corpus.
         */
        public Builder addReference(String spec) {
            references.add(spec);
            return this;
        }

        /** Sentences (text lines or JSONL with "text"); default: the real-text corpus's first 1,000 evaluation sentences. */
        public Builder optCorpus(Path file) {
            this.corpus = file;
            return this;
        }

        /** The real-text corpus folder read without a corpus ({@code RealCorpus}; default: its default folder). */
        public Builder optRealCorpus(Path dir) {
            this.realCorpus = dir;
            return this;
        }

        /** Without a corpus: how many evaluation sentences of the real-text corpus (default 1,000). */
        public Builder optEvalSentences(int sentences) {
            this.evalSentences = sentences;
            return this;
        }

        /** Sentences already in memory (instead of a corpus file). */
        public Builder optSentences(List<String> sentences) {
            this.sentences = List.copyOf(sentences);
            return this;
        }

        /** Folder for scorecard.json and report.html; default {@code <student>/eval} (one student only). */
        public Builder optOut(Path dir) {
            this.out = dir;
            return this;
        }

        public EmbeddingEvaluator build() {
            if (teacher == null || teacher.isBlank()) {
                throw new InvalidInputException("embedding students need --teacher (bge-small-en-v1.5, "
                        + "all-minilm-l6-v2 or an ONNX folder): the model they were distilled from");
            }
            if (students.isEmpty()) throw new InvalidInputException("give at least one --student DIR");
            if (out == null && students.size() > 1) {
                throw new InvalidInputException(students.size() + " students share one report: give --out DIR");
            }
            if (corpus != null && sentences != null) throw new InvalidInputException("give a corpus file or sentences, not both");
            return new EmbeddingEvaluator(this);
        }
    }
}
