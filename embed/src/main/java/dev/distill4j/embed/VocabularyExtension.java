package dev.distill4j.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Model2Vec's vocabulary step: words of the training corpus that are frequent but that the teacher's subword
 * vocabulary cuts into pieces ({@code configuration} → {@code con ##fi ##gur ##ation}) become whole tokens of the
 * student. A static student sums its tokens' rows, so a split word is the sum of its pieces' meanings in every
 * context ({@code ##ation} is one row for all -ation words); a row of its own lets the word mean what the teacher
 * makes of the whole word, and training can move it without moving every other word sharing a piece.
 *
 * <p>Words are the tokenizer's own pre-tokenised words (after its normaliser: lower case and accents stripped for
 * bge/MiniLM), counted over the corpus; a word qualifies when it occurs at least {@code minCount} times, is made
 * of letters only, is 3 to 40 characters long and the tokenizer splits it into at least two pieces. The most
 * frequent {@code maxWords} are appended to the WordPiece vocabulary of tokenizer.json after the existing ids.
 * WordPiece takes the longest vocabulary entry that prefixes a word, so a whole-word entry always wins over its
 * pieces; words not added tokenise exactly as before (tested).
 */
public final class VocabularyExtension {
    public static final int DEFAULT_MIN_COUNT = 5;
    public static final int DEFAULT_MAX_WORDS = 25_000;

    /** The extended tokenizer and the words it gained, at ids {@code firstId, firstId+1, …} in this order. */
    public record Result(byte[] tokenizerJson, int firstId, List<String> words, int[] counts) {
        public int added() { return words.size(); }
    }

    private VocabularyExtension() {}

    /** Extends {@code tokenizerJson} (a WordPiece tokenizer.json) with the frequent split words of {@code corpus}. */
    public static Result extend(byte[] tokenizerJson, List<String> corpus, int minCount, int maxWords) throws IOException {
        if (minCount < 1) throw new InvalidInputException("the minimum word count must be at least 1, got " + minCount);
        ObjectNode root = (ObjectNode) Json.MAPPER.readTree(tokenizerJson);
        JsonNode model = root.path("model");
        if (!"WordPiece".equals(model.path("type").asText()) || !model.path("vocab").isObject()) {
            throw new InvalidInputException("vocabulary extension needs a WordPiece tokenizer.json (BERT family); this one is "
                    + model.path("type").asText("unknown") + ": build the student without extending the vocabulary");
        }
        String prefix = model.path("continuing_subword_prefix").asText("##");
        Map<String, int[]> counts = new HashMap<>();
        try (HuggingFaceTokenizer tok = HfTokenizers.load(tokenizerJson, false, 0)) {
            for (String s : corpus) {
                Encoding e = tok.encode(s, false, false);
                String[] tokens = e.getTokens();
                long[] words = e.getWordIds();
                int i = 0;
                while (i < tokens.length) {
                    int j = i + 1;
                    while (j < tokens.length && words[j] == words[i]) j++;
                    if (j - i >= 2) {
                        StringBuilder w = new StringBuilder(tokens[i]);
                        for (int k = i + 1; k < j; k++) {
                            w.append(tokens[k].startsWith(prefix) ? tokens[k].substring(prefix.length()) : tokens[k]);
                        }
                        String word = w.toString();
                        if (qualifies(word)) counts.computeIfAbsent(word, x -> new int[1])[0]++;
                    }
                    i = j;
                }
            }
        }
        List<Map.Entry<String, int[]>> ranked = new ArrayList<>();
        for (var e : counts.entrySet()) if (e.getValue()[0] >= minCount) ranked.add(e);
        // by count, then alphabetically: the same corpus gives the same ids
        ranked.sort((a, b) -> a.getValue()[0] != b.getValue()[0] ? Integer.compare(b.getValue()[0], a.getValue()[0])
                : a.getKey().compareTo(b.getKey()));
        if (ranked.size() > maxWords) ranked = ranked.subList(0, maxWords);
        ObjectNode vocab = (ObjectNode) model.path("vocab");
        int firstId = HfTokenizers.vocabSize(root);
        List<String> words = new ArrayList<>();
        int[] c = new int[ranked.size()];
        for (var e : ranked) {
            if (vocab.has(e.getKey())) continue;   // cannot happen for a split word; kept for safety
            vocab.put(e.getKey(), firstId + words.size());
            c[words.size()] = e.getValue()[0];
            words.add(e.getKey());
        }
        return new Result(Json.MAPPER.writeValueAsBytes(root), firstId, List.copyOf(words), java.util.Arrays.copyOf(c, words.size()));
    }

    private static boolean qualifies(String w) {
        if (w.length() < 3 || w.length() > 40) return false;
        for (int i = 0; i < w.length(); i++) if (!Character.isLetter(w.charAt(i))) return false;
        return true;
    }
}
