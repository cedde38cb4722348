package dev.distill4j.demo;

import java.util.Locale;
import java.util.SplittableRandom;
import java.util.StringJoiner;

/**
 * Letter-level transformations of invented words, spelled out letter by letter before the answer: reversing,
 * capitals, counting the letters (numbered as they are spelled) and counting one letter (a running tally, so the
 * count is read off the working rather than guessed).
 */
final class Strings {
    private Strings() {}

    static Draft draw(SplittableRandom r) {
        String w = Words.word(r, r.nextInt(2, 4));
        String letters = "The letters are " + Words.spaced(w) + ".";
        return switch (r.nextInt(4)) {
            case 0 -> {
                String rev = new StringBuilder(w).reverse().toString();
                yield Draft.of("Reverse the word '" + w + "'.", rev, letters,
                        "Backwards: " + Words.spaced(rev) + ".");
            }
            case 1 -> {
                String up = w.toUpperCase(Locale.ROOT);
                yield Draft.of("Write '" + w + "' in capital letters.", up, letters,
                        "In capitals: " + Words.spaced(up) + ".");
            }
            case 2 -> {
                StringJoiner numbered = new StringJoiner(", ");
                for (int i = 0; i < w.length(); i++) numbered.add((i + 1) + " " + w.charAt(i));
                yield Draft.of("How many letters are in '" + w + "'?", Integer.toString(w.length()),
                        "Numbering the letters: " + numbered + ".");
            }
            default -> countLetter(r, w, letters);
        };
    }

    /** Mostly a letter of the word; now and then one it lacks, so "0" is a possible answer. */
    private static Draft countLetter(SplittableRandom r, String w, String letters) {
        char c = r.nextInt(5) == 0 ? "abdegiklmnoprstuvz".charAt(r.nextInt(18)) : w.charAt(r.nextInt(w.length()));
        StringJoiner tally = new StringJoiner(", ");
        int count = 0;
        for (int i = 0; i < w.length(); i++) {
            if (w.charAt(i) == c) tally.add(w.charAt(i) + " " + ++count);
            else tally.add(w.charAt(i) + " -");
        }
        return Draft.of("How many times does the letter '" + c + "' appear in '" + w + "'?", Integer.toString(count),
                letters, "Counting '" + c + "': " + tally + ".");
    }
}
