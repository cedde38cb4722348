package dev.distill4j.teacher.stub;

import java.util.ArrayList;
import java.util.List;

/**
 * The stubs' deterministic "model": it echoes the prompt's words, one word per token, for a fixed number of tokens,
 * stopping early at {@code max_tokens} (finish "length") or a stop sequence (finish "stop"). Each position's chosen
 * token has probability 0.5–0.8; its alternatives {@code <alt1>}, {@code <alt2>}, ... share less than the rest, so
 * the tail mass is always at least 0.05.
 *
 * @param tokens       the generated tokens (concatenated they make {@code text}, unless a stop sequence cut one)
 * @param text         the answer
 * @param finish       stop or length
 * @param stopSequence the stop sequence that ended the answer, or null
 */
public record StubAnswer(List<String> tokens, String text, String finish, String stopSequence) {
    public static StubAnswer generate(String promptText, int answerTokens, int maxTokens, List<String> stop) {
        String[] words = promptText == null ? new String[0] : promptText.strip().split("\\s+");
        if (words.length == 0 || words[0].isEmpty()) words = new String[] {"ok"};
        int n = Math.min(answerTokens, maxTokens);
        String finish = maxTokens < answerTokens ? "length" : "stop";
        List<String> tokens = new ArrayList<>(n);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String t = (i == 0 ? "" : " ") + words[i % words.length];
            tokens.add(t);
            text.append(t);
        }
        String full = text.toString();
        int cut = -1;
        String hit = null;
        for (String s : stop == null ? List.<String>of() : stop) {
            int at = s.isEmpty() ? -1 : full.indexOf(s);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
                hit = s;
            }
        }
        if (cut < 0) return new StubAnswer(tokens, full, finish, null);
        List<String> kept = new ArrayList<>();
        int end = 0;
        for (String t : tokens) {
            if (end + t.length() > cut) break;
            kept.add(t);
            end += t.length();
        }
        return new StubAnswer(kept, full.substring(0, cut), "stop", hit);
    }

    /**
     * A given answer text, split into tokens at whitespace boundaries (each token keeps the whitespace before it),
     * cut at {@code maxTokens} (finish "length") or at a stop sequence.
     */
    public static StubAnswer of(String text, int maxTokens, List<String> stop) {
        List<String> all = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s*\\S+").matcher(text);
        while (m.find()) all.add(m.group());
        if (all.isEmpty()) all.add(text.isEmpty() ? "ok" : text);
        List<String> tokens = all.size() > maxTokens ? all.subList(0, maxTokens) : all;
        String full = String.join("", tokens);
        String finish = all.size() > maxTokens ? "length" : "stop";
        for (String s : stop == null ? List.<String>of() : stop) {
            int at = s.isEmpty() ? -1 : full.indexOf(s);
            if (at >= 0) return new StubAnswer(tokens, full.substring(0, at), "stop", s);
        }
        return new StubAnswer(List.copyOf(tokens), full, finish, null);
    }

    /** Logprob of the chosen token at position {@code i}. */
    public static double chosenLogprob(int i) {
        return Math.log(chosenProbability(i));
    }

    private static double chosenProbability(int i) {
        return 0.5 + 0.1 * (i % 4);
    }

    /** Alternative {@code j ≥ 1} at position {@code i}: its token and logprob. */
    public static String alternativeToken(int i, int j) {
        return (i == 0 ? "" : " ") + "<alt" + j + ">";
    }

    public static double alternativeLogprob(int i, int j) {
        return Math.log((1 - chosenProbability(i) - 0.05) / Math.pow(2, j));
    }

    /** A rough prompt-token count: words plus a few per message, as chat framing costs. */
    public static long promptTokens(List<String> contents) {
        long n = 3;
        for (String c : contents) n += 4 + (c.isBlank() ? 0 : c.strip().split("\\s+").length);
        return n;
    }
}
