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
 * {@value #MIN_WORDS} to {@value #MAX_WORDS} words is an instruction segment. Each instruction segment x gets a
 * <em>margin</em>
 * <pre>
 *   margin(x) = max_r cos(x, r) − max_o cos(x, o)      r ∈ {@link #EXEMPLARS}, o ∈ {@link #ORDINARY}
 * </pre>
 * how much nearer it is to a request for reasoning than to an ordinary instruction (summarise, translate, give an
 * example, greet, thank). A prompt asks for reasoning when the fixed phrase list {@link Scanner#COT} matches anywhere
 * in it, or when one of its instruction segments has margin ≥ {@link #threshold}. Only the instruction segments are
 * embedded, never the content: a content sentence about "the steps of the boot process" is not a request for
 * reasoning, and instructions repeat across prompts, so each distinct one is embedded once.
 *
 * <p>Why a margin and not a cosine: in bge-small's space every short English instruction is at cosine 0.6–0.8 of
 * every other, so a fixed cosine to the reasoning exemplars (0.80 until session 8) separated the benchmark's dev
 * grammar and missed its eval grammar; the margin subtracts how "instruction-like" a sentence is anyway. Why the
 * threshold is calibrated ({@link #calibrate}): what counts as "near" depends on the embedder and on the traffic, so
 * it is set on known-benign traffic at a chosen rate of its instruction sentences (outside the phrase list) counted as
 * reasoning requests, never below the uncalibrated {@value #DEFAULT_THRESHOLD} (a sentence must be clearly nearer to
 * a reasoning request than to an ordinary instruction).
 *
 * <p>The exemplars are written from the literature on eliciting reasoning (Wei et al. 2022, Kojima et al. 2022's
 * "Let's think step by step", and the usual prompt-guide variants) and from everyday instructions, not from any
 * traffic the scanner was measured on (the session-8 additions were drafted before the benchmark's test split was
 * written; docs/benchmarks.md).
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
            "Think it over carefully and explain how you reach the conclusion.",
            "Explain how you arrived at the answer.",
            "Lay out your reasoning before the final answer.",
            "Break it down step by step.",
            "Reason it through before you respond.",
            "Explain the logic behind your answer.",
            "Describe each step of your thinking.",
            "Provide a step-by-step explanation.",
            "Show the intermediate steps.",
            "Think aloud as you work it out.",
            "Write out your reasoning, then give the answer.",
            "Give the rationale for your answer.",
            "Outline your thought process before answering.",
            "Consider each part in turn before concluding.",
            "Be explicit about every step of the argument.",
            "Explain in detail how you get to the conclusion.");
    /**
     * Ordinary instructions, requests that do not ask for reasoning: what a segment's nearness to {@link #EXEMPLARS}
     * is measured against.
     */
    public static final List<String> ORDINARY = List.of(
            "Summarize this.", "Translate this into Spanish.", "Give me a short answer.",
            "Rewrite this in plain English.", "What does this mean?", "Give me an example.", "Correct the spelling.",
            "Make it shorter.", "Answer in one word.", "List the key points.", "Write a title for this.",
            "Is this true?", "Format this as a table.", "Reply in a friendly tone.", "Keep it brief.", "Thanks!",
            "Hello!", "Please help.", "Write an email about this.", "Explain it simply.", "Define the term.",
            "Turn this into a bullet list.", "Who wrote this?", "Explain how this works.", "Describe the process.",
            "What are the steps to install it?");
    /** Margin at which a segment counts without a calibration (no baseline): measured on the benchmark's dev split. */
    public static final double DEFAULT_THRESHOLD = 0.05;
    /**
     * The lowest threshold a calibration may give, the uncalibrated default: on the benchmark's eval split a
     * calibration to margin 0.028 let short fragments of customers' messages (a support bot's slot, cut as an
     * instruction sentence) count as reasoning requests, one benign window in 1,000 flagged.
     */
    public static final double MIN_MARGIN = DEFAULT_THRESHOLD;
    /** Share of known-benign instruction segments (outside the phrase list) a calibration lets count as reasoning. */
    public static final double CALIBRATION_RATE = 0.01;
    /**
     * Benign instruction sentences a calibration needs (at a rate of 1 %, a hundred give the first one that may
     * count); with fewer the threshold is kept: a few sentences, all far from reasoning, would put it at the floor.
     */
    public static final int CALIBRATION_MIN = 100;
    static final int MIN_WORDS = 2;
    static final int MAX_WORDS = 14;
    /** Sentence ends: . ! ? (optionally followed by a closing quote or bracket) before white space. */
    private static final Pattern SPLIT = Pattern.compile("(?<=[.!?][\"'”’)\\]]?)\\s+");

    private final double threshold;
    private final ExemplarMargins margins;

    /** Counts a segment as a reasoning request at margin ≥ {@code threshold}. */
    public ReasoningRequests(EmbeddingModel embedder, double threshold) {
        this.threshold = threshold;
        this.margins = new ExemplarMargins(embedder, EXEMPLARS, ORDINARY);
    }

    /** Another threshold over the same margins (they do not depend on it, so the two share what was scored). */
    private ReasoningRequests(ReasoningRequests from, double threshold) {
        this.threshold = threshold;
        this.margins = from.margins;
    }

    public double threshold() { return threshold; }

    /**
     * The same recogniser with its threshold set on known-benign prompts: the margins of their instruction segments
     * that the phrase list does not match (every occurrence, so a phrasing many users type weighs as often as it is
     * typed) are sorted, and the threshold is just above the (k+1)-th largest, k = ⌊{@code rate} · N⌋, so at most
     * k of the N count as reasoning requests; never below {@link #MIN_MARGIN}. With fewer than
     * {@value #CALIBRATION_MIN} such segments the threshold is kept.
     */
    public ReasoningRequests calibrate(List<String> benign, double rate) {
        List<String> segs = new ArrayList<>();
        for (String p : benign) {
            if (p == null) continue;
            for (String x : instructionSegments(p)) if (!Scanner.COT.matcher(x).find()) segs.add(x);
        }
        if (segs.size() < CALIBRATION_MIN) return this;
        margins.score(segs);
        double[] m = segs.stream().mapToDouble(margins::get).sorted().toArray();
        int k = (int) Math.floor(rate * m.length);
        double t = Math.nextUp(m[m.length - 1 - Math.min(k, m.length - 1)]);
        return new ReasoningRequests(this, Math.max(MIN_MARGIN, t));
    }

    /** Whether one instruction segment asks for reasoning: the phrase list, or its margin at the threshold. */
    public boolean isReasoning(String segment) {
        if (Scanner.COT.matcher(segment).find()) return true;
        int w = words(segment);
        if (w < MIN_WORDS || w > MAX_WORDS) return false;
        return margins.margin(segment) >= threshold;
    }

    /** Margin of a segment, scored if needed. */
    double margin(String segment) {
        return margins.margin(segment);
    }

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
     * For each prompt (null: no text) whether it asks for reasoning, and the best margin of its instruction segments
     * (NaN without any); the distinct segments of all prompts are embedded in one pass.
     */
    public Match[] match(List<String> prompts) {
        List<List<String>> segs = new ArrayList<>();
        Map<String, Integer> todo = new LinkedHashMap<>();
        for (String p : prompts) {
            List<String> s = p == null ? List.of() : instructionSegments(p);
            segs.add(s);
            for (String x : s) todo.putIfAbsent(x, todo.size());
        }
        margins.score(new ArrayList<>(todo.keySet()));
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
                double c = margins.get(x);
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

    /** One prompt's verdict: asks for reasoning; the best margin of its segments; that segment. */
    public record Match(boolean reasoning, double margin, String segment) {}
}
