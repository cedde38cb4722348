package dev.distill4j.model.generate;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.Usage;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.nn.KvCache;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

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
        for (int[] p : prompts) seqs.add(new Sequence(p, new SplittableRandom(params.seed()), params));
        if (params.maxNewTokens() == 0) {
            for (int i = 0; i < b; i++) {
                seqs.get(i).finish(FinishReason.LENGTH, seqs.get(i).decode());
                listener.onFinish(i, seqs.get(i).result());
            }
        }

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
        int usable = usableVocab(model, tokenizer);
        try (NDManager scope = model.manager().newSubManager(); KvCache cache = model.newCache(scope)) {
            while (seqs.stream().anyMatch(s -> !s.done)) {
                float[] logits;
                try (NDManager step = scope.newSubManager()) {
                    logits = model.forwardLast(step.create(input, new Shape(b, width)),
                            step.create(mask, new Shape(b, seen)), cache).toFloatArray();   // [B·V]
                }
                int[] next = new int[b];
                for (int i = 0; i < b; i++) {
                    Sequence s = seqs.get(i);
                    if (s.done) {
                        next[i] = PAD_ID;    // keeps the batch rectangular; its output is ignored
                        continue;
                    }
                    float[] row = Arrays.copyOfRange(logits, i * vocab, i * vocab + usable);
                    next[i] = chooser.choose(s.history, s.length, row, params, s.rng);
                    TokenPosition position = Logprobs.position(tokenizer, Logprobs.logSoftmax(row), next[i],
                            params.topLogprobs());
                    listener.onToken(i, next[i], s.accept(next[i], position), position);
                    if (s.done) listener.onFinish(i, s.result());
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
