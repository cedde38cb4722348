package dev.distill4j.model.generate;

import dev.distill4j.core.TokenPosition;

/**
 * Hears each generated token as its decode step finishes, for streaming. Called on the generating thread, in
 * sequence order within a step; a slow listener slows generation, so hand work to another thread when it may block.
 *
 * <p>The text deltas of one sequence concatenate to its {@link Generation#text()}. A delta holds only whole
 * characters (bytes of a character split across tokens wait for its last byte) and never text that may still turn
 * out to be part of a stop string (the longest suffix that begins a stop string waits until it is resolved), so a
 * delta can be empty. The step that ends a sequence flushes what was held back, minus a stop string found.
 */
@FunctionalInterface
public interface TokenListener {
    /**
     * @param sequence  the prompt's index in the batch
     * @param tokenId   the generated token (an EOS too)
     * @param textDelta text that became final with this token, possibly empty
     * @param position  the token's logprob and top alternatives
     */
    void onToken(int sequence, int tokenId, String textDelta, TokenPosition position);

    /** The sequence has stopped; {@code generation} is what {@code generate} will return for it. */
    default void onFinish(int sequence, Generation generation) {}

    TokenListener NONE = (sequence, tokenId, textDelta, position) -> {};
}
