package dev.distill4j.guard.scan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits each prompt of one account into its <em>instruction</em> — the words its template fixes — and its
 * <em>content</em> — what the template leaves free (the slot): a prompt's content is what the account's other prompts
 * do not share with it, not its longest sentence.
 *
 * <p>Why: a distillation prompt set wraps each passage in one instruction, and when the instruction sentence is longer
 * than the passage ("Write the ideal response a senior maintainer would give to a newcomer who pasted this line from
 * the docs." around a 12-word line) the longest sentence is the instruction, the same in every prompt; the order test
 * ({@link Sweep}) then compares instructions and sees no walk through the material. What a template fixes is
 * known from the account's own traffic: the words at the start (or end) of a prompt that at least {@value #GROUP}
 * of its distinct prompts begin (or end) with.
 *
 * <p>How: the account's distinct prompts, as white-space tokens, are sorted; the longest prefix a prompt shares with
 * at least {@value #GROUP} − 1 others is the longest common prefix of some run of {@value #GROUP} neighbours in sorted
 * order that contains it, i.e. the largest min(lcp(a, b), lcp(b, c)) over the three runs of three around it ({@code
 * lcp}: common leading tokens of sorted neighbours). The suffix is found the same way on the reversed token lists. An
 * affix of fewer than {@value #MIN_AFFIX} tokens is none (two slot sentences that both begin with "The" share no
 * instruction). The content is the tokens between prefix and suffix; when nothing is left (the prompt is all
 * instruction, e.g. two prefixes and a suffix that overlap) there is no split, and callers fall back to the longest
 * sentence ({@link ReasoningRequests#content}). Exact repeats of a prompt count once, so a prompt sent three times is
 * not its own template.
 */
public final class Affixes {
    /** Distinct prompts (the prompt included) that must share an affix for it to be a template's fixed text. */
    static final int GROUP = 3;
    /** The shortest affix, in tokens, taken for fixed instruction text. */
    static final int MIN_AFFIX = 2;

    /** One prompt's split: {@code content} the free part, {@code instruction} the fixed words ("…" for the slot). */
    public record Split(String content, String instruction, int prefixTokens, int suffixTokens) {}

    private Affixes() {}

    /**
     * The split of each of {@code prompts} (one account's, in any order; nulls allowed): null for a prompt without
     * an affix, or whose affixes leave no content.
     */
    public static Split[] split(List<String> prompts) {
        Map<String, Integer> distinct = new LinkedHashMap<>();
        for (String p : prompts) if (p != null && !p.isBlank()) distinct.putIfAbsent(p, distinct.size());
        List<String> texts = new ArrayList<>(distinct.keySet());
        String[][] tok = new String[texts.size()][];
        for (int i = 0; i < tok.length; i++) tok[i] = texts.get(i).strip().split("\\s+");
        int[] pre = shared(tok, false);
        int[] suf = shared(tok, true);
        Split[] byText = new Split[tok.length];
        for (int i = 0; i < tok.length; i++) {
            int p = pre[i] >= MIN_AFFIX ? pre[i] : 0;
            int s = suf[i] >= MIN_AFFIX ? suf[i] : 0;
            if (p == 0 && s == 0 || p + s >= tok[i].length) continue;
            String[] t = tok[i];
            String content = String.join(" ", Arrays.copyOfRange(t, p, t.length - s));
            String instruction = (String.join(" ", Arrays.copyOfRange(t, 0, p)) + " … "
                    + String.join(" ", Arrays.copyOfRange(t, t.length - s, t.length))).strip();
            byText[i] = new Split(content, instruction, p, s);
        }
        Split[] out = new Split[prompts.size()];
        for (int i = 0; i < out.length; i++) {
            String p = prompts.get(i);
            out[i] = p == null || p.isBlank() ? null : byText[distinct.get(p)];
        }
        return out;
    }

    /**
     * For each token list, the longest prefix (or, {@code reversed}, suffix) it shares with at least {@value #GROUP}
     * − 1 others.
     */
    static int[] shared(String[][] tok, boolean reversed) {
        int n = tok.length;
        int[] out = new int[n];
        if (n < GROUP) return out;
        String[][] seq = new String[n][];
        for (int i = 0; i < n; i++) {
            seq[i] = tok[i].clone();
            if (reversed) {
                for (int a = 0, b = seq[i].length - 1; a < b; a++, b--) {
                    String x = seq[i][a];
                    seq[i][a] = seq[i][b];
                    seq[i][b] = x;
                }
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Arrays.compare(seq[x], seq[y]));
        int[] lcp = new int[n - 1]; // between sorted neighbours j and j + 1
        for (int j = 0; j + 1 < n; j++) {
            int at = Arrays.mismatch(seq[order[j]], seq[order[j + 1]]);
            lcp[j] = at < 0 ? seq[order[j]].length : at;   // -1: equal sequences
        }
        for (int j = 0; j < n; j++) {
            int best = 0;
            // the runs of GROUP = 3 sorted neighbours that contain position j: starting at j - 2, j - 1 and j
            for (int s = j - GROUP + 1; s <= j; s++) {
                if (s < 0 || s + GROUP - 1 >= n) continue;
                int m = Integer.MAX_VALUE;
                for (int k = s; k < s + GROUP - 1; k++) m = Math.min(m, lcp[k]);
                best = Math.max(best, m);
            }
            out[order[j]] = best;
        }
        return out;
    }
}
