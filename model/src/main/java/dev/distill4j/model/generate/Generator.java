package dev.distill4j.model.generate;

import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.Usage;
import dev.distill4j.model.engine.DecodeEngine;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Autoregressive generation on a {@link StepDecoder}: every prompt is prefilled into its own sequence state, then
 * the sequences still running are decoded one token per step together, each at its own length, until each has
 * stopped (a stopped sequence leaves the step at once).
 *
 * <p>Every generated token is reported with its logprob and the top alternatives of the model's raw distribution,
 * so a local model can serve as a {@code TOP_K} teacher.
 */
public final class Generator {
    private final StepDecoder decoder;
    private final TextTokenizer tokenizer;
    private final TokenChooser chooser;

    /**
     * A generator over an F32 {@link DecodeEngine} holding a copy of the model's current weights: later changes to
     * the model (training) are not seen; make a new generator to sample from new weights.
     */
    public Generator(CausalLM model, TextTokenizer tokenizer) {
        this(model, tokenizer, TokenChooser.SAMPLE);
    }

    /** As {@link #Generator(CausalLM, TextTokenizer)}, its tokens picked by {@code chooser} (e.g. a watermark). */
    public Generator(CausalLM model, TextTokenizer tokenizer, TokenChooser chooser) {
        this(DecodeEngine.of(model), tokenizer, chooser);
    }

    /** A generator over any step decoder (the engine, a DJL fallback). */
    public Generator(StepDecoder decoder, TextTokenizer tokenizer) {
        this(decoder, tokenizer, TokenChooser.SAMPLE);
    }

    /** A generator whose tokens {@code chooser} picks (e.g. a watermark) instead of plain sampling. */
    public Generator(StepDecoder decoder, TextTokenizer tokenizer, TokenChooser chooser) {
        this.decoder = decoder;
        this.tokenizer = tokenizer;
        this.chooser = chooser;
    }

    /** The same decoder and tokenizer with another token chooser. */
    public Generator withChooser(TokenChooser chooser) {
        return new Generator(decoder, tokenizer, chooser);
    }

    /** The decoder this generator runs on. */
    public StepDecoder decoder() { return decoder; }

    public Generation generate(int[] promptIds, SamplingParams params) {
        return generate(List.of(promptIds), params).getFirst();
    }

    /** Generates for every prompt; the results are in prompt order. */
    public List<Generation> generate(List<int[]> prompts, SamplingParams params) {
        return generate(prompts, params, TokenListener.NONE);
    }

    /**
     * Generates for every prompt, telling {@code listener} about each token as its step finishes (for streaming)
     * and about each sequence as it stops; the results are in prompt order.
     */
    public List<Generation> generate(List<int[]> prompts, SamplingParams params, TokenListener listener) {
        int b = prompts.size();
        if (b == 0) return List.of();
        for (int[] p : prompts) {
            if (p.length == 0) throw new IllegalArgumentException("a prompt has no tokens; give at least one (e.g. BOS)");
        }
        List<Sequence> seqs = new ArrayList<>(b);
        for (int[] p : prompts) seqs.add(new Sequence(p, new SplittableRandom(params.seed()), params));
        if (params.maxNewTokens() == 0) {
            for (int i = 0; i < b; i++) {
                seqs.get(i).finish(FinishReason.LENGTH, seqs.get(i).decode());
                listener.onFinish(i, seqs.get(i).result());
            }
        }
        int usable = usableVocab(decoder.vocabSize(), tokenizer);
        List<StepDecoder.State> states = new ArrayList<>(b);
        try {
            float[][] logits = new float[b][];
            for (int i = 0; i < b; i++) {
                states.add(decoder.newState());
                if (!seqs.get(i).done) logits[i] = decoder.prefill(states.get(i), prompts.get(i));
            }
            while (true) {
                List<Integer> running = new ArrayList<>(b);
                List<StepDecoder.State> stepping = new ArrayList<>(b);
                int[] next = new int[b];
                for (int i = 0; i < b; i++) {
                    Sequence s = seqs.get(i);
                    if (s.done) continue;
                    float[] row = logits[i].length == usable ? logits[i] : Arrays.copyOf(logits[i], usable);
                    int token = chooser.choose(s.history, s.length, row, params, s.rng);
                    TokenPosition position = Logprobs.position(tokenizer, Logprobs.logSoftmax(row), token,
                            params.topLogprobs());
                    listener.onToken(i, token, s.accept(token, position), position);
                    if (s.done) listener.onFinish(i, s.result());
                    else {
                        next[running.size()] = token;
                        running.add(i);
                        stepping.add(states.get(i));
                    }
                }
                if (running.isEmpty()) break;
                float[][] out = decoder.step(stepping, Arrays.copyOf(next, running.size()));
                for (int r = 0; r < running.size(); r++) logits[running.get(r)] = out[r];
            }
        } finally {
            for (StepDecoder.State st : states) st.close();
        }
        List<Generation> out = new ArrayList<>(b);
        for (Sequence s : seqs) out.add(s.result());
        return out;
    }

