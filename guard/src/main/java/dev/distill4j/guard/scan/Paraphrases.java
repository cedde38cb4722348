package dev.distill4j.guard.scan;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Paraphrased instructions: a prompt set whose one instruction is reworded for every request, so that no two prompts
 * share a template, is still one instruction — many wordings of a single meaning wrapped around content that is new
 * every time. That is what a template looks like after paraphrasing, and what people's own requests rarely look like:
 * a person asks different things (what it means, an example, a translation, is it true) and, when they have a habit,
 * repeat its wording instead of rewording it each time.
 *
 * <p>The <em>wrapper</em> of a prompt ({@link #wrapper}) is the prompt minus its content: the longest sentence (see
 * {@link ReasoningRequests#content}) is dropped, except a quotation inside it (≥ {@value #QUOTE_WORDS} words, and at
 * least half the sentence: not a quoted name within a passage) is cut out and the words around it kept
 * ({@code Can you explain this: "…"}), or else a short lead-in before a colon (at most {@value #LEAD_IN_WORDS} words,
 * two of them words of letters: {@code Translate into German:}) is kept; sentences that ask for reasoning are
 * dropped too, since {@code cot_elicitation_share} already counts them and a person who adds "explain step by step"
 * to varied questions is not rewording one instruction. What is left, lower-cased and with numbers masked, is the
 * wrapper; fewer than {@value #MIN_WORDS} or more than {@value #MAX_WORDS} words (content the cut missed) is none.
 *
 * <p>The statistic ({@link #share}): with the entity's distinct wrappers embedded (unit vectors), for each distinct
 * wrapper w its <em>ball</em> is the distinct wrappers at cosine ≥ {@link #SIMILAR} of w (w included); the share is
 * <pre>
 *   max_w #{queries whose wrapper is in ball(w) and occurs once in the entity} / #queries
 * </pre>
 * the largest part of the traffic that rewords one instruction without ever repeating a wording. Exact repeats do not
 * count (they are a template, which {@code affix_template_share} and {@code template_share} see), nor wrappers of
 * another meaning. A script that sends one fixed instruction around its slot (affix template) is excluded by the
 * caller: its wrappers vary only when the content is not found.
 */
public final class Paraphrases {
    /** Cosine (bge-small-en-v1.5) at which two wrappers are taken to say the same thing; set on the dev split. */
    public static final double SIMILAR = 0.70;
    static final int MIN_WORDS = 2;
    /** Longer wrappers are taken to hold content the cut missed (a second passage), not an instruction. */
    static final int MAX_WORDS = 24;
    static final int LEAD_IN_WORDS = 8;
    static final int QUOTE_WORDS = 4;
    private static final Pattern SPLIT = Pattern.compile("(?<=[.!?][\"'”’)\\]]?)\\s+");
    /** A quotation: from the first opening quote to the last closing one (quoted text often quotes again). */
    private static final Pattern QUOTED = Pattern.compile("[\"“](.{3,})[\"”]");
    /** A word of letters (a lead-in of numbers and signs, "℞ 26:", is part of the content). */
    private static final Pattern WORD = Pattern.compile("\\p{L}{2,}");

    private Paraphrases() {}

    /**
     * The prompt's instruction without its content, lower case with white space collapsed, or null when fewer than
     * {@value #MIN_WORDS} words are left; {@code reasoning} tells which instruction sentences ask for reasoning
     * (dropped).
     */
    public static String wrapper(String prompt, Predicate<String> reasoning) {
        if (prompt == null) return null;
        String[] seg = SPLIT.split(prompt.strip());
        int longest = 0;
        for (int i = 1; i < seg.length; i++) if (words(seg[i]) > words(seg[longest])) longest = i;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < seg.length; i++) {
            String s = seg[i].strip();
            if (i == longest) {
                s = aroundContent(s);
                if (s == null) continue;
            } else if (s.isEmpty() || reasoning.test(s)) {
                continue;
            }
            if (!sb.isEmpty()) sb.append(' ');
            sb.append(s);
        }
        // numbers masked: "section 3" and "section 4" are one wording
        String w = sb.toString().replaceAll("\\d+", "0").replaceAll("\\s+", " ").strip().toLowerCase(Locale.ROOT);
        int n = words(w);
        return n < MIN_WORDS || n > MAX_WORDS ? null : w;
    }

    /** What of the content sentence belongs to the instruction: the words around a quotation, or a short lead-in. */
    static String aroundContent(String s) {
        Matcher m = QUOTED.matcher(s);
        if (m.find() && words(m.group(1)) >= QUOTE_WORDS && 2 * words(m.group(1)) >= words(s)) {
            String kept = (s.substring(0, m.start()) + " \"…\" " + s.substring(m.end())).strip();
            return kept.equals("\"…\"") ? null : kept;
        }
        int c = s.indexOf(": ");
        if (c > 0 && words(s.substring(0, c)) <= LEAD_IN_WORDS && letterWords(s.substring(0, c)) >= 2) {
            return s.substring(0, c + 1);
        }
        return null;
    }

    /**
     * The share of {@code queries} (each entry one query's wrapper, null for none) that reword one instruction
     * without repeating a wording: see the class comment. {@code vectors} holds a unit vector for every wrapper.
     */
    public static double share(List<String> queries, Map<String, float[]> vectors) {
        if (queries.isEmpty()) return 0;
        Map<String, Integer> count = new LinkedHashMap<>();
        for (String w : queries) if (w != null) count.merge(w, 1, Integer::sum);
        List<String> distinct = new ArrayList<>(count.keySet());
        int best = 0;
        for (String a : distinct) {
            float[] va = vectors.get(a);
            int once = 0;
            for (String b : distinct) {
                if (count.get(b) == 1 && cosine(va, vectors.get(b)) >= SIMILAR) once++;
            }
            best = Math.max(best, once);
        }
        return best / (double) queries.size();
    }

    /** The distinct non-null wrappers of {@code wrappers}, in first-seen order. */
    static List<String> distinct(List<String> wrappers) {
        Map<String, Boolean> d = new LinkedHashMap<>();
        for (String w : wrappers) if (w != null) d.putIfAbsent(w, true);
        return new ArrayList<>(d.keySet());
    }

    static Map<String, float[]> index(List<String> distinct, float[][] vectors) {
        Map<String, float[]> m = new HashMap<>();
        for (int i = 0; i < distinct.size(); i++) m.put(distinct.get(i), vectors[i]);
        return m;
    }

    private static double cosine(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static int letterWords(String s) {
        int n = 0;
        for (String w : s.strip().split("\\s+")) if (WORD.matcher(w).find()) n++;
        return n;
    }

    private static int words(String s) {
        String t = s.strip();
        return t.isEmpty() ? 0 : t.split("\\s+").length;
    }
}
