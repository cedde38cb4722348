package dev.distill4j.demo;

import java.util.Locale;
import java.util.SplittableRandom;
import java.util.StringJoiner;

/**
 * Letter-level transformations of invented words given letter by letter ("k e s a d o"), so that every letter is a
 * token of its own and the task is reading, not spelling from memory: reversing, capitals, counting the letters
 * (numbered as they are read) and counting one letter (a running tally, so the count is read off the working rather
 * than guessed). Answers are letters separated by spaces, or a number.
 *
 * <pre>
 * Reverse the letters k e s a d o.
 * Step 1: Backwards: o d a s e k.
 * Answer: o d a s e k
 * </pre>
 */
final class Strings {
    private Strings() {}

    static Draft draw(SplittableRandom r) {
        String w = Words.word(r, r.nextInt(2, 4));
        String spaced = Words.spaced(w);
        return switch (r.nextInt(4)) {
            case 0 -> {
                String rev = Words.spaced(new StringBuilder(w).reverse().toString());
                yield Draft.of("Reverse the letters " + spaced + ".", rev, "Backwards: " + rev + ".");
            }
            case 1 -> {
                String up = Words.spaced(w.toUpperCase(Locale.ROOT));
                yield Draft.of("Write the letters " + spaced + " in capitals.", up, "In capitals: " + up + ".");
            }
            case 2 -> {
                StringJoiner numbered = new StringJoiner(", ");
                for (int i = 0; i < w.length(); i++) numbered.add((i + 1) + " " + w.charAt(i));
                yield Draft.of("How many letters are in " + spaced + "?", Integer.toString(w.length()),
                        "Numbering them: " + numbered + ".");
            }
            default -> countLetter(r, w, spaced);
        };
    }

    /** Mostly a letter of the word; now and then one it lacks, so "0" is a possible answer. */
    private static Draft countLetter(SplittableRandom r, String w, String spaced) {
        char c = r.nextInt(5) == 0 ? "abdegiklmnoprstuvz".charAt(r.nextInt(18)) : w.charAt(r.nextInt(w.length()));
        StringJoiner tally = new StringJoiner(", ");
        int count = 0;
        for (int i = 0; i < w.length(); i++) {
            if (w.charAt(i) == c) tally.add(w.charAt(i) + " " + ++count);
            else tally.add(w.charAt(i) + " -");
        }
        return Draft.of("How many times does " + c + " appear in " + spaced + "?", Integer.toString(count),
                "Counting " + c + ": " + tally + ".");
    }
}
