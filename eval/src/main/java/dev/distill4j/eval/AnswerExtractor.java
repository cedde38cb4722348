package dev.distill4j.eval;

import java.math.BigDecimal;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Task accuracy against a reference answer ({@code metadata.answer} of a prompt), by one strict rule that the demo
 * and {@code distill eval} share:
 *
 * <ol>
 *   <li>The <b>answer</b> is the text after the last answer marker ({@code Answer:} or {@code Final answer:}, the
 *       marker matched in any case, or GSM8K's {@code ####}) up to the end of that line. A response without a
 *       marker has no answer and is wrong: nothing falls back to "the last number anywhere", which would credit
 *       a response that merely mentions the right number on its way to a wrong one.
 *   <li>Both sides are {@link #normalise normalised}: inner whitespace collapsed, surrounding space, quotes,
 *       back-ticks and asterisks (Markdown bold) dropped, and trailing full stops dropped.
 *   <li>When both are numbers ({@code 42}, {@code -3.5}, {@code 1,200}) they are compared by value ({@code 42.0} =
 *       {@code 42}); {@code 42 apples} is not a number. Everything else must be equal as written: <b>case is
 *       kept</b>, since {@code tamo} is a wrong answer to "write 'tamo' in capital letters", and a date is text
 *       ({@code 2035-03-16}).
 * </ol>
 */
public final class AnswerExtractor {
    /** The marker the demo's responses and most prompt formats use: {@code Answer: <answer>} on the last line. */
    public static final String PREFIX = "Answer:";

    private static final Pattern MARKER = Pattern.compile("(?i)(?:final\\s+answer\\s*:|answer\\s*:|####)");
    private static final Pattern NUMBER =
            Pattern.compile("[-+]?(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?|[-+]?\\.\\d+");
    private static final String TRIM = " \t\"'`*“”‘’";

    private AnswerExtractor() {}

    /** What was extracted and whether it is right. {@code extracted} is null when the response has no answer. */
    public record Result(String extracted, boolean correct) {}

    public static Result grade(String response, String reference) {
        Optional<String> answer = extract(response);
        if (answer.isEmpty()) return new Result(null, false);
        return new Result(answer.get(), same(answer.get(), normalise(reference)));
    }

    /** Whether the response's answer equals {@code reference} under the rule above. */
    public static boolean isCorrect(String response, String reference) {
        return grade(response, reference).correct();
    }

    /** The normalised answer after the last marker, or empty when there is no marker or nothing after it. */
    public static Optional<String> extract(String response) {
        if (response == null) return Optional.empty();
        Matcher m = MARKER.matcher(response);
        int end = -1;
        while (m.find()) end = m.end();
        if (end < 0) return Optional.empty();
        int nl = response.indexOf('\n', end);
        String answer = normalise(response.substring(end, nl < 0 ? response.length() : nl));
        return answer.isEmpty() ? Optional.empty() : Optional.of(answer);
    }

    /** Whitespace collapsed; surrounding space, quotes, back-ticks, asterisks and trailing full stops dropped. */
    public static String normalise(String answer) {
        String s = answer.replace('−', '-').replaceAll("\\s+", " ");
        int a = 0;
        int b = s.length();
        while (true) {
            while (a < b && TRIM.indexOf(s.charAt(a)) >= 0) a++;
            int before = b;
            while (b > a && (TRIM.indexOf(s.charAt(b - 1)) >= 0 || s.charAt(b - 1) == '.')) b--;
            if (b == before) break;
        }
        return s.substring(a, b);
    }

    private static boolean same(String answer, String reference) {
        BigDecimal x = number(answer);
        BigDecimal y = number(reference);
        if (x != null && y != null) return x.compareTo(y) == 0;
        return answer.equals(reference);
    }

    /** The text as a number, or null when it is not exactly one. */
    static BigDecimal number(String s) {
        if (!NUMBER.matcher(s).matches()) return null;
        return new BigDecimal(s.replace(",", ""));
    }
}
