package dev.distill4j.model.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a byte-level BPE tokenizer (GPT-2's scheme) and writes it in Hugging Face's format, so DJL, Python
 * {@code tokenizers} and {@code transformers} load it.
 *
 * <p>Pipeline, which the written tokenizer.json reproduces at encode time:
 * <ol>
 *   <li>special tokens are cut out of the text (they are added tokens, never learned);</li>
 *   <li>the rest is split into pre-tokens by {@link #SPLIT_REGEX}: GPT-2's pattern, except that every digit is a
 *       pre-token of its own (with an optional leading space), so numbers are spelled digit by digit and a small
 *       model can learn arithmetic on them;</li>
 *   <li>each pre-token's UTF-8 bytes become GPT-2 alphabet characters ({@link ByteLevel}); ids 0..255 are the 256
 *       bytes (id = byte value), so every text encodes without an unknown token;</li>
 *   <li>merges are learned greedily: the most frequent adjacent pair (summed over pre-token counts) becomes a new
 *       token, until the vocabulary reaches its size or no pair occurs {@code minFrequency} times.</li>
 * </ol>
 * Pair counts are kept and updated incrementally: a merge touches only the pre-tokens that hold its pair (an index
 * from pair to pre-tokens), and a priority queue with lazy invalidation yields the next best pair. Ties between
 * equally frequent pairs go to the smaller (left id, right id), so the same texts always give the same merges and
 * the same bytes on disk.
 */
public final class BpeTrainer {
    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";
    public static final List<String> CHATML_SPECIAL_TOKENS = List.of(END_OF_TEXT, IM_START, IM_END);

    /** ChatML, as Qwen and SmolLM2 use it, without a default system turn. */
    public static final String CHATML_TEMPLATE = "{% for message in messages %}{{'<|im_start|>' + message['role']"
            + " + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\n' }}{% endif %}";

    /**
     * Pre-tokenization: contractions, letters with one optional leading space, single digits with one optional
     * leading space, other symbols, whitespace (a run of spaces leaves its last one to the next word). Written in
     * the syntax both java.util.regex (with UNICODE_CHARACTER_CLASS) and Oniguruma read the same way.
     */
    public static final String SPLIT_REGEX =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)| ?\\p{L}+| ?\\p{N}| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final Pattern SPLIT = Pattern.compile(SPLIT_REGEX, Pattern.UNICODE_CHARACTER_CLASS);
    private static final int BYTES = 256;

    private final int vocabSize;
    private final int minFrequency;
    private final List<String> specialTokens;
    private final String bosToken;
    private final String eosToken;
    private final String padToken;
    private final String chatTemplate;
    private final int modelMaxLength;

    private BpeTrainer(Builder b) {
        this.vocabSize = b.vocabSize;
        this.minFrequency = b.minFrequency;
        this.specialTokens = b.specialTokens;
        this.bosToken = b.bosToken;
        this.eosToken = b.eosToken;
        this.padToken = b.padToken;
        this.chatTemplate = b.chatTemplate;
        this.modelMaxLength = b.modelMaxLength;
    }

    public static Builder builder() { return new Builder(); }

    /** Splits text into pre-tokens exactly as the written tokenizer.json's {@code Split} step does. */
    public static List<String> preTokenize(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = SPLIT.matcher(text);
        while (m.find()) out.add(m.group());
        return out;
    }

    public Result train(Iterable<String> texts) { return train(texts.iterator()); }

    public Result train(Iterator<String> texts) {
        Map<String, long[]> counts = new HashMap<>();
        while (texts.hasNext()) {
            String text = texts.next();
            for (String piece : withoutSpecialTokens(text)) {
                Matcher m = SPLIT.matcher(piece);
                while (m.find()) counts.computeIfAbsent(m.group(), k -> new long[1])[0]++;
            }
        }
        // sorted so that word indices, and everything that iterates them, do not depend on hash order
        List<String> words = new ArrayList<>(counts.keySet());
        words.sort(Comparator.naturalOrder());
        return new Merger(words, counts).run();
    }

    /** The text between special tokens: those are matched as added tokens before pre-tokenization. */
    private List<String> withoutSpecialTokens(String text) {
        List<String> pieces = new ArrayList<>();
        // next occurrence of each special token at or after `from`, searched again only once passed, so one long
        // text with a rare special token is not rescanned for it at every cut
        int[] next = new int[specialTokens.size()];
        Arrays.fill(next, -2);
        int from = 0;
        while (from < text.length()) {
            int which = -1;
            for (int k = 0; k < next.length; k++) {
                if (next[k] != -1 && next[k] < from) next[k] = text.indexOf(specialTokens.get(k), from);
                if (next[k] >= 0 && (which < 0 || next[k] < next[which] || (next[k] == next[which]
                        && specialTokens.get(k).length() > specialTokens.get(which).length()))) {
                    which = k;
                }
            }
            if (which < 0) {
                pieces.add(text.substring(from));
                break;
            }
            if (next[which] > from) pieces.add(text.substring(from, next[which]));
            from = next[which] + specialTokens.get(which).length();
        }
        return pieces;
    }

    /** Greedy merging over counted pre-tokens, with incremental pair counts. */
    private final class Merger {
        private final int[][] symbols;
        private final int[] lengths;
        private final long[] wordCounts;
        private final Map<Long, Long> pairCounts = new HashMap<>();
        private final Map<Long, Set<Integer>> pairWords = new HashMap<>();
        private final PriorityQueue<long[]> queue = new PriorityQueue<>(
                // {count, left, right}: most frequent first, then the smaller pair of ids
                (x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0])
                        : x[1] != y[1] ? Long.compare(x[1], y[1]) : Long.compare(x[2], y[2]));
        private final List<String> tokens = new ArrayList<>();
        private final Map<String, Integer> ids = new HashMap<>();
        private final List<int[]> merges = new ArrayList<>();
        private final Set<Long> mergedPairs = new HashSet<>();

        Merger(List<String> words, Map<String, long[]> counts) {
            symbols = new int[words.size()][];
            lengths = new int[words.size()];
            wordCounts = new long[words.size()];
            for (int w = 0; w < words.size(); w++) {
                byte[] bytes = words.get(w).getBytes(StandardCharsets.UTF_8);
                symbols[w] = new int[bytes.length];
                for (int i = 0; i < bytes.length; i++) symbols[w][i] = bytes[i] & 0xFF;
                lengths[w] = bytes.length;
                wordCounts[w] = counts.get(words.get(w))[0];
            }
            for (int b = 0; b < BYTES; b++) {
                String t = String.valueOf(ByteLevel.charOf(b));
                tokens.add(t);
                ids.put(t, b);
            }
        }

        Result run() {
            for (int w = 0; w < symbols.length; w++) {
                for (int i = 0; i + 1 < lengths[w]; i++) {
                    long pair = pair(symbols[w][i], symbols[w][i + 1]);
                    pairCounts.merge(pair, wordCounts[w], Long::sum);
                    pairWords.computeIfAbsent(pair, k -> new HashSet<>()).add(w);
                }
            }
            pairCounts.forEach((pair, count) -> queue.add(new long[] {count, left(pair), right(pair)}));

            int learned = vocabSize - specialTokens.size();
            while (tokens.size() < learned && !queue.isEmpty()) {
                long[] top = queue.poll();
                long pair = pair((int) top[1], (int) top[2]);
                if (pairCounts.getOrDefault(pair, 0L) != top[0]) continue; // stale: a fresher entry is queued
                if (top[0] < minFrequency) break;
                merge((int) top[1], (int) top[2]);
            }
            List<String> merged = new ArrayList<>(merges.size());
            for (int[] m : merges) merged.add(tokens.get(m[0]) + " " + tokens.get(m[1]));
            return new Result(List.copyOf(tokens), List.copyOf(merged));
        }

        private void merge(int a, int b) {
            String text = tokens.get(a) + tokens.get(b);
            // two merge paths can spell the same string ("ab"+"c", "a"+"bc"); like HF, they share one id
            Integer existing = ids.get(text);
            int c = existing != null ? existing : tokens.size();
            if (existing == null) {
                tokens.add(text);
                ids.put(text, c);
            }
            long ab = pair(a, b);
            // a pair can come back when a shared id reappears; the encoder applies it at its first rank anyway
            if (mergedPairs.add(ab)) merges.add(new int[] {a, b});
            Map<Long, Long> delta = new HashMap<>();
            Set<Integer> where = pairWords.remove(ab);
            List<Integer> sorted = new ArrayList<>(where);
            sorted.sort(null);
            for (int w : sorted) {
                int[] s = symbols[w];
                long n = wordCounts[w];
                int len = lengths[w];
                int i = 0;
                while (i + 1 < len) {
                    if (s[i] != a || s[i + 1] != b) {
                        i++;
                        continue;
                    }
                    if (i > 0) {
                        delta.merge(pair(s[i - 1], a), -n, Long::sum);
                        delta.merge(pair(s[i - 1], c), n, Long::sum);
                        pairWords.computeIfAbsent(pair(s[i - 1], c), k -> new HashSet<>()).add(w);
                    }
                    if (i + 2 < len) {
                        delta.merge(pair(b, s[i + 2]), -n, Long::sum);
                        delta.merge(pair(c, s[i + 2]), n, Long::sum);
                        pairWords.computeIfAbsent(pair(c, s[i + 2]), k -> new HashSet<>()).add(w);
                    }
                    s[i] = c;
                    System.arraycopy(s, i + 2, s, i + 1, len - i - 2);
                    len--;
                    i++;
                }
                lengths[w] = len;
            }
            pairCounts.remove(ab);
            delta.remove(ab); // overlapping runs ("aaa") count the merged pair itself as a neighbour
            List<Long> changed = new ArrayList<>(delta.keySet());
            changed.sort(null);
            for (long p : changed) {
                long d = delta.get(p);
                if (d == 0) continue;
                long now = pairCounts.getOrDefault(p, 0L) + d;
                if (now <= 0) {
                    pairCounts.remove(p);
                    pairWords.remove(p);
                } else {
                    pairCounts.put(p, now);
                    queue.add(new long[] {now, left(p), right(p)});
                }
            }
        }
    }

    private static long pair(int a, int b) { return ((long) a << 32) | (b & 0xFFFFFFFFL); }

    private static int left(long pair) { return (int) (pair >>> 32); }

    private static int right(long pair) { return (int) pair; }

    /**
     * A trained vocabulary: {@code tokens} in id order (the 256 bytes, then merged tokens), {@code merges} in rank
     * order as "left right" token strings; the special tokens follow the tokens as added tokens.
     */
    public final class Result {
        private final List<String> tokens;
        private final List<String> merges;

        private Result(List<String> tokens, List<String> merges) {
            this.tokens = tokens;
            this.merges = merges;
        }

        public List<String> tokens() { return tokens; }

        public List<String> merges() { return merges; }

        public List<String> specialTokens() { return specialTokens; }

        /** Learned tokens plus special tokens. */
        public int vocabSize() { return tokens.size() + specialTokens.size(); }

        public int idOf(String specialToken) {
            int i = specialTokens.indexOf(specialToken);
            if (i < 0) throw new IllegalArgumentException(specialToken + " is not a special token of this vocabulary");
            return tokens.size() + i;
        }

        /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into {@code dir}; returns it. */
        public Path write(Path dir) throws IOException {
            AtomicFiles.writeString(dir.resolve("tokenizer.json"), Json.writePretty(tokenizerJson()) + "\n");
            AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), Json.writePretty(tokenizerConfig()) + "\n");
            AtomicFiles.writeString(dir.resolve("special_tokens_map.json"), Json.writePretty(specialTokensMap()) + "\n");
            return dir;
        }

        public ObjectNode tokenizerJson() {
            ObjectNode root = Json.object();
            root.put("version", "1.0");
            root.putNull("truncation");
            root.putNull("padding");
            ArrayNode added = root.putArray("added_tokens");
            for (String s : specialTokens) {
                ObjectNode t = added.addObject();
                t.put("id", idOf(s));
                t.put("content", s);
                t.put("single_word", false);
                t.put("lstrip", false);
                t.put("rstrip", false);
                t.put("normalized", false);
                t.put("special", true);
            }
            root.putNull("normalizer");
            // Llama 3's layout: a regex Split, then ByteLevel without its own (GPT-2) regex
            ObjectNode pre = root.putObject("pre_tokenizer");
            pre.put("type", "Sequence");
            ArrayNode steps = pre.putArray("pretokenizers");
            ObjectNode split = steps.addObject();
            split.put("type", "Split");
            split.putObject("pattern").put("Regex", SPLIT_REGEX);
            split.put("behavior", "Isolated");
            split.put("invert", false);
            steps.add(byteLevel(false));
            root.set("post_processor", byteLevel(false));
            root.set("decoder", byteLevel(true));
            ObjectNode model = root.putObject("model");
            model.put("type", "BPE");
            model.putNull("dropout");
            model.putNull("unk_token");
            model.putNull("continuing_subword_prefix");
            model.putNull("end_of_word_suffix");
            model.put("fuse_unk", false);
            model.put("byte_fallback", false);
            ObjectNode vocab = model.putObject("vocab");
            for (int id = 0; id < tokens.size(); id++) vocab.put(tokens.get(id), id);
            ArrayNode m = model.putArray("merges");
            merges.forEach(m::add);
            return root;
        }

        private static ObjectNode byteLevel(boolean useRegex) {
            ObjectNode n = Json.object();
            n.put("type", "ByteLevel");
            n.put("add_prefix_space", false);
            n.put("trim_offsets", false);
            n.put("use_regex", useRegex);
            return n;
        }

        public ObjectNode tokenizerConfig() {
            ObjectNode c = Json.object();
            c.put("add_bos_token", false);
            c.put("add_eos_token", false);
            ObjectNode dec = c.putObject("added_tokens_decoder");
            for (String s : specialTokens) {
                ObjectNode t = dec.putObject(Integer.toString(idOf(s)));
                t.put("content", s);
                t.put("lstrip", false);
                t.put("normalized", false);
                t.put("rstrip", false);
                t.put("single_word", false);
                t.put("special", true);
            }
            ArrayNode extra = c.putArray("additional_special_tokens");
            for (String s : specialTokens) if (!s.equals(bosToken) && !s.equals(padToken)) extra.add(s);
            putOrNull(c, "bos_token", bosToken);
            if (chatTemplate != null) c.put("chat_template", chatTemplate);
            c.put("clean_up_tokenization_spaces", false);
            putOrNull(c, "eos_token", eosToken);
            c.put("model_max_length", modelMaxLength);
            putOrNull(c, "pad_token", padToken);
            c.put("tokenizer_class", "PreTrainedTokenizerFast");
            c.putNull("unk_token");
            return c;
        }

        public ObjectNode specialTokensMap() {
            ObjectNode map = Json.object();
            ArrayNode extra = map.putArray("additional_special_tokens");
            for (String s : specialTokens) if (!s.equals(bosToken) && !s.equals(padToken)) extra.add(s);
            if (bosToken != null) map.put("bos_token", bosToken);
            if (eosToken != null) map.put("eos_token", eosToken);
            if (padToken != null) map.put("pad_token", padToken);
            return map;
        }

        private static void putOrNull(ObjectNode n, String field, String value) {
            if (value == null) n.putNull(field);
            else n.put(field, value);
        }
    }

    /** Defaults: 1024 tokens, pairs seen at least twice, ChatML special tokens and template, 2048 context. */
    public static final class Builder {
        private int vocabSize = 1024;
        private int minFrequency = 2;
        private List<String> specialTokens = CHATML_SPECIAL_TOKENS;
        private String bosToken = END_OF_TEXT;
        private String eosToken = IM_END;
        private String padToken = END_OF_TEXT;
        private String chatTemplate = CHATML_TEMPLATE;
        private int modelMaxLength = 2048;

        private Builder() {}

        /** Target size including the special tokens; at least 256 + the special tokens. */
        public Builder optVocabSize(int vocabSize) {
            this.vocabSize = vocabSize;
            return this;
        }

        public Builder optMinFrequency(int minFrequency) {
            this.minFrequency = minFrequency;
            return this;
        }

        /** Special tokens, in id order after the learned tokens; bos/eos/pad must be among them (or null). */
        public Builder optSpecialTokens(List<String> specialTokens) {
            this.specialTokens = List.copyOf(specialTokens);
            return this;
        }

        public Builder optBosToken(String bosToken) {
            this.bosToken = bosToken;
            return this;
        }

        public Builder optEosToken(String eosToken) {
            this.eosToken = eosToken;
            return this;
        }

        public Builder optPadToken(String padToken) {
            this.padToken = padToken;
            return this;
        }

        /** A Jinja chat template for tokenizer_config.json, or null for a base tokenizer. */
        public Builder optChatTemplate(String chatTemplate) {
            this.chatTemplate = chatTemplate;
            return this;
        }

        public Builder optModelMaxLength(int modelMaxLength) {
            this.modelMaxLength = modelMaxLength;
            return this;
        }

        public BpeTrainer build() {
            if (vocabSize < BYTES + specialTokens.size()) {
                throw new InvalidInputException("vocabulary size " + vocabSize + " is too small: a byte-level "
                        + "BPE needs at least " + (BYTES + specialTokens.size()) + " (256 bytes + "
                        + specialTokens.size() + " special tokens)");
            }
            if (minFrequency < 1) throw new InvalidInputException("minimum pair frequency must be at least 1");
            if (modelMaxLength < 1) throw new InvalidInputException("model_max_length must be positive");
            if (new HashSet<>(specialTokens).size() != specialTokens.size()) {
                throw new InvalidInputException("special tokens repeat: " + specialTokens);
            }
            for (String s : Arrays.asList(bosToken, eosToken, padToken)) {
                if (s != null && !specialTokens.contains(s)) {
                    throw new InvalidInputException(s + " is used as bos/eos/pad but is not among the special "
                            + "tokens " + specialTokens);
                }
            }
            for (String s : specialTokens) Objects.requireNonNull(s, "special token");
            return new BpeTrainer(this);
        }
    }
}
