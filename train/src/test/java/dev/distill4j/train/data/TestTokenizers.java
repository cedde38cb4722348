package dev.distill4j.train.data;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.tokenizer.ByteLevel;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Tokenizers for the tests: the model module's tiny byte-level BPE (copied into this module's test resources), and
 * a writer for other small byte-level BPEs built the same way from a list of words (ids 0..255 are the bytes, then
 * one token per merge, then {@code <|endoftext|>}, {@code <|im_start|>}, {@code <|im_end|>}), with a ChatML
 * template or none.
 */
final class TestTokenizers {
    static final String CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'"
            + " + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\n' }}{% endif %}";

    private TestTokenizers() {}

    /** The tiny tokenizer folder (vocab 356, ChatML template). */
    static Path tinyDir() {
        try {
            return Path.of(TestTokenizers.class.getResource("/tiny-tokenizer").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static HfTokenizer tiny() throws IOException {
        return HfTokenizer.load(tinyDir());
    }

    /**
     * Writes a byte-level BPE whose merges build {@code words} ("Ġ" = space) left to right, into {@code dir}.
     * {@code chatTemplate} null writes a base model's tokenizer (no template).
     */
    static Path writeBpe(Path dir, List<String> words, String chatTemplate) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        List<String> merges = new ArrayList<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(ByteLevel.charOf(b)), b);
        for (String word : words) {
            String left = word.substring(0, 1);
            for (int i = 1; i < word.length(); i++) {
                String merged = left + word.charAt(i);
                if (!vocab.containsKey(merged)) {
                    vocab.put(merged, vocab.size());
                    merges.add(left + " " + word.charAt(i));
                }
                left = merged;
            }
        }
        List<String> specials = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
        ObjectNode root = Json.object();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        ObjectNode cfg = Json.object();
        ObjectNode decoder = cfg.putObject("added_tokens_decoder");
        for (String s : specials) {
            int id = vocab.size() + added.size();
            ObjectNode t = added.addObject();
            t.put("id", id).put("content", s).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", true);
            decoder.putObject(Integer.toString(id)).put("content", s).put("special", true);
        }
        ObjectNode model = byteLevelBpe(root, false);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode m = model.putArray("merges");
        merges.forEach(m::add);
        AtomicFiles.writeString(dir.resolve("tokenizer.json"), Json.writePretty(root));
        cfg.put("eos_token", "<|im_end|>").put("pad_token", "<|endoftext|>").putNull("bos_token");
        if (chatTemplate != null) cfg.put("chat_template", chatTemplate);
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), Json.writePretty(cfg));
        return dir;
    }

    /**
     * Writes a SentencePiece-style BPE in Llama 2's tokenizer.json layout (normalizer prepends "▁" and turns spaces
     * into "▁", byte fallback {@code <0xNN>}, {@code <unk> <s> </s>} at ids 0..2), whose merges build {@code words}
     * ("▁" = space) from their characters.
     */
    static Path writeSentencePiece(Path dir, List<String> words, String chatTemplate) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : List.of("<unk>", "<s>", "</s>")) vocab.put(s, vocab.size());
        for (int b = 0; b < 256; b++) vocab.put(String.format("<0x%02X>", b), vocab.size());
        for (String word : words) for (char c : word.toCharArray()) vocab.putIfAbsent(String.valueOf(c), vocab.size());
        List<String> merges = new ArrayList<>();
        for (String word : words) {
            String left = word.substring(0, 1);
            for (int i = 1; i < word.length(); i++) {
                String merged = left + word.charAt(i);
                if (!vocab.containsKey(merged)) {
                    vocab.put(merged, vocab.size());
                    merges.add(left + " " + word.charAt(i));
                }
                left = merged;
            }
        }
        ObjectNode root = Json.object();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : List.of("<unk>", "<s>", "</s>")) {
            added.addObject().put("id", vocab.get(s)).put("content", s).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        ObjectNode norm = root.putObject("normalizer");
        norm.put("type", "Sequence");
        ArrayNode ns = norm.putArray("normalizers");
        ns.addObject().put("type", "Prepend").put("prepend", "\u2581");
        ObjectNode replace = ns.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", "\u2581");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "Sequence");
        ArrayNode ds = dec.putArray("decoders");
        ObjectNode rep = ds.addObject().put("type", "Replace");
        rep.putObject("pattern").put("String", "\u2581");
        rep.put("content", " ");
        ds.addObject().put("type", "ByteFallback");
        ds.addObject().put("type", "Fuse");
        ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true).put("byte_fallback", true);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode m = model.putArray("merges");
        merges.forEach(m::add);
        AtomicFiles.writeString(dir.resolve("tokenizer.json"), Json.writePretty(root));
        ObjectNode cfg = Json.object();
        cfg.put("bos_token", "<s>").put("eos_token", "</s>").put("unk_token", "<unk>").put("add_bos_token", true);
        if (chatTemplate != null) cfg.put("chat_template", chatTemplate);
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), Json.writePretty(cfg));
        return dir;
    }

    /**
     * The byte-level BPE pipeline of a {@code tokenizer.json} (GPT-2's: no normalizer, ByteLevel pre-tokenizer,
     * post-processor and decoder) set on {@code root}; returns its {@code model} object, type BPE with no unknown
     * token, for the caller's vocab and merges.
     */
    static ObjectNode byteLevelBpe(ObjectNode root, boolean trimOffsets) {
        root.putNull("normalizer");
        for (String part : List.of("pre_tokenizer", "post_processor", "decoder")) {
            root.putObject(part).put("type", "ByteLevel").put("add_prefix_space", false)
                    .put("trim_offsets", trimOffsets).put("use_regex", true);
        }
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false);
        return model;
    }

    /**
     * A teacher's distribution for {@code ids} of {@code teacher}: chosen token at logprob −0.3 and, as the
     * alternatives, the chosen token plus {@code others.apply(position)} (token strings of the teacher's
     * vocabulary) at −2, −3, ...
     */
    static TokenDistribution distribution(HfTokenizer teacher, int[] ids, IntFunction<List<String>> others) {
        List<TokenPosition> out = new ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            TokenLogprob chosen = logprob(teacher, ids[i], -0.3f);
            List<TokenLogprob> alts = new ArrayList<>(List.of(chosen));
            float lp = -2f;
            for (String s : others.apply(i)) {
                int id = teacher.tokenId(s);
                if (id < 0) throw new IllegalArgumentException("not in the teacher's vocabulary: " + s);
                alts.add(logprob(teacher, id, lp--));
            }
            out.add(TokenPosition.of(chosen, alts));
        }
        return new TokenDistribution(out);
    }

    static TokenLogprob logprob(HfTokenizer tok, int id, float lp) {
        byte[] b = tok.tokenBytes(id);
        return new TokenLogprob(new String(b, java.nio.charset.StandardCharsets.UTF_8), b, lp);
    }

    /** A teacher position spelled by raw bytes (which may be part of a UTF-8 character), alternatives given too. */
    static TokenPosition bytesPosition(byte[] chosen, float lp, byte[]... alternatives) {
        TokenLogprob c = new TokenLogprob("bytes:" + java.util.HexFormat.of().formatHex(chosen), chosen, lp);
        List<TokenLogprob> alts = new ArrayList<>(List.of(c));
        float alp = -3f;
        for (byte[] a : alternatives) alts.add(new TokenLogprob("bytes:" + java.util.HexFormat.of().formatHex(a), a,
                alp--));
        return TokenPosition.of(c, alts);
    }
}
