package dev.distill4j.train.data;

import java.util.List;

/**
 * What {@link ExampleBuilder#examples} makes of a run: the training and held-out examples, each list in the run's
 * prompt order, and the figures of the build.
 */
public record ExampleSet(List<TrainingExample> train, List<TrainingExample> eval, Report report) {
    public ExampleSet {
        train = List.copyOf(train);
        eval = List.copyOf(eval);
    }

    /** Several runs' examples, run after run (training and held-out lists alike), with the reports summed. */
    public static ExampleSet concat(List<ExampleSet> sets) {
        java.util.List<TrainingExample> train = new java.util.ArrayList<>();
        java.util.List<TrainingExample> eval = new java.util.ArrayList<>();
        long samples = 0, examples = 0, truncated = 0, dropped = 0, tokens = 0;
        int trainPrompts = 0, evalPrompts = 0;
        AlignmentStats alignment = null;
        for (ExampleSet s : sets) {
            train.addAll(s.train());
            eval.addAll(s.eval());
            Report r = s.report();
            samples += r.samples();
            examples += r.examples();
            truncated += r.truncated();
            dropped += r.dropped();
            tokens += r.trainedTokens();
            trainPrompts += r.trainPrompts();
            evalPrompts += r.evalPrompts();
            alignment = alignment == null ? r.alignment() : alignment.plus(r.alignment());
        }
        return new ExampleSet(train, eval, new Report(samples, examples, truncated, dropped, trainPrompts, evalPrompts,
                tokens, alignment));
    }

    /**
     * @param samples        done samples read
     * @param examples       examples built (train + eval)
     * @param truncated      examples cut to the maximum sequence length (kept)
     * @param dropped        samples dropped for length: over the limit with the DROP policy, or whose prompt
     *                       alone fills the window
     * @param trainPrompts   distinct prompts on the training side
     * @param evalPrompts    distinct prompts held out
     * @param trainedTokens  positions with a label, over all examples
     * @param alignment      how much top-k signal reached the student's tokens
     */
    public record Report(long samples, long examples, long truncated, long dropped, int trainPrompts, int evalPrompts,
                         long trainedTokens, AlignmentStats alignment) {
        @Override public String toString() {
            return samples + " samples → " + examples + " examples (" + trainPrompts + " train prompts, " + evalPrompts
                    + " held out; " + truncated + " truncated, " + dropped + " dropped for length), " + trainedTokens
                    + " trained tokens; top-k: " + alignment;
        }
    }
}
