package dev.distill4j.model.generate;

import dev.distill4j.model.engine.DecodeEngine;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
        // without a listener nobody reads the per-token text deltas: the text is decoded once per sequence
        boolean streaming = listener != TokenListener.NONE;
        for (int[] p : prompts) seqs.add(new Sequence(p, params, tokenizer, streaming));
        for (int i = 0; i < b; i++) if (seqs.get(i).done()) listener.onFinish(i, seqs.get(i).result());   // 0 tokens
        int vocab = decoder.vocabSize();
        List<StepDecoder.State> states = new ArrayList<>(b);
        try {
            float[][] logits = new float[b][];
            for (int i = 0; i < b; i++) {
                states.add(decoder.newState());
                if (!seqs.get(i).done()) logits[i] = decoder.prefill(states.get(i), prompts.get(i));
            }
            while (true) {
                List<Integer> running = new ArrayList<>(b);
                List<StepDecoder.State> stepping = new ArrayList<>(b);
                int[] next = new int[b];
                for (int i = 0; i < b; i++) {
                    Sequence s = seqs.get(i);
                    if (s.done()) continue;
                    Sequence.Step step = s.next(logits[i], 0, vocab, chooser);
                    listener.onToken(i, step.tokenId(), step.textDelta(), step.position());
                    if (s.done()) {
                        listener.onFinish(i, s.result());
                    } else {
                        next[running.size()] = step.tokenId();
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
}
