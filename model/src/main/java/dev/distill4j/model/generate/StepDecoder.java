package dev.distill4j.model.generate;

import java.util.List;

/**
 * A decoder that advances many independent sequences, one token each per step. Every sequence keeps its own KV cache
 * in its {@link State}, so sequences of different lengths share a step, and a sequence can join or leave the running
 * set between any two steps (continuous batching). The logits returned are the model's raw next-token logits over
 * its whole vocabulary ({@code config.vocab_size}); sampling, watermarks and logprobs work on them as on
 * {@code CausalLM}'s.
 *
 * <p>Implementations: the Vector-API inference engine (issue 15) and a DJL fallback over {@code CausalLM}. Both must
 * give the DJL model's logits within 1e-4.
 *
 * <p>Not thread-safe: one thread drives a decoder and all its states.
 */
public interface StepDecoder extends AutoCloseable {

    /** One sequence's cached keys and values. */
    interface State extends AutoCloseable {
        /** Positions fed so far (prompt and generated tokens). */
        int length();

        /**
         * An independent copy with the same cached positions, e.g. for the {@code n} choices of one request, which
         * share their prompt's prefill.
         */
        State copy();

        /** Frees the cache; the state must not be used afterwards. */
        @Override
        void close();
    }

    /** Length of each logits row: the model's {@code vocab_size}. */
    int vocabSize();

    /** Most positions one sequence may hold ({@code max_position_embeddings}). */
    int maxPositions();

    /** A new, empty sequence. */
    State newState();

    /**
     * Feeds {@code tokens} (one or more: a prompt, or the rest of one) to {@code state}, in one pass where the
     * implementation can; returns the logits after the last of them.
     */
    float[] prefill(State state, int[] tokens);

    /**
     * Feeds one token to each state ({@code tokens[i]} to {@code states.get(i)}); returns each row's next-token
     * logits, {@code [states.size()][vocabSize()]}. The states may hold different lengths.
     */
    float[][] step(List<State> states, int[] tokens);

    /** Frees what the decoder holds beyond the model's weights. */
    @Override
    void close();
}
