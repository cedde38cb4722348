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

    public Generator(CausalLM model, TextTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    public Generation generate(int[] promptIds, SamplingParams params) {
        return generate(List.of(promptIds), params).getFirst();
    }

    /** Generates for every prompt; the results are in prompt order. */
    public List<Generation> generate(List<int[]> prompts, SamplingParams params) {
        int b = prompts.size();
        if (b == 0) return List.of();
        int longest = 0;
        for (int[] p : prompts) {
            if (p.length == 0) throw new IllegalArgumentException("a prompt has no tokens; give at least one (e.g. BOS)");
            longest = Math.max(longest, p.length);
        }
        List<Sequence> seqs = new ArrayList<>(b);
        for (int[] p : prompts) seqs.add(new Sequence(p.length, new SplittableRandom(params.seed())));
        if (params.maxNewTokens() == 0) {
            for (Sequence s : seqs) s.finish(FinishReason.LENGTH);
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
                    float[] row = Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab);
                    next[i] = Sampler.next(row, params, s.rng);
                    s.accept(next[i], Logprobs.position(tokenizer, Logprobs.logSoftmax(row), next[i],
                            params.topLogprobs()), params);
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

    /** One sequence's progress. */
    private final class Sequence {
        final int promptTokens;
        final SplittableRandom rng;
        final List<Integer> tokens = new ArrayList<>();
        final List<TokenPosition> positions = new ArrayList<>();
        boolean done;
        FinishReason reason;
        String text = "";
        boolean endedOnEos;

        Sequence(int promptTokens, SplittableRandom rng) {
            this.promptTokens = promptTokens;
            this.rng = rng;
        }

        void accept(int token, TokenPosition position, SamplingParams p) {
            tokens.add(token);
            positions.add(position);
            if (p.eosTokenIds().contains(token)) {
                endedOnEos = true;
                finish(FinishReason.STOP);
                return;
            }
            if (!p.stopStrings().isEmpty()) {
                String decoded = decode();
                int cut = -1;
                for (String stop : p.stopStrings()) {
                    int at = decoded.indexOf(stop);
                    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
                }
                if (cut >= 0) {
                    text = decoded.substring(0, cut);
                    done = true;
                    reason = FinishReason.STOP;
                    return;
                }
            }
            if (tokens.size() >= p.maxNewTokens()) finish(FinishReason.LENGTH);
        }

        void finish(FinishReason why) {
            done = true;
            reason = why;
            text = decode();
        }

        /** Text of the generated tokens, without a final EOS. */
        private String decode() {
            int n = endedOnEos ? tokens.size() - 1 : tokens.size();
            return tokenizer.decode(tokens.subList(0, n).stream().mapToInt(Integer::intValue).toArray(), true);
        }

        Generation result() {
            return new Generation(tokens.stream().mapToInt(Integer::intValue).toArray(), text, reason,
                    new TokenDistribution(positions), new Usage(promptTokens, tokens.size()));
        }
    }
}
