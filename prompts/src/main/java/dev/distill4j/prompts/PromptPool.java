package dev.distill4j.prompts;

import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.Vectors;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The prompts kept so far — seeds first, then accepted synthetic ones — with their unit-norm embeddings, and the
 * duplicate checks against them: exact (after {@link MetaPrompts#normalize}) and near (cosine ≥ threshold).
 *
 * <p>A candidate is compared with every kept prompt, seeds included, so a synthetic prompt is never a paraphrase of
 * a seed or of another synthetic prompt. Comparisons are dot products of unit vectors: 10,000 kept prompts of 384
 * dimensions cost ~4 M multiply-adds per candidate.
 */
public final class PromptPool {
    private final EmbeddingModel embedder;
    private final double threshold;
    private final List<String> texts = new ArrayList<>();
    private final List<float[]> vectors = new ArrayList<>();
    private final Set<String> normalized = new HashSet<>();
    private int seeds;

    /** @param threshold cosine at or above which a candidate is a near-duplicate (1 disables the check) */
    public PromptPool(EmbeddingModel embedder, double threshold) {
        if (!(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException("similarity threshold must be in (0, 1], got " + threshold);
        }
        this.embedder = embedder;
        this.threshold = threshold;
    }

    /** Adds the seed prompts unconditionally (duplicates among seeds are kept once). */
    public void addSeeds(List<String> seedTexts) {
        List<String> fresh = new ArrayList<>();
        for (String s : seedTexts) if (normalized.add(MetaPrompts.normalize(s))) fresh.add(s);
        float[][] v = embed(fresh);
        for (int i = 0; i < fresh.size(); i++) {
            texts.add(fresh.get(i));
            vectors.add(v[i]);
        }
        seeds = texts.size();
    }

    /**
     * Offers candidates in order; each is kept unless it duplicates a kept prompt, one kept earlier in this call
     * included. Returns, per candidate, its rejection or empty if kept.
     */
    public List<Optional<Rejection>> offer(List<String> candidates) {
        return offer(candidates, null, Integer.MAX_VALUE);
    }

    /**
     * As {@link #offer(List)}, except that candidate i is not compared by embedding with the kept prompt at index
     * {@code exempt.get(i)} (−1: none). An Evol-Instruct rewrite is by design a harder version of its parent and
     * sits close to it (cosine 0.9–0.97 under bge-small): it is checked against everything but its parent; a rewrite
     * that changed nothing is caught by the rule filter instead. Stops once {@code limit} candidates are kept: the
     * verdicts then cover only the candidates looked at.
     */
    public List<Optional<Rejection>> offer(List<String> candidates, List<Integer> exempt, int limit) {
        // embed every candidate not already kept, in one batch; twins within the batch are caught below
        int[] row = new int[candidates.size()];
        List<String> toEmbed = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            boolean kept = normalized.contains(MetaPrompts.normalize(candidates.get(i)));
            row[i] = kept ? -1 : toEmbed.size();
            if (!kept) toEmbed.add(candidates.get(i));
        }
        float[][] v = embed(toEmbed);
        List<Optional<Rejection>> out = new ArrayList<>(candidates.size());
        int keptNow = 0;
        for (int i = 0; i < candidates.size() && keptNow < limit; i++) {
            String c = candidates.get(i);
            String key = MetaPrompts.normalize(c);
            if (normalized.contains(key)) {
                out.add(Optional.of(Rejection.DUPLICATE));
                continue;
            }
            float[] e = v[row[i]];
            if (threshold < 1 && maxCosine(e, exempt == null ? -1 : exempt.get(i)) >= threshold) {
                out.add(Optional.of(Rejection.NEAR_DUPLICATE));
                continue;
            }
            normalized.add(key);
            texts.add(c);
            vectors.add(e);
            out.add(Optional.empty());
            keptNow++;
        }
        return out;
    }

    /** Highest cosine between {@code e} and a kept prompt other than the one at {@code skip} (−1 when none). */
    double maxCosine(float[] e, int skip) {
        double best = -1;
        for (int k = 0; k < vectors.size(); k++) if (k != skip) best = Math.max(best, Vectors.dot(e, vectors.get(k)));
        return best;
    }

    private float[][] embed(List<String> batch) {
        if (batch.isEmpty()) return new float[0][];
        return embedder.embed(batch);
    }

    /** Adds prompts kept by an earlier run (read back from its output), unchecked, after the seeds. */
    public void addKept(List<String> keptTexts) {
        float[][] v = embed(keptTexts);
        for (int i = 0; i < keptTexts.size(); i++) {
            normalized.add(MetaPrompts.normalize(keptTexts.get(i)));
            texts.add(keptTexts.get(i));
            vectors.add(v[i]);
        }
    }

    public int seedCount() { return seeds; }

    /** Kept prompts, seeds first. */
    public List<String> texts() { return List.copyOf(texts); }

    /** Embeddings of {@link #texts()}, in the same order. */
    public List<float[]> vectors() { return List.copyOf(vectors); }

    /** Synthetic prompts kept (all kept prompts after the seeds). */
    public List<String> synthetic() { return List.copyOf(texts.subList(seeds, texts.size())); }
}
