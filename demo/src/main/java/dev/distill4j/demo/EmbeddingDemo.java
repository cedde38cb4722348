package dev.distill4j.demo;

import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.StaticDistiller;
import dev.distill4j.embed.StaticEmbeddingModel;
import dev.distill4j.eval.EmbeddingEvaluator;
import dev.distill4j.eval.EmbeddingScorecard;
import dev.distill4j.eval.Evaluator;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code distill demo embeddings}: a real pretrained teacher (bge-small-en-v1.5 from LangChain4j's Maven jar, run by
 * ONNX Runtime) distilled into a static student, then scored against it, offline:
 * {@code <out>/student/} and {@code <out>/eval/scorecard.json}, {@code <out>/eval/report.html}.
 */
public final class EmbeddingDemo {
    /**
     * @param vocabLimit distil the first N tokens by id (0 = the whole vocabulary)
     * @param sentences  generated sentences to score on
     */
    public record Profile(String name, String teacher, int dims, int vocabLimit, int sentences) {}

    public static final Profile DEFAULT = new Profile("default", "bge-small-en-v1.5", 256, 0,
            EmbeddingEvaluator.DEFAULT_SENTENCES);
    /** Characters and the commonest words only, a small corpus: every stage runs, in seconds. */
    public static final Profile SMOKE = new Profile("smoke", "bge-small-en-v1.5", 32, 2000, 60);

    /** What the demo produced. */
    public record Result(Path studentDir, Path evalDir, EmbeddingScorecard scorecard, int distilledTokens,
                         double pcaExplainedVariance, double buildSeconds) {}

    private final Profile profile;
    private final Path out;
    private final DemoPipeline.Listener listener;

    public EmbeddingDemo(Profile profile, Path out, DemoPipeline.Listener listener) {
        this.profile = Objects.requireNonNull(profile);
        this.out = Objects.requireNonNull(out);
        this.listener = Objects.requireNonNull(listener);
    }

    public Result run() throws Exception {
        Path studentDir = out.resolve("student");
        long start = System.nanoTime();
        int distilled;
        double explained;
        listener.stage("loading the teacher " + profile.teacher() + " (ONNX, from the LangChain4j jar)", () -> "");
        try (OnnxEmbeddingModel teacher = OnnxEmbeddingModel.load(profile.teacher())) {
            listener.stageDone(String.format(Locale.ROOT, "%s: %d dimensions, %,d parameters, %s pooling",
                    teacher.name(), teacher.dimension(), teacher.footprint().parameters(),
                    teacher.pooling().name().toLowerCase(Locale.ROOT)));
            AtomicReference<String> tokens = new AtomicReference<>("starting");
            listener.stage("distilling a static student: the teacher embeds every vocabulary token, PCA to "
                    + profile.dims() + " dimensions, Zipf/SIF weights", tokens::get);
            try (StaticEmbeddingModel student = StaticDistiller.distill(teacher,
                    new StaticDistiller.Options(profile.dims(), profile.vocabLimit(), StaticDistiller.Options.DEFAULT_SIF),
                    (done, total) -> tokens.set(String.format(Locale.ROOT, "%,d / %,d tokens", done, total)))) {
                student.save(studentDir);
                distilled = student.config().path("distilled_tokens").asInt();
                explained = student.config().path("pca_explained_variance").asDouble();
            }
        }
        double buildSeconds = (System.nanoTime() - start) / 1e9;
        listener.stageDone(String.format(Locale.ROOT, "static student: %,d tokens × %d dims (PCA keeps %.1f%% of the "
                + "variance) in %.1f s, %s", distilled, profile.dims(), 100 * explained, buildSeconds, studentDir));

        Path evalDir = out.resolve(Evaluator.DIR);
        EmbeddingEvaluator e = EmbeddingEvaluator.builder().setTeacher(profile.teacher()).addStudent(studentDir)
                .optGenerated(profile.sentences()).optOut(evalDir).build();
        listener.stage("scoring the student against the teacher on " + profile.sentences() + " generated sentences", () -> {
            var p = e.progress();
            return p == null ? "" : p.phase();
        });
        EmbeddingScorecard card = e.run();
        listener.stageDone("scorecard and report in " + evalDir);
        return new Result(studentDir, evalDir, card, distilled, explained, buildSeconds);
    }
}
