package dev.distill4j.guard.watermark;

import dev.distill4j.guard.stats.PValue;
import dev.distill4j.model.generate.TokenChooser;

/**
 * A text watermark: how generation picks a token (as the generator's {@link TokenChooser}) and how detection
 * scores it. Every scheme keys a PRF with the secret and the h tokens before the one being chosen (the window), so
 * the detector, given only the text and the key, recomputes what the generator saw.
 *
 * <p>Detection tests H0: "the text does not depend on the key". Under H0 the score of a token is a fresh draw from
 * a known distribution for every distinct PRF input ({@link #tuple}), so the sum over distinct inputs has an exact
 * null distribution and {@link #pValue} is exact. Scoring a repeated input twice would break that (the same draw
 * counted twice); the detector therefore scores each tuple once.
 */
public sealed interface Watermark extends TokenChooser permits Kgw, Gumbel, SynthId {

    WatermarkKey key();

    /** h, the number of preceding tokens that key the PRF. */
    int contextWidth();

    /** The score of {@code token} following {@code history[0, length)} (only the last h tokens matter). */
    double score(int[] history, int length, int token);

    /**
     * A 64-bit fingerprint of the PRF input that scoring {@code token} after {@code history[0, length)} uses: two
     * positions with the same fingerprint would reuse one random draw, so only the first is scored.
     */
    long tuple(int[] history, int length, int token);

    /**
     * A 64-bit fingerprint of the keyed list that scoring {@code token} after {@code history[0, length)} draws from:
     * the PRF seed without the token (LeftHash, Gumbel, SynthID: the h-token window; SelfHash: the anchor and the
     * min-hash token of window ∪ {token}). A watermarked token chosen under a seed says something about every
     * candidate's score under that seed (green tokens were favoured, red ones avoided), so a reader of that text
     * is no longer independent of the key there; the radioactivity audit uses this to skip such positions.
     */
    long seedTuple(int[] history, int length, int token);

    /** P(total ≥ observed) for the sum of {@code n} independent per-token scores under H0. */
    PValue pValue(double total, long n);

    /** The expected per-token score under H0 (γ for KGW, ½ per layer for SynthID, 1 for Gumbel). */
    double nullMean();

    /** What the mean score is, for reports: "green fraction", "mean g-value", "mean −ln(1−r)". */
    String scoreName();

    /** The scheme a key names, with the key's parameters. */
    static Watermark of(WatermarkKey key) {
        return switch (key.scheme()) {
            case KGW -> new Kgw(key);
            case GUMBEL -> new Gumbel(key);
            case SYNTHID -> new SynthId(key);
        };
    }

    /** Start of the window of a token at {@code length}: the last h tokens, fewer at the very start. */
    static int windowStart(int length, int h) { return Math.max(0, length - h); }
}
