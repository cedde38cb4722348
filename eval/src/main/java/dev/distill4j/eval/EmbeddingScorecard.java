package dev.distill4j.eval;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Map;

/**
 * What {@code distill eval} measured for embedding students, as written to {@code scorecard.json} (snake_case keys;
 * null where a figure cannot be known, e.g. the size of an API teacher). Definitions: docs/eval.md.
 *
 * @param evaluation always "embedding", so a reader can tell this file from a text run's scorecard
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record EmbeddingScorecard(String evaluation, String toolVersion, String created, Map<String, Object> parameters,
                                 Corpus corpus, Machine machine, Teacher teacher, List<Student> students) {

    /**
     * @param source       the corpus file, "real-text corpus DIR/eval.txt" (the default), or "given" (sentences in memory)
     * @param pairs        sentence pairs whose cosines the Spearman correlation compares, n(n−1)/2
     * @param pairsPlotted pairs drawn (seeded) for the report's scatter plot
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Corpus(String source, int sentences, long pairs, int pairsPlotted) {}

    /** Timings are only comparable on one machine under one load: both are recorded. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Machine(int cpus, double loadAverageStart, double loadAverageEnd, String os, String arch,
                          String java) {}

    /**
     * One model's size and speed here.
     *
     * @param sentencesPerS the whole corpus in one {@code embed} call (the model's own batching), after a warm-up
     * @param latencyMs     median wall time of one sentence alone (32 probes)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Efficiency(int dimension, Long parameters, Long bytes, double sentencesPerS, double latencyMs) {}

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Teacher(String name, Efficiency efficiency) {}

    /**
     * @param speedup        student sentences/s ÷ teacher sentences/s
     * @param latencySpeedup teacher latency ÷ student latency
     * @param sizeRatio      teacher bytes ÷ student bytes (null when the teacher's size is unknown)
     * @param role           "student", or "reference": another pretrained model scored the same way (e.g.
     *                       all-MiniLM-L6-v2 against bge-small), to show what "good" is on this corpus
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Student(String dir, String name, String modelType, Efficiency efficiency, double speedup,
                          double latencySpeedup, Double sizeRatio, Fidelity fidelity, String role) {
        public Student(String dir, String name, String modelType, Efficiency efficiency, double speedup,
                       double latencySpeedup, Double sizeRatio, Fidelity fidelity) {
            this(dir, name, modelType, efficiency, speedup, latencySpeedup, sizeRatio, fidelity, "student");
        }
    }

    /**
     * @param spearman  Spearman of the teacher's and the student's cosines over all pairs
     * @param recallAtK recall@1 … recall@10 of the teacher's nearest neighbours
     * @param ndcgAt10  nDCG@10 of the teacher's ranking on the query/document split (every 5th sentence a query)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Fidelity(double spearman, @JsonProperty("recall_at_10") double recallAt10, List<Double> recallAtK,
                           @JsonProperty("ndcg_at_10") Double ndcgAt10, double cka) {}
}
