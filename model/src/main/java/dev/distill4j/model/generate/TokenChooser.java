package dev.distill4j.model.generate;

import java.util.SplittableRandom;

/**
 * Picks each generated token from the model's next-token logits. The default, {@link #SAMPLE}, draws from the
 * distribution {@link SamplingParams} describe (greedy, or temperature → top-k → top-p). A text watermark (the
 * {@code guard} module) replaces it with a rule keyed on the tokens before, so that generation and detection agree
 * on what the next token was chosen from.
 */
@FunctionalInterface
public interface TokenChooser {
    /**
     * @param history the sequence so far, prompt then generated tokens; only {@code history[0, length)} is valid
     * @param logits  raw next-token logits over the usable vocabulary. A chooser may change them in place; the
     *                logprobs reported with the token are computed from them afterwards, so they describe the
     *                distribution the token was actually drawn from
     * @param rng     the sequence's own random generator (seeded per request and choice)
     * @return the chosen token id, an index into {@code logits}
     */
    int choose(int[] history, int length, float[] logits, SamplingParams params, SplittableRandom rng);

    /**
     * Whether tokens chosen under {@code params} carry a watermark (the server counts them). A watermark that needs
     * randomness to hide in cannot mark a greedy pick.
     */
    default boolean marks(SamplingParams params) { return false; }

    /** Plain sampling, no watermark. */
    TokenChooser SAMPLE = (history, length, logits, params, rng) -> Sampler.next(logits, params, rng);
}
