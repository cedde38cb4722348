package dev.distill4j.eval;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Map;

/**
 * Everything {@code distill eval} measured, as written to {@code eval/scorecard.json} (snake_case keys; a metric
 * that could not be measured is null). Definitions: docs/eval.md.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record Scorecard(String toolVersion, String created, Map<String, Object> parameters, Split split,
                        TeacherInfo teacher, StudentInfo student, TeacherForcedMetrics teacherForced,
                        GenerationMetrics generation, TaskAccuracy taskAccuracy, JudgeResult judge,
                        Efficiency efficiency, List<PromptResult> prompts, List<PromptResult> worst) {

    /**
     * @param source          "held-out" (the run's eval split) or "prompts-file"
     * @param evalFraction    the split's fraction (held-out) — the same rule training uses
     * @param promptsFile     the file (prompts-file)
     * @param promptIds       the prompts evaluated, in order
     * @param examples        teacher-forced examples (one per done sample of those prompts)
     * @param inTrainingSplit prompts of a prompts file that training saw (their scores are not held-out scores)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Split(String source, double evalFraction, String promptsFile, List<String> promptIds, int examples,
                        int inTrainingSplit) {}

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TeacherInfo(String provider, String model, String baseUrl, String capability) {}

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record StudentInfo(String dir, String family, long parameters, String dtype) {}

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TeacherForcedMetrics(int examples, long positions, Double nll, Double perplexity,
                                       Double top1Agreement, Double kl, long klPositions, double klShare) {
        static TeacherForcedMetrics of(TeacherForced.Result r) {
            return new TeacherForcedMetrics(r.examples(), r.positions(), r.nll(), r.perplexity(), r.top1Agreement(),
                    r.kl(), r.klPositions(), r.klShare());
        }
    }

    /**
     * Free generation against the teacher's stored answers; the teacher's "score" on these is 1 / 100 by definition.
     *
     * @param chrf          mean sentence chrF over prompts, 0..100
     * @param chrfCorpus    corpus chrF (statistics summed over prompts first, as sacrebleu's corpus_score)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record GenerationMetrics(int prompts, String decoding, int maxNewTokens, Double exactMatch, Double chrf,
                                    Double chrfCorpus, Double rougeLF1, double studentMeanTokens,
                                    double teacherMeanTokens, double studentLengthStopShare) {}

    /**
     * Accuracy against {@code metadata.answer}, student and teacher graded by the same rule, with Wilson 95 %
     * intervals ({@link Wilson}), overall and per group of prompts ({@code metadata.<groupKey>}, e.g. the task kind).
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TaskAccuracy(int prompts, double student, double teacher, String rule, double[] studentCi95,
                               double[] teacherCi95, String groupKey, List<GroupAccuracy> groups) {
        public TaskAccuracy(int prompts, double student, double teacher, String rule) {
            this(prompts, student, teacher, rule, null, null, null, List.of());
        }

        /** From counts: intervals computed here. */
        public static TaskAccuracy of(int prompts, int studentRight, int teacherRight, String rule, String groupKey,
                                      List<GroupAccuracy> groups) {
            return new TaskAccuracy(prompts, (double) studentRight / prompts, (double) teacherRight / prompts, rule,
                    interval(Wilson.of(studentRight, prompts)), interval(Wilson.of(teacherRight, prompts)), groupKey,
                    List.copyOf(groups));
        }
    }

    /** Accuracy of one group of prompts (one task kind). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record GroupAccuracy(String group, int prompts, int studentCorrect, int teacherCorrect, double student,
                                double[] studentCi95, double teacher, double[] teacherCi95) {
        public static GroupAccuracy of(String group, int prompts, int studentRight, int teacherRight) {
            return new GroupAccuracy(group, prompts, studentRight, teacherRight, (double) studentRight / prompts,
                    interval(Wilson.of(studentRight, prompts)), (double) teacherRight / prompts,
                    interval(Wilson.of(teacherRight, prompts)));
        }
    }

    private static double[] interval(Wilson w) {
        return new double[] {w.low(), w.high()};
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record JudgeResult(String model, long seed, int comparisons, int win, int tie, int loss, int invalid,
                              Double winRate, Double winOrTieRate) {}

    /**
     * @param teacherPriceInPerMtok   USD per 1 M prompt tokens (--price-in)
     * @param teacherPriceOutPerMtok  USD per 1 M completion tokens (--price-out)
     * @param teacherCostPerMtok      what the teacher's answers to these prompts cost per 1 M tokens (prompt +
     *                                completion) at those prices, or from the stored cost when no price was given
     * @param teacherStoredCostUsd    Σ cost_usd stored with those samples
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Efficiency(ModelEfficiency student, ModelEfficiency localTeacher, RemoteTeacher teacher,
                             Double teacherPriceInPerMtok, Double teacherPriceOutPerMtok, Double teacherCostPerMtok,
                             double teacherStoredCostUsd, String studentCost) {}

    /** A model run here: size and measured speed (batch 1, greedy, this machine's CPU). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record ModelEfficiency(String dir, long parameters, long weightBytes, long folderBytes, int requests,
                                  long promptTokens, long generatedTokens, Double prefillTokensPerS,
                                  Double decodeTokensPerS, Double latencyP50Ms, Double latencyP95Ms,
                                  Double latencyMeanMs) {}

    /** The remote teacher as the harvest measured it (latency_ms of the stored samples). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record RemoteTeacher(int requests, long promptTokens, long completionTokens, Double latencyMeanMs,
                                Double latencyP50Ms, Double latencyP95Ms, Double completionTokensPerS) {}

    /** One prompt's free-generation result. Texts are kept only in {@code worst}. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record PromptResult(String promptId, String prompt, String teacher, String student, double chrf,
                               double rougeL, boolean exactMatch, String reference, Boolean studentCorrect,
                               Boolean teacherCorrect, String judge) {
        PromptResult withoutTexts() {
            return new PromptResult(promptId, null, null, null, chrf, rougeL, exactMatch, reference, studentCorrect,
                    teacherCorrect, judge);
        }
    }
}
