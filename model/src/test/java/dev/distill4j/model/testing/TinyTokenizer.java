package dev.distill4j.model.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.model.tokenizer.ByteLevel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a small but real byte-level BPE tokenizer in Hugging Face's format: ids 0..255 are the 256 bytes (id =
 * byte value, in GPT-2's byte-to-character alphabet), then tokens built by a few dozen merges of common English
 * and ChatML words, then the special tokens {@code <|endoftext|>}, {@code <|im_start|>}, {@code <|im_end|>}. The
 * tokenizer_config.json carries a ChatML chat template. DJL's HuggingFaceTokenizer, Python {@code tokenizers} and
 * {@code transformers.AutoTokenizer} all load the folder.
 *
 * <p>A copy lives in {@code src/test/resources/tiny-tokenizer/}; regenerate it with
 * {@code java ... TinyTokenizer model/src/test/resources/tiny-tokenizer} (a test checks they agree).
 */
public final class TinyTokenizer {
    /** Whole words the merges build, each from its bytes, left to right. "Ġ" is a space, "Ċ" a newline. */
    private static final List<String> WORDS = List.of(
            "Ġthe", "Ġand", "Ġto", "Ġof", "Ġa", "Ġis", "Ġin", "Ġit", "Ġyou", "Ġthat", "Ġthis", "Ġwhat", "Ġhow",
            "Ġare", "Ġcan", "Ġhelp", "Ġme", "Ġwith", "ĠI", "Ġhello", "Ġworld", "Hello", "Ġanswer", "Ġquestion",
            "ing", "er", "ed", "ly", "ĊĊ", "user", "assistant", "system", "You", "Ġhelpful", "Ġmodel", "Ġtoken");

    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";

    public static final String CHAT_TEMPLATE = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'"
            + " + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\n' }}{% endif %}";

    /** Vocabulary size including the special tokens. */
    public static final int VOCAB_SIZE;
    private static final Map<String, Integer> VOCAB = new LinkedHashMap<>();
    private static final List<String> MERGES = new ArrayList<>();

    static {
        for (int b = 0; b < 256; b++) VOCAB.put(String.valueOf(ByteLevel.charOf(b)), b);
        for (String word : WORDS) {
            String left = word.substring(0, 1);
            for (int i = 1; i < word.length(); i++) {
                String right = word.substring(i, i + 1);
                String merged = left + right;
                if (!VOCAB.containsKey(merged)) {
                    VOCAB.put(merged, VOCAB.size());
                    MERGES.add(left + " " + right);
                }
                left = merged;
            }
        }
        VOCAB_SIZE = VOCAB.size() + 3;
    }

    private TinyTokenizer() {}

    public static int endOfTextId() { return VOCAB_SIZE - 3; }

    public static int imStartId() { return VOCAB_SIZE - 2; }

    public static int imEndId() { return VOCAB_SIZE - 1; }

    /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into {@code dir}; returns it. */
    public static Path write(Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve("tokenizer.json"), Json.writePretty(tokenizerJson()) + "\n");
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), Json.writePretty(tokenizerConfig()) + "\n");
        ObjectNode map = Json.object();
        map.put("eos_token", IM_END);
        map.put("pad_token", END_OF_TEXT);
        map.putArray("additional_special_tokens").add(IM_START).add(IM_END);
        AtomicFiles.writeString(dir.resolve("special_tokens_map.json"), Json.writePretty(map) + "\n");
        return dir;
    }

    private static ObjectNode tokenizerJson() {
        ObjectNode root = Json.object();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : List.of(END_OF_TEXT, IM_START, IM_END)) {
            ObjectNode t = added.addObject();
            t.put("id", VOCAB.size() + added.size() - 1);
            t.put("content", s);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(false));
        root.set("post_processor", byteLevel(false));
        root.set("decoder", byteLevel(false));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        VOCAB.forEach(vocab::put);
        ArrayNode merges = model.putArray("merges");
        MERGES.forEach(merges::add);
        return root;
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace) {
        ObjectNode n = Json.object();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", false);
        n.put("use_regex", true);
        return n;
    }

    private static ObjectNode tokenizerConfig() {
        ObjectNode c = Json.object();
        c.put("add_bos_token", false);
        c.put("add_eos_token", false);
        ObjectNode dec = c.putObject("added_tokens_decoder");
        int id = VOCAB.size();
        for (String s : List.of(END_OF_TEXT, IM_START, IM_END)) {
            ObjectNode t = dec.putObject(Integer.toString(id++));
            t.put("content", s);
            t.put("lstrip", false);
            t.put("normalized", false);
            t.put("rstrip", false);
            t.put("single_word", false);
            t.put("special", true);
        }
        c.putArray("additional_special_tokens").add(IM_START).add(IM_END);
        c.putNull("bos_token");
        c.put("chat_template", CHAT_TEMPLATE);
        c.put("clean_up_tokenization_spaces", false);
        c.put("eos_token", IM_END);
        c.put("model_max_length", 2048);
        c.put("pad_token", END_OF_TEXT);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        c.putNull("unk_token");
        return c;
    }

    public static void main(String[] args) throws IOException {
        write(Path.of(args.length > 0 ? args[0] : "model/src/test/resources/tiny-tokenizer"));
    }
}
