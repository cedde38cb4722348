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
