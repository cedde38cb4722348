package dev.distill4j.demo;

import dev.distill4j.embed.CachedEmbeddingModel;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.StaticDistiller;
import dev.distill4j.embed.StaticRecipe;
import dev.distill4j.embed.StaticTuner;
import dev.distill4j.embed.VocabularyExtension;
import dev.distill4j.embed.corpus.RealCorpus;
import dev.distill4j.eval.EmbeddingEvaluator;
import dev.distill4j.eval.EmbeddingScorecard;
import dev.distill4j.eval.Evaluator;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code distill demo embeddings}: a real pretrained teacher (bge-small-en-v1.5 from LangChain4j's Maven jar, run by
 * ONNX Runtime) distilled into a tuned static student on real English text (the Debian-documentation corpus of
 * {@link RealCorpus}), then scored against it on sentences of other documents, beside a reference model
 * (all-MiniLM-L6-v2, trained independently) so the figures have a scale, offline:
 * {@code <out>/student/}, {@code <out>/eval/scorecard.json}, {@code <out>/eval/report.html}.
 */
public final class EmbeddingDemo {
    /**
     * @param vocabLimit     distil the first N tokens by id (0 = the whole vocabulary)
     * @param trainSentences real training sentences the student is tuned on
     * @param epochs         tuning epochs
     * @param learningRate   tuning peak learning rate
     * @param sentences      real evaluation sentences to score on
     * @param reference      a model scored beside the student (null = none)
     */
    public record Profile(String name, String teacher, int dims, int vocabLimit, int trainSentences, int epochs,
                          double learningRate, int sentences, String reference) {}

    /** The settings of the 10,240-sentence row in docs/benchmarks.md; the teacher pass is most of the time. */
    public static final Profile DEFAULT = new Profile("default", "bge-small-en-v1.5", 256, 0, 10_240, 6, 1e-2,
            EmbeddingEvaluator.DEFAULT_SENTENCES, "all-minilm-l6-v2");
    /** A small vocabulary and few sentences: every stage runs, in seconds (tests). */
    public static final Profile SMOKE = new Profile("smoke", "bge-small-en-v1.5", 32, 2000, 220, 2, 3e-3, 40, null);

    /** What the demo produced. */
    public record Result(Path studentDir, Path evalDir, EmbeddingScorecard scorecard, int distilledTokens,
                         double pcaExplainedVariance, double buildSeconds, int trainSentences, int addedWords,
                         String corpusSummary) {}

    private final Profile profile;
    private final Path out;
    private final Path corpusDir;
    private final DemoPipeline.Listener listener;

    /** @param corpusDir the real-text corpus folder (null: {@link RealCorpus#defaultDir}) */
    public EmbeddingDemo(Profile profile, Path out, Path corpusDir, DemoPipeline.Listener listener) {
        this.profile = Objects.requireNonNull(profile);
        this.out = Objects.requireNonNull(out);
        this.corpusDir = corpusDir != null ? corpusDir : RealCorpus.defaultDir();
        this.listener = Objects.requireNonNull(listener);
    }

    public Result run() throws Exception {
        Path studentDir = out.resolve("student");
        listener.stage("reading the real-text corpus (Debian documentation) in " + corpusDir, () -> "");
        RealCorpus corpus = RealCorpus.open(corpusDir);
        List<String> train = corpus.train(profile.trainSentences());
        listener.stageDone(corpus.summary());
        long start = System.nanoTime();
        int distilled, added;
        double explained;
        listener.stage("loading the teacher " + profile.teacher() + " (ONNX, from the LangChain4j jar)", () -> "");
        try (OnnxEmbeddingModel teacher = OnnxEmbeddingModel.load(profile.teacher())) {
            listener.stageDone(String.format(Locale.ROOT, "%s: %d dimensions, %,d parameters, %s pooling",
                    teacher.name(), teacher.dimension(), teacher.footprint().parameters(),
                    teacher.pooling().name().toLowerCase(Locale.ROOT)));
            CachedEmbeddingModel cache = CachedEmbeddingModel.open(teacher, CachedEmbeddingModel.defaultDir(teacher));
            AtomicReference<String> state = new AtomicReference<>("starting");
            listener.stage(String.format(Locale.ROOT, "building a static student on %,d real sentences: vocabulary + "
                    + "frequent corpus words, token vectors from the teacher, PCA to %d, then tuned on the teacher's "
                    + "sentence vectors (%,d of them to embed, kept in %s)", train.size(), profile.dims(),
                    cache.missing(train), CachedEmbeddingModel.defaultDir(teacher)), state::get);
            StaticRecipe.Options o = new StaticRecipe.Options(
                    new StaticDistiller.Options(profile.dims(), profile.vocabLimit(), StaticDistiller.Options.DEFAULT_SIF),
                    VocabularyExtension.DEFAULT_MAX_WORDS, VocabularyExtension.DEFAULT_MIN_COUNT,
                    StaticTuner.Options.defaults(StaticTuner.Loss.COSINE).withEpochs(profile.epochs())
                            .withLearningRate(profile.learningRate()));
            StaticRecipe.Result r = StaticRecipe.build(teacher, cache, train, o, new StaticRecipe.Listener() {
                @Override public void vocabulary(int done, int total) {
                    state.set(String.format(Locale.ROOT, "token vectors %,d / %,d", done, total));
                }

                @Override public void tuning(StaticTuner.Progress p) {
                    state.set(switch (p) {
                        case StaticTuner.Progress.TeacherPass t ->
                                String.format(Locale.ROOT, "teacher: %,d / %,d sentences", t.done(), t.total());
                        case StaticTuner.Progress.Epoch e -> String.format(Locale.ROOT,
                                "epoch %d / %d, held-out Spearman %.3f", e.epoch(), e.epochs(), e.heldOutSpearman());
                    });
                }
            });
            try (var student = r.model()) {
                student.save(studentDir);
                distilled = student.config().path("distilled_tokens").asInt();
                explained = student.config().path("pca_explained_variance").asDouble();
            }
            r.untuned().close();
            added = r.addedWords();
        }
        double buildSeconds = (System.nanoTime() - start) / 1e9;
        listener.stageDone(String.format(Locale.ROOT, "static student: %,d token vectors (%,d corpus words added) × %d "
                        + "dims (PCA keeps %.1f%% of the variance), tuned, in %.1f s, %s", distilled, added, profile.dims(),
                100 * explained, buildSeconds, studentDir));

        Path evalDir = out.resolve(Evaluator.DIR);
        EmbeddingEvaluator.Builder b = EmbeddingEvaluator.builder().setTeacher(profile.teacher()).addStudent(studentDir)
                .optRealCorpus(corpusDir).optEvalSentences(profile.sentences()).optOut(evalDir);
        if (profile.reference() != null) b.addReference(profile.reference());
        EmbeddingEvaluator e = b.build();
        listener.stage("scoring the student" + (profile.reference() != null ? " and the reference " + profile.reference() : "")
                + " against the teacher on " + profile.sentences() + " real sentences from documents training never saw", () -> {
            var p = e.progress();
            return p == null ? "" : p.phase();
        });
        EmbeddingScorecard card = e.run();
        listener.stageDone("scorecard and report in " + evalDir);
        return new Result(studentDir, evalDir, card, distilled, explained, buildSeconds, train.size(), added, corpus.summary());
    }
}
