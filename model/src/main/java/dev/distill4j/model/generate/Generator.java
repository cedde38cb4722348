package dev.distill4j.model.generate;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.nn.KvCache;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Autoregressive generation with a KV cache. A batch of prompts is left-padded to a common length, prefilled in one
 * forward, then decoded one token per step for all sequences together until each has stopped.
 *
 * <p>Every generated token is reported with its logprob and the top alternatives of the model's raw distribution,
 * so a local model can serve as a {@code TOP_K} teacher.
 */
public final class Generator {
    /** Fills the left padding; any id works since padding is masked out. */
    private static final int PAD_ID = 0;

    private final CausalLM model;
    private final TextTokenizer tokenizer;
    private final TokenChooser chooser;

    public Generator(CausalLM model, TextTokenizer tokenizer) {
        this(model, tokenizer, TokenChooser.SAMPLE);
    }

    /** A generator whose tokens {@code chooser} picks (e.g. a watermark) instead of plain sampling. */
    public Generator(CausalLM model, TextTokenizer tokenizer, TokenChooser chooser) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.chooser = chooser;
    }

    /** The same model and tokenizer with another token chooser. */
    public Generator withChooser(TokenChooser chooser) {
        return new Generator(model, tokenizer, chooser);
    }

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
        int longest = 0;
        for (int[] p : prompts) {
            if (p.length == 0) throw new IllegalArgumentException("a prompt has no tokens; give at least one (e.g. BOS)");
            longest = Math.max(longest, p.length);
        }
        List<Sequence> seqs = new ArrayList<>(b);
        for (int[] p : prompts) seqs.add(new Sequence(p, params, tokenizer));
        for (int i = 0; i < b; i++) if (seqs.get(i).done()) listener.onFinish(i, seqs.get(i).result());   // 0 tokens

        // Prefill input: prompts left-padded to [B, longest]
        int[] input = new int[b * longest];
        int[] mask = new int[b * longest];
        for (int i = 0; i < b; i++) {
            int[] p = prompts.get(i);
            int pad = longest - p.length;
            Arrays.fill(input, i * longest, i * longest + pad, PAD_ID);
            System.arraycopy(p, 0, input, i * longest + pad, p.length);
            Arrays.fill(mask, i * longest + pad, (i + 1) * longest, 1);
        }
        int width = longest;     // T of the next forward
        int seen = longest;      // S after the next forward
        int vocab = model.config().vocabSize();
        try (NDManager scope = model.manager().newSubManager(); KvCache cache = model.newCache(scope)) {
            while (seqs.stream().anyMatch(s -> !s.done())) {
                float[] logits;
                try (NDManager step = scope.newSubManager()) {
                    logits = model.forwardLast(step.create(input, new Shape(b, width)),
                            step.create(mask, new Shape(b, seen)), cache).toFloatArray();   // [B·V]
                }
                int[] next = new int[b];
                for (int i = 0; i < b; i++) {
                    Sequence s = seqs.get(i);
                    if (s.done()) {
                        next[i] = PAD_ID;    // keeps the batch rectangular; its output is ignored
                        continue;
                    }
                    Sequence.Step step = s.next(logits, i * vocab, vocab, chooser);
                    next[i] = step.tokenId();
                    listener.onToken(i, next[i], step.textDelta(), step.position());
                    if (s.done()) listener.onFinish(i, s.result());
                }
                input = next;
                width = 1;
                int[] grown = new int[b * (seen + 1)];
                for (int i = 0; i < b; i++) {
                    System.arraycopy(mask, i * seen, grown, i * (seen + 1), seen);
                    grown[i * (seen + 1) + seen] = 1;
                }
                mask = grown;
                seen++;
            }
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
        return Math.min(model.config().vocabSize(), tokenizer.vocabSize());
    }
}
