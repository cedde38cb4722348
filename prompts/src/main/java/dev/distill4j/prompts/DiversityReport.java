package dev.distill4j.prompts;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.Vectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * How varied a prompt set is, for the synthetic prompts and, as the yardstick, for the seeds they came from:
 *
 * <ul>
 *   <li><b>mean pairwise cosine</b> of the embeddings (lower = more spread out; exact up to 2,000 prompts, else the
 *       mean over 2,000,000 random pairs);</li>
 *   <li><b>novelty</b>: mean over synthetic prompts of 1 − (highest cosine to any seed): how far they moved from
 *       the seeds;</li>
 *   <li><b>clusters</b>: groups left by leader clustering at cosine {@value #CLUSTER_COSINE} (each prompt joins the
 *       first leader it is that close to, else leads a new group) — roughly, the distinct things asked;</li>
 *   <li><b>distinct-1 / distinct-2</b>: distinct word uni-/bigrams over all uni-/bigrams (Li et al. 2016);</li>
 *   <li>length in words (min / median / max), the most common first words (Self-Instruct's verb analysis), and
 *       counts per method, operation and topic; the rejections by reason.</li>
 * </ul>
 */
public final class DiversityReport {
    static final double CLUSTER_COSINE = 0.85;
    private static final int EXACT_PAIRS_UP_TO = 2_000;
    private static final int SAMPLED_PAIRS = 2_000_000;

    /** The figures of one prompt set. */
    public record SetStats(int count, double meanPairwiseCosine, int clusters, double distinct1, double distinct2,
                           int minWords, int medianWords, int maxWords) {
        ObjectNode json() {
            ObjectNode n = Json.object();
            n.put("count", count);
            n.put("mean_pairwise_cosine", round(meanPairwiseCosine));
            n.put("clusters", clusters);
            n.put("distinct_1", round(distinct1));
            n.put("distinct_2", round(distinct2));
            n.putObject("words").put("min", minWords).put("median", medianWords).put("max", maxWords);
            return n;
        }
    }

    private final SetStats seeds;
    private final SetStats synthetic;
    private final double novelty;
    private final Map<String, Integer> firstWords;
    private final Map<String, Integer> byMethod = new TreeMap<>();
    private final Map<String, Integer> byOperation = new TreeMap<>();
    private final Map<String, Integer> byTopic = new TreeMap<>();
    private final Map<Rejection, Long> rejections;

    private DiversityReport(SetStats seeds, SetStats synthetic, double novelty, Map<String, Integer> firstWords,
                            Map<Rejection, Long> rejections) {
        this.seeds = seeds;
        this.synthetic = synthetic;
        this.novelty = novelty;
        this.firstWords = firstWords;
        this.rejections = rejections;
    }

    /**
     * @param seedVectors      unit-norm embeddings of the seeds
     * @param kept             the synthetic prompts kept
     * @param keptVectors      their unit-norm embeddings, in the same order
     */
    public static DiversityReport of(List<String> seedTexts, List<float[]> seedVectors, List<SynthesizedPrompt> kept,
                                     List<float[]> keptVectors, Map<Rejection, Long> rejections) {
        List<String> texts = kept.stream().map(SynthesizedPrompt::text).toList();
        double novelty = 0;
        for (float[] v : keptVectors) {
            double best = -1;
            for (float[] s : seedVectors) best = Math.max(best, Vectors.dot(v, s));
            novelty += 1 - best;
        }
        novelty = keptVectors.isEmpty() || seedVectors.isEmpty() ? Double.NaN : novelty / keptVectors.size();
        Map<String, Integer> first = new HashMap<>();
        for (String t : texts) {
            String[] w = words(t);
            if (w.length > 0) first.merge(w[0], 1, Integer::sum);
        }
        Map<String, Integer> top = new LinkedHashMap<>();
        first.entrySet().stream()
                .sorted((a, b) -> a.getValue().equals(b.getValue()) ? a.getKey().compareTo(b.getKey())
                        : b.getValue() - a.getValue())
                .limit(10).forEach(e -> top.put(e.getKey(), e.getValue()));
        Map<Rejection, Long> rej = new EnumMap<>(Rejection.class);
        rej.putAll(rejections);
        DiversityReport r = new DiversityReport(stats(seedTexts, seedVectors), stats(texts, keptVectors), novelty,
                top, rej);
        for (SynthesizedPrompt p : kept) {
            r.byMethod.merge(p.method().label(), 1, Integer::sum);
            if (p.operation() != null) r.byOperation.merge(p.operation().label(), 1, Integer::sum);
            if (p.topic() != null) r.byTopic.merge(p.topic(), 1, Integer::sum);
        }
        return r;
    }

    static SetStats stats(List<String> texts, List<float[]> vectors) {
        int n = vectors.size();
        return new SetStats(n, meanPairwiseCosine(vectors), clusters(vectors), distinct(texts, 1), distinct(texts, 2),
                lengthAt(texts, 0), lengthAt(texts, 0.5), lengthAt(texts, 1));
    }

    static double meanPairwiseCosine(List<float[]> v) {
        int n = v.size();
        if (n < 2) return Double.NaN;
        double sum = 0;
        long pairs = 0;
        if (n <= EXACT_PAIRS_UP_TO) {
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    sum += Vectors.dot(v.get(i), v.get(j));
                    pairs++;
                }
            }
        } else {
            SplittableRandom rng = new SplittableRandom(42);
            while (pairs < SAMPLED_PAIRS) {
                int i = rng.nextInt(n), j = rng.nextInt(n);
                if (i == j) continue;
                sum += Vectors.dot(v.get(i), v.get(j));
                pairs++;
            }
        }
        return sum / pairs;
    }

    static int clusters(List<float[]> v) {
        List<float[]> leaders = new ArrayList<>();
        for (float[] x : v) {
            boolean joined = false;
            for (float[] l : leaders) {
                if (Vectors.dot(x, l) >= CLUSTER_COSINE) {
                    joined = true;
                    break;
                }
            }
            if (!joined) leaders.add(x);
        }
        return leaders.size();
    }

    /** Distinct word n-grams over all word n-grams of the set (NaN for a set without any). */
    static double distinct(List<String> texts, int order) {
        Set<String> seen = new HashSet<>();
        long total = 0;
        for (String t : texts) {
            String[] w = words(t);
            for (int i = 0; i + order <= w.length; i++) {
                seen.add(String.join(" ", Arrays.copyOfRange(w, i, i + order)));
                total++;
            }
        }
        return total == 0 ? Double.NaN : (double) seen.size() / total;
    }

    private static int lengthAt(List<String> texts, double q) {
        if (texts.isEmpty()) return 0;
        int[] n = texts.stream().mapToInt(t -> words(t).length).sorted().toArray();
        return n[(int) Math.round(q * (n.length - 1))];
    }

    static String[] words(String t) {
        String s = t.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}']+", " ").strip();
        return s.isEmpty() ? new String[0] : s.split(" ");
    }

    public SetStats seeds() { return seeds; }

    public SetStats synthetic() { return synthetic; }

    public double novelty() { return novelty; }

    public Map<Rejection, Long> rejections() { return rejections; }

    public ObjectNode toJson() {
        ObjectNode n = Json.object();
        n.set("synthetic", synthetic.json());
        n.set("seeds", seeds.json());
        n.put("novelty", round(novelty));
        n.put("cluster_cosine", CLUSTER_COSINE);
        ObjectNode fw = n.putObject("first_words");
        firstWords.forEach(fw::put);
        ObjectNode m = n.putObject("by_method");
        byMethod.forEach(m::put);
        ObjectNode o = n.putObject("by_operation");
        byOperation.forEach(o::put);
        ObjectNode t = n.putObject("by_topic");
        byTopic.forEach(t::put);
        ObjectNode r = n.putObject("rejected");
        rejections.forEach((k, v) -> r.put(k.name().toLowerCase(Locale.ROOT), v));
        return n;
    }

    /** The report as the command prints it. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "  %-22s %10s %10s", "", "synthetic", "seeds"));
        out.add(row("prompts", synthetic.count(), seeds.count()));
        out.add(row("mean pairwise cosine", synthetic.meanPairwiseCosine(), seeds.meanPairwiseCosine()));
        out.add(row("clusters @" + CLUSTER_COSINE, synthetic.clusters(), seeds.clusters()));
        out.add(row("distinct-1", synthetic.distinct1(), seeds.distinct1()));
        out.add(row("distinct-2", synthetic.distinct2(), seeds.distinct2()));
        out.add(String.format(Locale.ROOT, "  %-22s %10s %10s", "words min/med/max",
                synthetic.minWords() + "/" + synthetic.medianWords() + "/" + synthetic.maxWords(),
                seeds.minWords() + "/" + seeds.medianWords() + "/" + seeds.maxWords()));
        out.add(String.format(Locale.ROOT, "  novelty (1 - max cosine to a seed, mean): %.3f", novelty));
        if (!firstWords.isEmpty()) out.add("  first words: " + firstWords);
        long rejected = rejections.values().stream().mapToLong(Long::longValue).sum();
        if (rejected > 0) {
            StringBuilder b = new StringBuilder("  rejected " + rejected + ":");
            rejections.forEach((k, v) -> {
                if (v > 0) b.append(' ').append(v).append(' ').append(k.description()).append(';');
            });
            out.add(b.substring(0, b.length() - 1));
        }
        return out;
    }

    private static String row(String name, double a, double b) {
        return String.format(Locale.ROOT, "  %-22s %10.3f %10.3f", name, a, b);
    }

    private static String row(String name, int a, int b) {
        return String.format(Locale.ROOT, "  %-22s %10d %10d", name, a, b);
    }

    /** Four decimals; null (JSON null) for an undefined figure, e.g. the pairwise cosine of one prompt. */
    private static Double round(double x) {
        return Double.isNaN(x) ? null : Math.round(x * 10_000) / 10_000.0;
    }
}
