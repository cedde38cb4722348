package dev.distill4j.embed;

import com.fasterxml.jackson.databind.JsonNode;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BERT's tokenizer in plain Java, for the texts where it provably gives Hugging Face tokenizers' ids: a static
 * student spends almost all its time tokenising, and through DJL's binding one sentence of real text costs about
 * 85 µs (a JNI call per field of the encoding, the tokens as Java strings), which held the student under 100× its
 * teacher's speed. The pipeline is the one a {@code tokenizer.json} with a {@code BertNormalizer}, a
 * {@code BertPreTokenizer} and a {@code WordPiece} model describes, step for step as tokenizers (Rust) runs it:
 *
 * <ol>
 *   <li>clean: drop NUL, U+FFFD and every "other" character (Cc, Cf, Cn, Co) but tab, newline and carriage return;
 *       every white-space character becomes a space;</li>
 *   <li>strip accents (when asked; by default when lowercasing): NFD, then drop the nonspacing marks (Mn);</li>
 *   <li>lowercase, character by character;</li>
 *   <li>split on white space (dropped) and around every punctuation character (ASCII punctuation, or a Unicode P*
 *       category), each kept as a word of its own;</li>
 *   <li>WordPiece: per word, the longest vocabulary entry from the start, then the longest {@code ##}-continuation
 *       from where it ended, and so on; a word longer than {@code max_input_chars_per_word} characters, or with a
 *       rest no entry matches, is one {@code [UNK]}.</li>
 * </ol>
 *
 * Character properties come from the JDK's Unicode tables, tokenizers' from older ones, so the two agree only where
 * Unicode has not changed: {@link #encode} takes texts whose characters are all below U+0500 (Latin, Greek,
 * Cyrillic) or in a few symbol blocks unchanged since Unicode 9, and none of the added tokens ({@code [CLS]} and
 * the like, which tokenizers matches in the raw text); any other text returns null and goes to the reference
 * tokenizer. Special tokens are never added (a static student sums word vectors). Checked id for id against
 * DJL's tokenizers on crafted and real text (WordPieceTokenizerTest, docs/embed.md).
 */
public final class WordPieceTokenizer {
    private final Map<String, Integer> vocab;
    private final int unk;
    private final String prefix;
    private final int maxWordChars;
    private final boolean clean, stripAccents, lowercase;
    private final List<String> addedTokens;

    private WordPieceTokenizer(Map<String, Integer> vocab, int unk, String prefix, int maxWordChars, boolean clean,
                               boolean stripAccents, boolean lowercase, List<String> addedTokens) {
        this.vocab = vocab;
        this.unk = unk;
        this.prefix = prefix;
        this.maxWordChars = maxWordChars;
        this.clean = clean;
        this.stripAccents = stripAccents;
        this.lowercase = lowercase;
        this.addedTokens = addedTokens;
    }

    /**
     * The tokenizer a parsed {@code tokenizer.json} describes, or null when it is not BERT's pipeline (another
     * normalizer or pre-tokenizer, another model, added tokens matched after normalisation): those texts all go to
     * the reference tokenizer.
     */
    public static WordPieceTokenizer of(JsonNode json) {
        JsonNode normalizer = json.path("normalizer"), model = json.path("model");
        if (!"BertNormalizer".equals(normalizer.path("type").asText())
                || !"BertPreTokenizer".equals(json.path("pre_tokenizer").path("type").asText())
                || !"WordPiece".equals(model.path("type").asText()) || !model.path("vocab").isObject()) {
            return null;
        }
        Map<String, Integer> vocab = new HashMap<>();
        model.path("vocab").properties().forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        Integer unk = vocab.get(model.path("unk_token").asText("[UNK]"));
        if (unk == null) return null;
        List<String> added = new ArrayList<>();
        for (JsonNode t : json.path("added_tokens")) {
            if (t.path("normalized").asBoolean(true)) return null;
            added.add(t.path("content").asText());
        }
        boolean lowercase = normalizer.path("lowercase").asBoolean(true);
        JsonNode strip = normalizer.path("strip_accents");
        return new WordPieceTokenizer(vocab, unk, model.path("continuing_subword_prefix").asText("##"),
                model.path("max_input_chars_per_word").asInt(100), normalizer.path("clean_text").asBoolean(true),
                strip.isBoolean() ? strip.asBoolean() : lowercase, lowercase, added);
        // handle_chinese_chars needs no flag: a text with a CJK ideograph is never taken (covered() is false)
    }

    /** The token ids of {@code text} without special tokens, or null when the reference tokenizer must do it. */
    public long[] encode(String text) {
        if (!covered(text)) return null;
        for (String t : addedTokens) if (text.contains(t)) return null;
        String normalised = normalise(text);
        Ids ids = new Ids(normalised.length() / 4 + 4);
        int start = -1;   // the current word's first character, or −1 between words
        for (int i = 0; i <= normalised.length(); i++) {
            char c = i < normalised.length() ? normalised.charAt(i) : ' ';
            boolean space = isWhitespace(c), punct = !space && isPunctuation(c);
            if (space || punct) {
                if (start >= 0) wordPiece(normalised, start, i, ids);
                start = -1;
                if (punct) wordPiece(normalised, i, i + 1, ids);
            } else if (start < 0) {
                start = i;
            }
        }
        return Arrays.copyOf(ids.values, ids.size);
    }

    /** Steps 1–3: cleaning, accents, lowercase. */
    private String normalise(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (clean) {
                if (c == 0 || c == 0xFFFD || (isOther(c) && c != '\t' && c != '\n' && c != '\r')) continue;
                if (isWhitespace(c)) c = ' ';
            }
            if (stripAccents && c >= 0xC0) {
                String d = Normalizer.normalize(String.valueOf(c), Normalizer.Form.NFD);
                for (int k = 0; k < d.length(); k++) {
                    char m = d.charAt(k);
                    if (Character.getType(m) != Character.NON_SPACING_MARK) append(b, m);
                }
            } else {
                append(b, c);
            }
        }
        return b.toString();
    }

    private void append(StringBuilder b, char c) {
        if (!lowercase) b.append(c);
        else if (c == 'İ') b.append("i\u0307");   // the one letter here whose lowercase is two characters
        else b.append(Character.toLowerCase(c));
    }

    /** Step 5 on {@code s[from, to)}: greedy longest match from the left, or one [UNK]. */
    private void wordPiece(String s, int from, int to, Ids ids) {
        if (to - from > maxWordChars) {
            ids.add(unk);
            return;
        }
        int mark = ids.size;
        for (int start = from; start < to; ) {
            Integer id = null;
            int end = to;
            for (; end > start; end--) {
                String piece = s.substring(start, end);
                id = vocab.get(start > from ? prefix + piece : piece);
                if (id != null) break;
            }
            if (id == null) {
                ids.size = mark;
                ids.add(unk);
                return;
            }
            ids.add(id);
            start = end;
        }
    }

    /** A growing array of token ids: encode is a static student's hot path, and boxed Longs cost an object each. */
    private static final class Ids {
        long[] values;
        int size;

        Ids(int capacity) { values = new long[capacity]; }

        void add(long id) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2 + 4);
            values[size++] = id;
        }
    }

    /**
     * Whether every character of {@code text} lies where the JDK's and tokenizers' Unicode tables agree: below
     * U+0500, general punctuation, currency signs to U+20BE, letterlike symbols, arrows and mathematical operators,
     * box drawing and geometric shapes, and U+FFFD. CJK ideographs (split apart by the normaliser), emoji and surrogates are not.
     */
    static boolean covered(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x0500 || (c >= 0x2000 && c <= 0x206F) || (c >= 0x20A0 && c <= 0x20BE)
                    || (c >= 0x2100 && c <= 0x214F) || (c >= 0x2190 && c <= 0x22FF) || (c >= 0x2500 && c <= 0x25FF)
                    || c == 0xFFFD) {
                continue;
            }
            return false;
        }
        return true;
    }

    /** Unicode's White_Space property (Rust's {@code char::is_whitespace}), which Java's isWhitespace is not. */
    static boolean isWhitespace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    /** Categories Cc, Cf, Cn, Co (and Cs): tokenizers' {@code is_other}. */
    private static boolean isOther(char c) {
        int t = Character.getType(c);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.UNASSIGNED
                || t == Character.PRIVATE_USE || t == Character.SURROGATE;
    }

    /** ASCII punctuation (which counts $ + < = > ^ ` | ~ too) or a Unicode punctuation category (P*). */
    static boolean isPunctuation(char c) {
        if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
        int t = Character.getType(c);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION
                || t == Character.START_PUNCTUATION || t == Character.END_PUNCTUATION
                || t == Character.INITIAL_QUOTE_PUNCTUATION || t == Character.FINAL_QUOTE_PUNCTUATION
                || t == Character.OTHER_PUNCTUATION;
    }
}
