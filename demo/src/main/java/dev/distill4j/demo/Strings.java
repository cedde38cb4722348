package dev.distill4j.demo;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.StringJoiner;

/** Letter-level transformations of invented words, spelled out letter by letter before the answer. */
final class Strings {
    private Strings() {}

    static Draft draw(SplittableRandom r) {
        String w = Words.word(r, r.nextInt(2, 4));
        String letters = "The letters are " + Words.spaced(w) + ".";
        return switch (r.nextInt(5)) {
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
                char[] cs = w.toCharArray();
                Arrays.sort(cs);
                String sorted = new String(cs);
                yield Draft.of("Sort the letters of '" + w + "' alphabetically.", sorted, letters,
                        "In order: " + Words.spaced(sorted) + ".");
            }
            case 3 -> Draft.of("How many letters are in '" + w + "'?", Integer.toString(w.length()), letters,
                    "Counting them gives " + w.length() + ".");
            default -> countLetter(r, w, letters);
        };
    }

    /** Mostly a letter of the word; now and then one it lacks, so "0" is a possible answer. */
    private static Draft countLetter(SplittableRandom r, String w, String letters) {
        char c = r.nextInt(5) == 0 ? "abdegiklmnoprstuvz".charAt(r.nextInt(18)) : w.charAt(r.nextInt(w.length()));
        StringJoiner positions = new StringJoiner(", ");
        int count = 0;
        for (int i = 0; i < w.length(); i++) {
            if (w.charAt(i) == c) {
                positions.add(Integer.toString(i + 1));
                count++;
            }
        }
        String second = count == 0 ? "'" + c + "' does not appear."
                : "'" + c + "' is at position" + (count > 1 ? "s " : " ") + positions + ".";
        return Draft.of("How many times does the letter '" + c + "' appear in '" + w + "'?", Integer.toString(count),
                letters, second);
    }
}
