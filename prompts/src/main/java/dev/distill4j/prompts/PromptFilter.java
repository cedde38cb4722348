package dev.distill4j.prompts;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The rule filters a candidate passes before any embedding is computed: length, refusals, leaked request wording,
 * and (for an evolved prompt) a rewrite that changed nothing. Self-Instruct and Evol-Instruct both filter this way
 * before their similarity check; the patterns here are the failure modes their papers list.
 *
 * @param minChars shortest prompt kept
 * @param maxChars longest prompt kept
 */
public record PromptFilter(int minChars, int maxChars) {
    public PromptFilter {
        if (minChars < 1 || maxChars < minChars) {
            throw new IllegalArgumentException("need 1 <= min chars <= max chars, got " + minChars + ", " + maxChars);
        }
    }

    private static final Pattern REFUSAL = Pattern.compile(
            "^(?:i'?m sorry|i am sorry|sorry,|i cannot|i can't|i can not|as an ai|i'm unable|i am unable|"
                    + "unfortunately, i)", Pattern.CASE_INSENSITIVE);

    private static final List<String> META = List.of("#rewritten prompt#", "#given prompt#", "#created prompt#",
            "given prompt", "rewritten prompt", "new prompt:", "example 1:", "example 2:", "example 3:",
            "here are", "numbered list");

    /** Rejection of {@code text} by the rules, or empty if it passes; {@code parent} is the evolved-from prompt. */
    public Optional<Rejection> check(String text, String parent) {
        if (text.length() < minChars) return Optional.of(Rejection.TOO_SHORT);
        if (text.length() > maxChars) return Optional.of(Rejection.TOO_LONG);
        if (REFUSAL.matcher(text).find()) return Optional.of(Rejection.REFUSAL);
        String lower = text.toLowerCase(Locale.ROOT);
        for (String m : META) if (lower.contains(m)) return Optional.of(Rejection.META_TEXT);
        if (parent != null && MetaPrompts.normalize(text).equals(MetaPrompts.normalize(parent))) {
            return Optional.of(Rejection.UNCHANGED);
        }
        return Optional.empty();
    }
}
