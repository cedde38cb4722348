package dev.distill4j.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * A Hugging Face fast tokenizer ({@code tokenizer.json}) run by DJL's binding of the Rust {@code tokenizers}
 * library, with the vocabulary read here so token strings and token bytes are known for every id.
 *
 * <p>Token bytes depend on the vocabulary's style, detected from tokenizer.json: {@link Style#BYTE_LEVEL}
 * (GPT-2 alphabet: Llama 3, Qwen, SmolLM2) undoes the byte-to-character map; {@link Style#SENTENCEPIECE}
 * (Llama 2, TinyLlama, Mistral v0.1) turns {@code ▁} into a space and {@code <0xNN>} into that byte. Added tokens
 * that are not special stand for their literal text; special tokens contribute no bytes.
 */
public final class HfTokenizer implements TextTokenizer {
    public enum Style { BYTE_LEVEL, SENTENCEPIECE, PLAIN }

    private static final char SP_SPACE = '\u2581';

    static {
        // The tokenizers native library ships in the DJL jar; offline mode keeps DJL from fetching anything or
        // calling home (its EC2 usage ping) when a user has not set DJL_OFFLINE. An explicit setting wins.
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    private final Path dir;
    private final HuggingFaceTokenizer hf;
    private final Style style;
    private final boolean addsPrefixSpace;
    private final String[] tokens;
    private final byte[][] bytes;
    private final Map<String, Integer> ids;
    private final BitSet special;
    private final SpecialTokens specialTokens;

    private HfTokenizer(Path dir, HuggingFaceTokenizer hf, Style style, boolean addsPrefixSpace, String[] tokens,
                        byte[][] bytes, Map<String, Integer> ids, BitSet special, SpecialTokens specialTokens) {
        this.dir = dir;
        this.hf = hf;
        this.style = style;
        this.addsPrefixSpace = addsPrefixSpace;
        this.tokens = tokens;
        this.bytes = bytes;
        this.ids = ids;
        this.special = special;
        this.specialTokens = specialTokens;
    }

    /** Loads {@code tokenizer.json} (and tokenizer_config.json's special tokens) from a model folder, offline. */
    public static HfTokenizer load(Path dir) throws IOException {
        Path file = Files.isDirectory(dir) ? dir.resolve("tokenizer.json") : dir;
        Path folder = file.toAbsolutePath().getParent();
        if (!Files.isRegularFile(file)) {
            throw new IOException("no tokenizer.json in " + dir + " (only fast tokenizers are supported: save one "
                    + "with AutoTokenizer.from_pretrained(...).save_pretrained(dir))");
        }
        JsonNode root = SpecialTokens.readJson(file);
        JsonNode model = root.path("model");
        Map<String, Integer> ids = new HashMap<>();
        JsonNode vocab = model.get("vocab");
        if (vocab != null && vocab.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                ids.put(e.getKey(), e.getValue().asInt());
            }
        } else if (vocab != null && vocab.isArray()) {
            // Unigram: [[piece, score], ...], the id is the position
            for (int i = 0; i < vocab.size(); i++) ids.put(vocab.get(i).get(0).asText(), i);
        } else {
            throw new IOException(file + ": model.vocab is missing: not a tokenizer.json?");
        }
        BitSet special = new BitSet();
        Map<Integer, String> added = new HashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt();
            String content = t.path("content").asText();
            added.put(id, content);
            ids.put(content, id);
            if (t.path("special").asBoolean(false)) special.set(id);
        }
        int size = 0;
        for (int id : ids.values()) size = Math.max(size, id + 1);
        String[] tokens = new String[size];
        ids.forEach((t, id) -> tokens[id] = t);
        added.forEach((id, t) -> tokens[id] = t);

        Style style = detectStyle(root);
        byte[][] bytes = new byte[size][];
        for (int id = 0; id < size; id++) {
            String t = tokens[id];
            if (t == null || special.get(id)) bytes[id] = new byte[0];
            else if (added.containsKey(id)) bytes[id] = t.getBytes(StandardCharsets.UTF_8);
            else bytes[id] = tokenBytes(t, style);
        }
        boolean prefix = addsPrefixSpace(root, style);

        // DJL's defaults truncate to 512 tokens and pad; we want neither, and special tokens only when asked
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(file, options);
        } catch (RuntimeException e) {
            throw new IOException(file + ": the tokenizers library cannot load it: " + e.getMessage(), e);
        }
        return new HfTokenizer(folder, hf, style, prefix, tokens, bytes, Map.copyOf(ids), special,
                SpecialTokens.read(folder));
    }

    static Style detectStyle(JsonNode root) {
        if (hasType(root.get("pre_tokenizer"), "ByteLevel") || hasType(root.get("decoder"), "ByteLevel")) {
            return Style.BYTE_LEVEL;
        }
        if (hasType(root.get("pre_tokenizer"), "Metaspace") || hasType(root.get("decoder"), "Metaspace")
                || hasType(root.get("decoder"), "ByteFallback") || root.path("model").path("byte_fallback").asBoolean()
                || root.path("model").path("type").asText().equals("Unigram")) {
            return Style.SENTENCEPIECE;
        }
        return Style.PLAIN;
    }

    /** Whether a pipeline component of {@code type} occurs in a (possibly nested Sequence) node. */
    private static boolean hasType(JsonNode n, String type) {
        if (n == null || n.isNull()) return false;
        if (type.equals(n.path("type").asText())) return true;
        for (String list : new String[] {"pretokenizers", "decoders", "normalizers", "processors"}) {
            for (JsonNode c : n.path(list)) if (hasType(c, type)) return true;
        }
        return false;
    }

    private static boolean addsPrefixSpace(JsonNode root, Style style) {
        String text = root.path("normalizer").toString() + root.path("pre_tokenizer");
        if (style == Style.SENTENCEPIECE) {
            // Llama-2: normalizer Prepend("▁"); newer: Metaspace with prepend_scheme first/always
            return text.contains("\"Prepend\"") || (text.contains("\"Metaspace\"")
                    && !text.contains("\"prepend_scheme\":\"never\"") && !text.contains("\"add_prefix_space\":false"));
        }
        return style == Style.BYTE_LEVEL && text.contains("\"add_prefix_space\":true");
    }

    static byte[] tokenBytes(String token, Style style) {
        return switch (style) {
            case BYTE_LEVEL -> ByteLevel.decode(token);
            case SENTENCEPIECE -> {
                if (token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
                    try {
                        yield new byte[] {(byte) Integer.parseInt(token.substring(3, 5), 16)};
                    } catch (NumberFormatException e) {
                        // an ordinary piece that happens to look like a byte token
                    }
                }
                yield token.replace(SP_SPACE, ' ').getBytes(StandardCharsets.UTF_8);
            }
            case PLAIN -> token.getBytes(StandardCharsets.UTF_8);
        };
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] l = hf.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) out[i] = (int) l[i];
        return out;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return hf.decode(Arrays.stream(ids).asLongStream().toArray(), skipSpecialTokens);
    }

    @Override
    public String tokenString(int id) {
        check(id);
        return tokens[id];
    }

    /**
     * The bytes this token stands for, independent of its neighbours. SentencePiece decoding also drops the one
     * space the normalizer put at the start of the text ({@link #addsPrefixSpace()}); that is a property of the
     * sequence, not of the token, so callers aligning a whole sequence drop one leading space themselves.
     */
    @Override
    public byte[] tokenBytes(int id) {
        check(id);
        return bytes[id].clone();
    }

    @Override
    public int tokenId(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    @Override
    public int vocabSize() { return tokens.length; }

    @Override
    public boolean isSpecial(int id) {
        check(id);
        return special.get(id);
    }

    private void check(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IndexOutOfBoundsException("token id " + id + " is outside the vocabulary (size " + tokens.length + ")");
        }
    }

    public Style style() { return style; }

    /** Whether encoding puts a space before the text (SentencePiece's "▁" prefix, or ByteLevel add_prefix_space). */
    public boolean addsPrefixSpace() { return addsPrefixSpace; }

    public SpecialTokens specialTokens() { return specialTokens; }

    /** The id of a named special token (e.g. {@code specialTokens().eosToken()}), or -1 when absent. */
    public int idOf(String token) { return token == null ? -1 : tokenId(token); }

    /** The folder the tokenizer was loaded from. */
    public Path dir() { return dir; }

    @Override
    public void close() {
        hf.close();
    }
}
