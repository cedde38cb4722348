package dev.distill4j.embed.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Rendered documentation text → paragraphs → sentences that read as English prose.
 *
 * <p><b>Paragraphs.</b> A blank line, a form feed or a markup line (rules, bullets, numbered headings, info-node
 * headers) ends a paragraph; wrapped lines are joined; a paragraph that starts deeply indented (12 spaces or two
 * tabs) is code or a table and skipped. Words hyphenated across joined lines ({@code configu- ration}) are rejoined.
 *
 * <p><b>Sentences.</b> A paragraph is cut after {@code . ! ?} (optionally followed by a closing quote or bracket)
 * when whitespace and then an upper-case letter (or an opening quote/bracket before one) follow, except after
 * common abbreviations ({@code e.g.}, {@code i.e.}, {@code etc.}, {@code Mr.}, {@code vs.}, …) and single capital
 * initials ({@code J. Smith}).
 *
 * <p><b>Filter</b> ({@link #isProse}): {@code minWords..maxWords} words, at most {@code maxChars} characters, starts
 * with an upper-case letter (or a quote/bracket before one), ends like a sentence, at least 70 % of its words purely
 * alphabetic once punctuation is stripped, and letters plus spaces at least 85 % of its characters. That drops
 * option lists, code, paths, tables and licence headers that survive rendering.
 */
public final class Sentences {
    /** Length limits of a kept sentence. */
    public record Limits(int minWords, int maxWords, int maxChars) {
        public static final Limits DEFAULT = new Limits(6, 50, 400);
    }

    private static final Pattern MARKUP = Pattern.compile(
            "^\\s*([-=*_~#+|]{3,}|\\*|[-*•]\\s|\\d+(\\.\\d+)*\\s*$|File: |Node: |Next: |Prev: |Up: |\\* Menu:)");
    private static final Pattern SPACES = Pattern.compile("\\s+");
    private static final Pattern HYPHEN_JOIN = Pattern.compile("(\\p{Ll})- (\\p{Ll})");
    private static final Set<String> ABBREVIATIONS = Set.of("e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "vs", "cf",
            "fig", "no", "st", "approx", "resp", "viz", "al", "jr", "sr", "prof", "inc", "ltd", "co", "ca", "vol",
            "ed", "eds", "p", "pp", "sec", "ch", "e.g.", "i.e.");

    private Sentences() {}

    /** The paragraphs of one rendered document, whitespace collapsed. */
    public static List<String> paragraphs(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String s = line.strip();
            if (s.isEmpty() || line.indexOf('\f') >= 0 || MARKUP.matcher(line).find()) {
                flush(cur, out);
                continue;
            }
            if (cur.isEmpty() && (line.startsWith(" ".repeat(12)) || line.startsWith("\t\t"))) continue;
            if (!cur.isEmpty()) cur.append(' ');
            cur.append(s);
        }
        flush(cur, out);
        return out;
    }

    private static void flush(StringBuilder cur, List<String> out) {
        if (cur.isEmpty()) return;
        String p = SPACES.matcher(cur).replaceAll(" ").strip();
        out.add(HYPHEN_JOIN.matcher(p).replaceAll("$1$2"));
        cur.setLength(0);
    }

    /** The sentences of one paragraph (not yet filtered). */
    public static List<String> split(String paragraph) {
        List<String> out = new ArrayList<>();
        int start = 0, n = paragraph.length();
        for (int i = 0; i < n; i++) {
            char c = paragraph.charAt(i);
            if (c != '.' && c != '!' && c != '?') continue;
            int end = i + 1;
            while (end < n && isClosing(paragraph.charAt(end))) end++;
            if (end >= n || !Character.isWhitespace(paragraph.charAt(end))) continue;
            int next = end;
            while (next < n && Character.isWhitespace(paragraph.charAt(next))) next++;
            int letter = next;
            while (letter < n && isOpening(paragraph.charAt(letter))) letter++;
            if (letter >= n || !Character.isUpperCase(paragraph.charAt(letter))) continue;
            if (c == '.' && abbreviationBefore(paragraph, start, i)) continue;
            out.add(paragraph.substring(start, end).strip());
            start = next;
            i = next - 1;
        }
        if (start < n) {
            String rest = paragraph.substring(start).strip();
            if (!rest.isEmpty()) out.add(rest);
        }
        return out;
    }

    private static boolean abbreviationBefore(String p, int from, int dot) {
        int w = dot;
        while (w > from && !Character.isWhitespace(p.charAt(w - 1)) && !isOpening(p.charAt(w - 1))) w--;
        String word = p.substring(w, dot);
        if (word.isEmpty()) return false;
        if (word.length() == 1 && Character.isUpperCase(word.charAt(0))) return true;   // an initial: "J. Smith"
        return ABBREVIATIONS.contains(word.toLowerCase(java.util.Locale.ROOT));
    }

    private static boolean isClosing(char c) { return c == '"' || c == '\'' || c == ')' || c == ']' || c == '”' || c == '’'; }

    private static boolean isOpening(char c) { return c == '"' || c == '\'' || c == '(' || c == '[' || c == '“' || c == '‘'; }

    /** Whether a sentence reads as prose within {@code limits} (see the class comment). */
    public static boolean isProse(String s, Limits limits) {
        if (s.length() > limits.maxChars() || s.isEmpty()) return false;
        String[] words = s.split(" ");
        if (words.length < limits.minWords() || words.length > limits.maxWords()) return false;
        int first = 0;
        while (first < s.length() && isOpening(s.charAt(first))) first++;
        if (first >= s.length() || !Character.isUpperCase(s.charAt(first))) return false;
        int last = s.length() - 1;
        while (last > 0 && isClosing(s.charAt(last))) last--;
        char end = s.charAt(last);
        if (end != '.' && end != '!' && end != '?') return false;
        int alphabetic = 0;
        for (String w : words) {
            String core = strip(w);
            if (!core.isEmpty() && core.chars().allMatch(Character::isLetter)) alphabetic++;
        }
        if (alphabetic < 0.7 * words.length) return false;
        int letters = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isLetter(c) || c == ' ') letters++;
        }
        return letters >= 0.85 * s.length();
    }

    /** A word without the punctuation around it ({@code "(files),"} → {@code files}). */
    static String strip(String w) {
        int a = 0, b = w.length();
        while (a < b && !Character.isLetterOrDigit(w.charAt(a))) a++;
        while (b > a && !Character.isLetterOrDigit(w.charAt(b - 1))) b--;
        return w.substring(a, b);
    }

    /** The exact-duplicate key: lower case, every run of non-letters one space. */
    public static String key(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean space = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isLetter(c)) {
                b.append(Character.toLowerCase(c));
                space = false;
            } else if (!space) {
                b.append(' ');
                space = true;
            }
        }
        int len = b.length();
        if (len > 0 && b.charAt(len - 1) == ' ') b.setLength(len - 1);
        return b.toString();
    }
}
