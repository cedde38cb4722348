package dev.distill4j.guard.scan;

import dev.distill4j.embed.EmbeddingModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Recognises chain-of-thought elicitation — a prompt asking the model to lay out its reasoning — by meaning rather
 * than by a phrase list: a campaign that rewords its instruction per request ("Take it one step at a time", "Go
 * through the logic before concluding") escapes any list of phrases, but not the embedding neighbourhood of the
 * reasoning requests prompt-engineering guides teach.
 *
 * <p>How: a prompt is cut into segments at sentence ends (and a quotation's closing mark); its longest segment is
 * taken to be the content — the passage or question being asked about — and every other segment of
 * {@value #MIN_WORDS} to {@value #MAX_WORDS} words is an instruction segment. A prompt asks for reasoning when the
 * fixed phrase list {@link Scanner#COT} matches anywhere in it, or when one of its instruction segments has cosine
 * ≥ {@link #threshold} with one of the {@link #EXEMPLARS} in the embedder's space. Only the instruction segments are
 * embedded, never the content: a content sentence about "the steps of the boot process" is not a request for
 * reasoning, and instructions repeat across prompts, so each distinct one is embedded once.
 *
 * <p>The exemplars are written from the literature on eliciting reasoning (Wei et al. 2022, Kojima et al. 2022's
 * "Let's think step by step", and the usual prompt-guide variants), not from any traffic the scanner was measured
 * on; the threshold was set on the benchmark's dev split only (bench/guard/traffic.sh, docs/benchmarks.md).
 */
public final class ReasoningRequests {
    /** Requests for reasoning, the neighbourhood an instruction segment is compared with. */
    public static final List<String> EXEMPLARS = List.of(
            "Let's think step by step.",
            "Think step by step before you answer.",
            "Show your reasoning.",
            "Show your work.",
            "Explain your reasoning.",
            "Explain your thought process.",
            "Walk me through your reasoning.",
            "Reason carefully before giving the final answer.",
            "Break the problem down into steps.",
            "Work through it step by step.",
            "Give a detailed derivation.",
            "Justify your answer.",
            "Explain each step.",
            "Describe your chain of thought.",
            "First reason about it, then answer.",
            "Think it over carefully and explain how you reach the conclusion.");
    /** Default cosine (bge-small-en-v1.5) at which an instruction segment counts as a reasoning request. */
    public static final double DEFAULT_THRESHOLD = 0.80;
    static final int MIN_WORDS = 2;
    static final int MAX_WORDS = 14;
    /** Sentence ends: . ! ? (optionally followed by a closing quote or bracket) before white space. */
    private static final Pattern SPLIT = Pattern.compile("(?<=[.!?][\"'”’)\\]]?)\\s+");

    private final EmbeddingModel embedder;
    private final double threshold;
    private final float[][] exemplars;
    private final Map<String, Double> seen = new java.util.concurrent.ConcurrentHashMap<>();

    public ReasoningRequests(EmbeddingModel embedder, double threshold) {
        this.embedder = embedder;
        this.threshold = threshold;
        this.exemplars = embedder.embed(EXEMPLARS);
    }

    public double threshold() { return threshold; }

    /** The prompt's instruction segments: every sentence but the longest, of {@value #MIN_WORDS}–{@value #MAX_WORDS} words. */
    static List<String> instructionSegments(String prompt) {
        String[] seg = SPLIT.split(prompt.strip());
        int longest = 0;
        for (int i = 1; i < seg.length; i++) if (words(seg[i]) > words(seg[longest])) longest = i;
        List<String> out = new ArrayList<>();
        for (int i = 0; i < seg.length; i++) {
            int w = words(seg[i]);
            if (i != longest && w >= MIN_WORDS && w <= MAX_WORDS) out.add(seg[i].strip());
        }
        return out;
    }

    /**
     * The prompt's content: its longest sentence (the passage or question asked about), without the instruction
     * sentences around it.
     */
    public static String content(String prompt) {
        String[] seg = SPLIT.split(prompt.strip());
        int longest = 0;
        for (int i = 1; i < seg.length; i++) if (words(seg[i]) > words(seg[longest])) longest = i;
        return seg[longest];
    }

    private static int words(String s) {
        String t = s.strip();
        return t.isEmpty() ? 0 : t.split("\\s+").length;
    }

    /**
     * For each prompt (null: no text) whether it asks for reasoning, and the best cosine of its instruction segments
     * to the exemplars (NaN without any); the distinct segments of all prompts are embedded in one pass.
     */
    public Match[] match(List<String> prompts) {
        List<List<String>> segs = new ArrayList<>();
        Map<String, Integer> todo = new LinkedHashMap<>();
        for (String p : prompts) {
            List<String> s = p == null ? List.of() : instructionSegments(p);
            segs.add(s);
            for (String x : s) if (!seen.containsKey(x)) todo.putIfAbsent(x, todo.size());
        }
        List<String> list = new ArrayList<>(todo.keySet());
        for (int s = 0; s < list.size(); s += 64) {
            List<String> batch = list.subList(s, Math.min(list.size(), s + 64));
            float[][] v = embedder.embed(batch);
            for (int i = 0; i < v.length; i++) seen.put(batch.get(i), best(v[i]));
        }
        Match[] out = new Match[prompts.size()];
        for (int i = 0; i < out.length; i++) {
            String p = prompts.get(i);
            if (p == null) {
                out[i] = new Match(false, Double.NaN, null);
                continue;
            }
            double top = Double.NaN;
            String which = null;
            for (String x : segs.get(i)) {
                double c = seen.get(x);
                if (Double.isNaN(top) || c > top) {
                    top = c;
                    which = x;
                }
            }
            boolean listed = Scanner.COT.matcher(p).find();
            out[i] = new Match(listed || (!Double.isNaN(top) && top >= threshold), top, which);
        }
        return out;
    }

    /** One prompt's verdict: asks for reasoning; the best exemplar cosine of its segments; that segment. */
    public record Match(boolean reasoning, double cosine, String segment) {}

    private double best(float[] v) {
        double top = -1;
        for (float[] e : exemplars) {
            double s = 0;
            for (int d = 0; d < v.length; d++) s += v[d] * e[d];
            top = Math.max(top, s);
        }
        return top;
    }
}
