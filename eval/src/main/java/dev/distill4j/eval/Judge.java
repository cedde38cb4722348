package dev.distill4j.eval;

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
 * mapped back to win / tie / loss for the student. The prompt asks for exactly one token: A, B or TIE.
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

            Reply with exactly one token: A if answer A is better, B if answer B is better, TIE if they are equally \
            good. No other text.""";

    /** The student's result in one comparison. */
    public enum Verdict { WIN, TIE, LOSS, INVALID }

    /** One comparison: what the judge said and how it maps to the student. */
    public record Outcome(Verdict verdict, boolean studentFirst, String raw) {}

    private static final Pattern TOKEN = Pattern.compile("\\b(TIE|A|B)\\b");

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
                    return new Outcome(Verdict.INVALID, studentFirst, "error: " + e.getMessage());
                }
                try {
                    Thread.sleep(backoff.delay(attempt, e.retryAfter()).toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return new Outcome(Verdict.INVALID, studentFirst, "interrupted");
                }
            }
        }
        String raw = response.text() == null ? "" : response.text();
        String choice = parse(raw);
        Verdict v = switch (choice == null ? "" : choice) {
            case "TIE" -> Verdict.TIE;
            case "A" -> studentFirst ? Verdict.WIN : Verdict.LOSS;
            case "B" -> studentFirst ? Verdict.LOSS : Verdict.WIN;
            default -> Verdict.INVALID;
        };
        return new Outcome(v, studentFirst, raw);
    }

    /**
     * The verdict named in a reply: "A", "B" or "TIE", or null. Tolerates what judges add around a one-token answer
     * (case, quotes, Markdown, "Answer: B", "[[A]]", "Tie.", a reasoning block before it): the reasoning
     * block is dropped, "answer"/"verdict" words are ignored, "equal"/"draw" count as a tie, and the first
     * standalone A, B or TIE wins.
     */
    public static String parse(String reply) {
        String s = reply.replaceAll("(?s)<think>.*?</think>", " ").toUpperCase(Locale.ROOT)
                .replaceAll("\\b(FINAL|ANSWER|VERDICT|OUTPUT|BETTER|IS|THE)\\b", " ")
                .replaceAll("[^A-Z]+", " ").strip();
        if (s.isEmpty()) return null;
        String first = s.split(" ")[0];
        if (first.equals("EQUAL") || first.equals("DRAW") || first.equals("TIED") || first.equals("BOTH")) return "TIE";
        Matcher m = TOKEN.matcher(s);
        return m.find() ? m.group(1) : null;
    }
}