    /**
     * Logits of ids the tokenizer lacks are dropped before sampling and logprobs. Checkpoints often pad the
     * embedding matrix past the tokenizer (Qwen2.5: vocab_size 151936, 151665 tokens) for faster matrix shapes; those
     * rows are untrained, have no text, and must never be generated or offered as alternatives. Dropping them
     * renormalises the distribution over the real tokens.
     */
    static int usableVocab(CausalLM model, TextTokenizer tokenizer) {
        return usableVocab(model.config().vocabSize(), tokenizer);
    }

    static int usableVocab(int modelVocab, TextTokenizer tokenizer) {
        return Math.min(modelVocab, tokenizer.vocabSize());
    }

    /** One sequence's progress. */
    private final class Sequence {
        final int promptTokens;
        /** Prompt then generated tokens, for the chooser; valid up to {@code length}. */
        final int[] history;
        int length;
        final SplittableRandom rng;
        final SamplingParams params;
        final TextStream stream;
        final List<Integer> tokens = new ArrayList<>();
        final List<TokenPosition> positions = new ArrayList<>();
        boolean done;
        FinishReason reason;
        String text = "";
        boolean endedOnEos;

        Sequence(int[] prompt, SplittableRandom rng, SamplingParams params) {
            this.promptTokens = prompt.length;
            this.history = Arrays.copyOf(prompt, prompt.length + params.maxNewTokens());
            this.length = prompt.length;
            this.rng = rng;
            this.params = params;
            this.stream = new TextStream(params.stopStrings());
        }

        /** Takes the next token; returns the text that became safe to show with it. */
        String accept(int token, TokenPosition position) {
            tokens.add(token);
            history[length++] = token;
            positions.add(position);
            if (params.eosTokenIds().contains(token)) {
                endedOnEos = true;
                return finish(FinishReason.STOP, decode());
            }
            String decoded = decode();
            int cut = stream.stopAt(decoded);
            if (cut >= 0) return finish(FinishReason.STOP, decoded.substring(0, cut));
            if (tokens.size() >= params.maxNewTokens()) return finish(FinishReason.LENGTH, decoded);
            return stream.partial(decoded);
        }

        /** Ends the sequence with {@code finalText}; returns what of it was not emitted yet. */
        String finish(FinishReason why, String finalText) {
            done = true;
            reason = why;
            text = finalText;
            return stream.last(finalText);
        }

        /** Text of the generated tokens, without a final EOS. */
        String decode() {
            int n = endedOnEos ? tokens.size() - 1 : tokens.size();
            return tokenizer.decode(tokens.subList(0, n).stream().mapToInt(Integer::intValue).toArray(), true);
        }

        Generation result() {
            return new Generation(tokens.stream().mapToInt(Integer::intValue).toArray(), text, reason,
                    new TokenDistribution(positions), new Usage(promptTokens, tokens.size()));
        }
    }
}
