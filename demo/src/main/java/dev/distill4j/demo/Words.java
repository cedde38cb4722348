package dev.distill4j.demo;

import java.util.SplittableRandom;

/**
 * Invented words from consonant-vowel syllables: the corpus contains no text taken from anywhere, and a small
 * tokenizer cannot have learned these words as whole tokens, so string tasks really exercise letters.
 */
final class Words {
    private static final String CONSONANTS = "bdfgklmnprstvz";
    private static final String VOWELS = "aeiou";

    private Words() {}

    /** A lower-case word of {@code syllables} syllables, each consonant + vowel, sometimes closed by a consonant. */
    static String word(SplittableRandom r, int syllables) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < syllables; i++) {
            sb.append(CONSONANTS.charAt(r.nextInt(CONSONANTS.length())));
            sb.append(VOWELS.charAt(r.nextInt(VOWELS.length())));
            if (r.nextInt(4) == 0) sb.append(CONSONANTS.charAt(r.nextInt(CONSONANTS.length())));
        }
        return sb.toString();
    }

    /** The same word with an upper-case first letter: a name. */
    static String name(SplittableRandom r, int syllables) {
        String w = word(r, syllables);
        return Character.toUpperCase(w.charAt(0)) + w.substring(1);
    }

    /** "t a m o" */
    static String spaced(String word) {
        return String.join(" ", word.split(""));
    }
}
