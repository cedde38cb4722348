package dev.distill4j.eval;

import java.math.BigDecimal;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Task accuracy against a reference answer ({@code metadata.answer} of a prompt). The rule:
 *
 * <ol>
 *   <li>The <b>answer segment</b> is the text after the last answer marker ({@code Answer:}, {@code Final answer:},
 *       case-insensitive, or GSM8K's {@code ####}) up to the end of that line; without a marker it is the whole text.
 *   <li>When the reference is a number (e.g. {@code 42}, {@code -3.5}, {@code 1,000}), the extracted answer is the
 *       <b>last number</b> in the segment (thousands separators dropped), and it is correct when it is numerically
 *       equal to the reference ({@code 42.0} equals {@code 42}).
 *   <li>Otherwise the extracted answer is the segment when there was a marker, else the last non-blank line; it
 *       loses surrounding spaces, quotes, asterisks (Markdown bold) and a final period, and is correct when it equals
 *       the reference after {@link ExactMatch#normalize}.
 * </ol>
 */
public final class AnswerExtractor {
    private static final Pattern MARKER = Pattern.compile("(?i)(?:final\\s+answer\\s*:|answer\\s*:|####)");
    private static final Pattern NUMBER = Pattern.compile("[-−]?\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?|[-−]?\\d+(?:\\.\\d+)?|[-−]?\\.\\d+");
    private static final String TRIM = " \t\"'`*.“”‘’";

    private AnswerExtractor() {}

    /** What was extracted and whether it is right. {@code extracted} is null when no answer was found. */
    public record Result(String extracted, boolean correct) {}

    public static Result grade(String text, String reference) {
        String extracted = extract(text, reference);
        if (extracted == null) return new Result(null, false);
        BigDecimal ref = number(reference.strip());
        boolean correct = ref != null
                ? ref.compareTo(new BigDecimal(extracted)) == 0
                : ExactMatch.normalize(extracted).equals(ExactMatch.normalize(trim(reference)));
        return new Result(extracted, correct);
    }

    /** The answer the rule extracts from {@code text} for a reference of {@code reference}'s kind, or null. */
    public static String extract(String text, String reference) {
        String segment = text;
        boolean marked = false;
        Matcher m = MARKER.matcher(text);
        int end = -1;
        while (m.find()) end = m.end();
        if (end >= 0) {
            int nl = text.indexOf('\n', end);
            segment = text.substring(end, nl < 0 ? text.length() : nl);
            marked = true;
        }
        if (number(reference.strip()) != null) {
            Matcher n = NUMBER.matcher(segment);
            String last = null;
            while (n.find()) last = n.group();
            return last == null ? null : last.replace(",", "").replace('−', '-');
        }
        String candidate = marked ? segment : lastLine(text);
        candidate = trim(candidate);
        return candidate.isEmpty() ? null : candidate;
    }

    /** The reference as a number, or null when it is not one. */
    static BigDecimal number(String s) {
        String t = s.replace('−', '-');
        if (!NUMBER.matcher(t).matches()) return null;
        return new BigDecimal(t.replace(",", ""));
    }

    private static String lastLine(String text) {
        String[] lines = text.split("\\R");
        for (int i = lines.length - 1; i >= 0; i--) if (!lines[i].isBlank()) return lines[i];
        return "";
    }

    private static String trim(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && TRIM.indexOf(s.charAt(a)) >= 0) a++;
        while (b > a && TRIM.indexOf(s.charAt(b - 1)) >= 0) b--;
        return s.substring(a, b);
    }
}
