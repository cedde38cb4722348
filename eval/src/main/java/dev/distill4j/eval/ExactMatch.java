package dev.distill4j.eval;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Exact match after normalisation: leading and trailing whitespace removed, every run of whitespace collapsed to
 * one space (Unicode White_Space: no-break, ideographic and other spaces too), then case-folded (upper- then lower-casing in the root locale, so "ß" and "SS" fold alike, as Python's
 * {@code str.casefold} does for the common cases).
 */
public final class ExactMatch {
    private static final Pattern WHITESPACE = Pattern.compile("(?U)\\s+");

    private ExactMatch() {}

    public static String normalize(String s) {
        String collapsed = WHITESPACE.matcher(s).replaceAll(" ").strip();
        return collapsed.toUpperCase(Locale.ROOT).toLowerCase(Locale.ROOT);
    }

    public static boolean matches(String hypothesis, String reference) {
        return normalize(hypothesis).equals(normalize(reference));
    }
}
