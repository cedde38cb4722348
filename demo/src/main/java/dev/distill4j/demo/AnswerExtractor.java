package dev.distill4j.demo;

import java.math.BigDecimal;
import java.util.Optional;

/**
 * Reads the answer out of a response: the text after the last {@code Answer:}, up to the end of its line. Answers
 * are compared after {@link #normalise}: surrounding space, quotes and a final full stop are dropped, inner space
 * is collapsed, and numbers compare by value ("3500.0" = "3500", "1,200" = "1200"). Case is kept, since "TAMO" and
 * "tamo" are different answers to "write 'tamo' in capitals".
 */
public final class AnswerExtractor {
    public static final String PREFIX = "Answer:";

    private AnswerExtractor() {}

    public static Optional<String> extract(String response) {
        if (response == null) return Optional.empty();
        int at = response.lastIndexOf(PREFIX);
        if (at < 0) return Optional.empty();
        int from = at + PREFIX.length();
        int end = response.indexOf('\n', from);
        String s = normalise(response.substring(from, end < 0 ? response.length() : end));
        return s.isEmpty() ? Optional.empty() : Optional.of(s);
    }

    public static String normalise(String answer) {
        String s = answer.strip().replaceAll("\\s+", " ");
        while (s.endsWith(".") && !s.isEmpty()) s = s.substring(0, s.length() - 1).strip();
        if (s.length() >= 2 && (s.charAt(0) == '\'' || s.charAt(0) == '"') && s.charAt(s.length() - 1) == s.charAt(0)) {
            s = s.substring(1, s.length() - 1).strip();
        }
        String digits = s.replace(",", "");
        if (digits.matches("[-+]?(\\d+(\\.\\d*)?|\\.\\d+)")) return Units.plain(new BigDecimal(digits));
        return s;
    }

    /** Whether the response's extracted answer equals {@code answer} after normalisation. */
    public static boolean isCorrect(String response, String answer) {
        return extract(response).map(a -> a.equals(normalise(answer))).orElse(false);
    }
}
