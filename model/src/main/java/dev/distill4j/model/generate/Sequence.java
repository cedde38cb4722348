package dev.distill4j.model.generate;

import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.Usage;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One generated sequence's progress, independent of how its logits are computed: picks each token from the
 * model's next-token logits with a {@link TokenChooser} and the sequence's own random generator (seeded with
 * {@link SamplingParams#seed()}, so a sequence samples the same alone or beside any others), reports the token's
 * logprob and top alternatives, holds back text that may become a stop string, and decides when the sequence ends
 * (EOS, stop string, max new tokens). {@link Generator} drives one per prompt of a batch; the server's
 * continuous-batching scheduler drives one per running row, each with its own parameters.
 *
 * <p>Not thread-safe: the thread that computes the logits drives it.
 */
public final class Sequence {
    /** What one step produced: the token, the text that became safe to show with it, and its logprobs. */
    public record Step(int tokenId, String textDelta, TokenPosition position) {}

    private final TextTokenizer tokenizer;
    private final SamplingParams params;
    private final int promptTokens;
    /** Prompt then generated tokens, for the chooser; valid up to {@code length}. */
    private final int[] history;
    private int length;
    private final SplittableRandom rng;
    private final TextStream stream;
    /**
     * Whether each step's text delta is wanted. Without a streaming caller and without stop strings, the text is
     * decoded once when the sequence ends instead of after every token (a tokenizer call over all tokens so far).
     */
    private final boolean decodeEachStep;
    private final List<TokenPosition> positions = new ArrayList<>();
    private boolean done;
    private FinishReason reason;
    private String text = "";
    private boolean endedOnEos;

    /** A sequence continuing {@code prompt}; with {@code maxNewTokens} 0 it is done at once (finish reason length). */
    public Sequence(int[] prompt, SamplingParams params, TextTokenizer tokenizer) {
        this(prompt, params, tokenizer, true);
    }

    /**
     * As {@link #Sequence(int[], SamplingParams, TextTokenizer)}; with {@code streaming} false the caller does not read
     * the steps' text deltas, so unless there are stop strings to look for, every step's delta is empty and the
     * whole text comes with the last step (and in {@link #result()}).
     */
    public Sequence(int[] prompt, SamplingParams params, TextTokenizer tokenizer, boolean streaming) {
        if (prompt.length == 0) throw new IllegalArgumentException("a prompt has no tokens; give at least one (e.g. BOS)");
        this.tokenizer = tokenizer;
        this.params = params;
        this.promptTokens = prompt.length;
        this.history = Arrays.copyOf(prompt, prompt.length + params.maxNewTokens());
        this.length = prompt.length;
        this.rng = new SplittableRandom(params.seed());
        this.stream = new TextStream(params.stopStrings());
        this.decodeEachStep = streaming || !params.stopStrings().isEmpty();
        if (params.maxNewTokens() == 0) finish(FinishReason.LENGTH, decode());
    }

    /**
     * Picks and takes the next token from the raw logits {@code logits[from, from + vocab)}. Ids the tokenizer lacks
     * (a checkpoint's embedding padding past the tokenizer) are dropped first, so they are never generated nor
     * offered as alternatives, and the distribution is renormalised over the real tokens.
     */
    public Step next(float[] logits, int from, int vocab, TokenChooser chooser) {
        if (done) throw new IllegalStateException("the sequence has stopped");
        int usable = Math.min(vocab, tokenizer.vocabSize());
        float[] row = Arrays.copyOfRange(logits, from, from + usable);
        int token = chooser.choose(history, length, row, params, rng);
        // after the chooser, which may have changed the logits: they describe what the token was drawn from
        TokenPosition position = Logprobs.position(tokenizer, Logprobs.Row.of(row), token, params.topLogprobs());
        return new Step(token, accept(token, position), position);
    }

    /** Whether the sequence has stopped; then {@link #result()} is final. */
    public boolean done() { return done; }

    /** The last token of the sequence (the prompt's last before the first step): what the next step feeds. */
    public int lastToken() { return history[length - 1]; }

    public SamplingParams params() { return params; }

    /** Takes the next token; returns the text that became safe to show with it. */
    private String accept(int token, TokenPosition position) {
        history[length++] = token;
        positions.add(position);
        if (params.eosTokenIds().contains(token)) {
            endedOnEos = true;
            return finish(FinishReason.STOP, decode());
        }
        if (!decodeEachStep) {
            return generated() >= params.maxNewTokens() ? finish(FinishReason.LENGTH, decode()) : "";
        }
        String decoded = decode();
        int cut = stream.stopAt(decoded);
        if (cut >= 0) return finish(FinishReason.STOP, decoded.substring(0, cut));
        if (generated() >= params.maxNewTokens()) return finish(FinishReason.LENGTH, decoded);
        return stream.partial(decoded);
    }

    /** Ends the sequence with {@code finalText}; returns what of it was not emitted yet. */
    private String finish(FinishReason why, String finalText) {
        done = true;
        reason = why;
        text = finalText;
        return stream.last(finalText);
    }

    private int generated() { return length - promptTokens; }

    /** Text of the generated tokens, without a final EOS. */
    private String decode() {
        int n = endedOnEos ? generated() - 1 : generated();
        return tokenizer.decode(Arrays.copyOfRange(history, promptTokens, promptTokens + n), true);
    }

    /** The generation so far (final once {@link #done()}). */
    public Generation result() {
        return new Generation(Arrays.copyOfRange(history, promptTokens, length), text, reason,
                new TokenDistribution(positions), new Usage(promptTokens, generated()));
    }
}
