package dev.distill4j.eval;

import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.SampleKey;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.teacher.TeacherRequest;
import dev.distill4j.teacher.TeacherResponse;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pairwise LLM-as-judge: the teacher compares the student's answer with its own stored answer and names the better
 * one. The two answers are shown as "A" and "B" in an order drawn from {@code Random(seed)} per comparison (position
 * bias favours whichever comes first for many judges, so a fixed order would skew the result), and the verdict is
 * mapped back to win / tie / loss for the student.
 *
 * <p>The judge is asked for a JSON object, {@code {"winner": "A" | "B" | "tie", "reason": "..."}}, with the winner
 * first so that a reply cut by the token limit still names it. {@link #parse} reads that object (also inside a code
 * fence, after a reasoning block, or cut short); a reply that is not JSON goes through {@link #parseFreeText}, the
 * fallback for judges that ignore the format.
 */
public final class Judge {
    /** The fixed judge instruction; {question}, {a}, {b} are filled in. */
    public static final String PROMPT = """
            You are an impartial judge. Compare two answers to the same question and decide which one answers it \
            better (correct, helpful, complete, concise). Ignore which answer comes first and ignore length unless it \
            matters.

            [Question]
            {question}

            [Answer A]
            {a}

            [Answer B]
            {b}

            Reply with one JSON object and nothing else: {"winner": "A", "reason": "..."} if answer A is better, \
            {"winner": "B", "reason": "..."} if answer B is better, {"winner": "tie", "reason": "..."} if they are \
            equally good. Put "winner" first; the reason is one short sentence.""";

    /** The student's result in one comparison. */
    public enum Verdict { WIN, TIE, LOSS, INVALID }

    /**
     * One comparison: what the judge said and how it maps to the student.
     *
     * @param reason the judge's one-sentence reason from its JSON verdict, or null
     */
    public record Outcome(Verdict verdict, boolean studentFirst, String raw, String reason) {}

    /** The judge's choice in one reply: "A", "B" or "TIE", with its reason when the reply was JSON. */
    public record Choice(String winner, String reason) {}


    private final Teacher teacher;
    private final Random random;
    private final Backoff backoff;

    public Judge(Teacher teacher, long seed) {
        this(teacher, seed, new Backoff(4, seed));
    }

    Judge(Teacher teacher, long seed, Backoff backoff) {
        this.teacher = teacher;
        this.random = new Random(seed);
        this.backoff = backoff;
    }

    /** The judge's text for one question, with the answers in the given order. */
    public static String render(String question, String a, String b) {
        return PROMPT.replace("{question}", question).replace("{a}", a).replace("{b}", b);
    }

    /**
     * Asks the judge about one prompt. Retryable failures (429, 5xx, timeouts) are retried with the harvest's
     * backoff; a comparison that still fails, or whose reply names no verdict, is {@link Verdict#INVALID}.
     */
    public Outcome compare(String question, String studentAnswer, String teacherAnswer) throws TeacherException {
        boolean studentFirst = random.nextBoolean();
        String text = studentFirst ? render(question, studentAnswer, teacherAnswer)
                : render(question, teacherAnswer, studentAnswer);
        Prompt prompt = new Prompt("judge-" + SampleKey.sha256Hex(text).substring(0, 16), text, null, null, null, 0);
        TeacherResponse response = null;
        for (int attempt = 1; ; attempt++) {
            try {
                response = teacher.complete(new TeacherRequest(prompt, 0, prompt.id()));
                break;
            } catch (TeacherException e) {
                if (e.kind().fatal()) throw e;
                if (!e.kind().retryable() || !backoff.canRetry(attempt)) {
                    return new Outcome(Verdict.INVALID, studentFirst, "error: " + e.getMessage(), null);
                }
                try {
                    Thread.sleep(backoff.delay(attempt, e.retryAfter()).toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return new Outcome(Verdict.INVALID, studentFirst, "interrupted", null);
                }
            }
        }
        String raw = response.text() == null ? "" : response.text();
        Choice choice = parse(raw);
        Verdict v = switch (choice == null ? "" : choice.winner()) {
            case "TIE" -> Verdict.TIE;
            case "A" -> studentFirst ? Verdict.WIN : Verdict.LOSS;
            case "B" -> studentFirst ? Verdict.LOSS : Verdict.WIN;
            default -> Verdict.INVALID;
        };
        return new Outcome(v, studentFirst, raw, choice == null ? null : choice.reason());
    }

    private static final Pattern THINK = Pattern.compile("(?s)<think>.*?</think>");
    /** The "winner" field of a JSON verdict; matched on the text so a reply cut after it still counts. */
    private static final Pattern WINNER = Pattern.compile("\"(?i:winner)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern REASON = Pattern.compile("\"(?i:reason)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    /**
     * The verdict of a reply: its JSON object's {@code winner} ("A", "B" or "tie"; "Answer A", case and a draw/equal
     * synonym are accepted), else {@link #parseFreeText}; null when neither names one.
     */
    public static Choice parse(String reply) {
        String s = THINK.matcher(reply).replaceAll(" ");
        Matcher w = WINNER.matcher(s);
        if (w.find()) {
            String winner = normalise(unescape(w.group(1)));
            if (winner == null) return null;          // a JSON verdict naming something else is not guessed at
            Matcher r = REASON.matcher(s);
            return new Choice(winner, r.find() ? unescape(r.group(1)) : null);
        }
        String free = parseFreeText(s);
        return free == null ? null : new Choice(free, null);
    }

    private static String normalise(String winner) {
        String v = winner.strip().toUpperCase(Locale.ROOT).replaceAll("^(ANSWER|RESPONSE|ASSISTANT)\\s+", "")
                .replaceAll("[^A-Z ]", "").strip();
        return switch (v) {
            case "A", "B" -> v;
            case "TIE", "TIED", "EQUAL", "DRAW", "BOTH", "NEITHER" -> "TIE";
            default -> null;
        };
    }

    private static String unescape(String jsonStringBody) {
        try {
            return Json.MAPPER.readValue("\"" + jsonStringBody + "\"", String.class);
        } catch (java.io.IOException e) {
            return jsonStringBody;
        }
    }

    /** MT-Bench's "[[A]]", "[[B]]", "[[C]]"/"[[TIE]]". */
    private static final Pattern BRACKETED = Pattern.compile("\\[\\[\\s*(A|B|C|(?i:tie))\\s*]]");
    /** A cue word then the letter: "I prefer B", "Winner: A", "the better answer is B", "Answer: A". */
    private static final Pattern CUED = Pattern.compile("(?i:prefer|choose|chose|pick|select|winner(?:\\s+is)?|verdict"
            + "(?:\\s+is)?|goes\\s+to|better(?:\\s+answer|\\s+one|\\s+response)?\\s+is|answer\\s*:)"
            + "[\\s:*\"'(\\[]*(?i:answer\\s+|response\\s+)?(A|B)\\b");
    /** The letter then a comparative: "B is better", "Answer A is slightly more complete", "B wins". */
    private static final Pattern COMPARED = Pattern.compile("\\b(A|B)\\b[\\s*\"')\\]]*(?i:(?:is|was|seems)\\s+(?:\\w+\\s+)?"
            + "(?:better|superior|stronger|preferable|more\\b)|wins\\b)");
    private static final Pattern TIE_WORD = Pattern.compile("(?i)\\b(tie|tied|equal|equally|draw)\\b");
    /** A capital A or B standing alone: a lowercase "a" is the article ("As a judge, ..."). */
    private static final Pattern LETTER = Pattern.compile("(?<![\\w'])(A|B)(?![\\w'])");

    /**
     * The fallback for replies that are not JSON: "A", "B", "TIE" or null. In order: MT-Bench's {@code [[A]]}; a cue
     * word before the letter ("I prefer B", "Winner: A"); the letter before a comparative ("B is better"); a reply
     * that is just the letter or "tie" (quotes, Markdown, "Answer: B" allowed); a tie word (tie, equal, draw); the one
     * capital letter A or B the reply names, when it names only one ("Both are fine but B ..."); and last, "both"
     * alone as a tie. Matching letters by case keeps the article "a" from reading as answer A.
     */
    public static String parseFreeText(String reply) {
        String s = THINK.matcher(reply).replaceAll(" ");
        Matcher m = BRACKETED.matcher(s);
        if (m.find()) {
            String x = m.group(1).toUpperCase(Locale.ROOT);
            return x.equals("C") ? "TIE" : x;
        }
        for (Pattern p : new Pattern[] {CUED, COMPARED}) {
            m = p.matcher(s);
            if (m.find()) return m.group(1);
        }
        String bare = s.toUpperCase(Locale.ROOT).replaceAll("\\b(FINAL|ANSWER|VERDICT|OUTPUT)\\b", " ")
                .replaceAll("[^A-Z]+", " ").strip();
        if (bare.equals("A") || bare.equals("B") || bare.equals("TIE")) return bare;
        if (TIE_WORD.matcher(s).find()) return "TIE";
        m = LETTER.matcher(s);
        String only = null;
        while (m.find()) {
            if (only != null && !only.equals(m.group(1))) return null;    // names both: no guess
            only = m.group(1);
        }
        if (only != null) return only;
        return Pattern.compile("(?i)\\bboth\\b").matcher(s).find() ? "TIE" : null;
    }
}
