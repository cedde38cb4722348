package dev.distill4j.model.generate;

import java.util.List;

/**
 * One sequence's decoded text as it grows, cut into deltas that are safe to show: whole characters only, and
 * nothing that may still become part of a stop string. Works on the decoded text of all tokens so far rather than
 * on token bytes, so the deltas concatenate to exactly what the tokenizer decodes (SentencePiece's dropped leading
 * space, byte fallback) — decoding a sequence extends the decoding of its prefix for byte-level BPE and
 * SentencePiece tokenizers, which is what makes the emitted prefix final.
 */
final class TextStream {
    /** What the tokenizer decodes for bytes that are not (yet) a whole character. */
    private static final char REPLACEMENT = '\uFFFD';

    private final List<String> stops;
    private int emitted;

    TextStream(List<String> stops) { this.stops = stops; }

    /** Index of the earliest stop string in {@code text}, or -1. */
    int stopAt(String text) {
        int cut = -1;
        // a stop string cannot begin inside emitted text: its beginning would have been held back
        int from = emitted;
        for (String stop : stops) {
            int at = text.indexOf(stop, from);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        return cut;
    }

    /** The new safe part of {@code text} (the decoded text so far) while the sequence goes on. */
    String partial(String text) {
        int safe = text.length();
        while (safe > emitted && text.charAt(safe - 1) == REPLACEMENT) safe--;   // an unfinished character
        safe -= heldForStops(text, safe);
        if (safe > 0 && safe < text.length() && Character.isHighSurrogate(text.charAt(safe - 1))) safe--;
        return take(text, safe);
    }

    /** The rest of the sequence's final text. */
    String last(String finalText) { return take(finalText, finalText.length()); }

    private String take(String text, int upTo) {
        if (upTo <= emitted) return "";
        String delta = text.substring(emitted, upTo);
        emitted = upTo;
        return delta;
    }

    /** Length of the longest suffix of {@code text[0, end)} that is a proper prefix of a stop string. */
    private int heldForStops(String text, int end) {
        int held = 0;
        for (String stop : stops) {
            for (int len = Math.min(stop.length() - 1, end - emitted); len > held; len--) {
                if (text.regionMatches(end - len, stop, 0, len)) {
                    held = len;
                    break;
                }
            }
        }
        return held;
    }
}
