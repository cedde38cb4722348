package dev.distill4j.model.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Teacher-forced scoring: how likely the model finds a given continuation of a prompt, token by token, in one
 * forward pass. Token i of the continuation is scored by the logits at the position before it.
 */
public final class Scorer {
    private final CausalLM model;
    private final TextTokenizer tokenizer;

    public Scorer(CausalLM model, TextTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * @param tokenIds     the continuation
     * @param logprobs     log p(continuation[i] | prompt, continuation[..i])
     * @param distribution the same with the top alternatives at each position
     */
    public record Scored(int[] tokenIds, double[] logprobs, TokenDistribution distribution) {
        /** log p(continuation | prompt). */
        public double total() {
            double s = 0;
            for (double l : logprobs) s += l;
            return s;
        }
    }

    public Scored score(int[] promptIds, int[] continuationIds, int topLogprobs) {
        if (promptIds.length == 0) throw new IllegalArgumentException("scoring needs at least one prompt token (e.g. BOS)");
        int p = promptIds.length;
        int c = continuationIds.length;
        int v = model.config().vocabSize();
        int usable = Generator.usableVocab(model, tokenizer);
        for (int id : continuationIds) {
            if (id < 0 || id >= usable) {
                throw new IllegalArgumentException("token id " + id + " is not in the tokenizer's vocabulary of "
                        + usable + " tokens");
            }
        }
        int[] ids = new int[p + c];
        System.arraycopy(promptIds, 0, ids, 0, p);
        System.arraycopy(continuationIds, 0, ids, p, c);
        float[] logits;
        try (NDManager m = model.manager().newSubManager()) {
            NDArray all = model.forward(m.create(ids, new Shape(1, p + c)), null, null);  // [1, P+C, V]
            logits = c == 0 ? new float[0] : all.get("0, " + (p - 1) + ":" + (p + c - 1) + ", :").toFloatArray(); // [C·V]
        }
        double[] lp = new double[c];
        List<TokenPosition> positions = new ArrayList<>(c);
        for (int i = 0; i < c; i++) {
            float[] row = java.util.Arrays.copyOfRange(logits, i * v, i * v + usable);
            Logprobs.Row logprobs = Logprobs.Row.of(row);
            lp[i] = logprobs.logprob(continuationIds[i]);
            positions.add(Logprobs.position(tokenizer, logprobs, continuationIds[i], topLogprobs));
        }
        return new Scored(continuationIds.clone(), lp, new TokenDistribution(positions));
    }
}
