package dev.distill4j.model.ops.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.model.tokenizer.BpeTrainer;
import dev.distill4j.model.tokenizer.ByteLevel;
import dev.distill4j.model.tokenizer.ChatTemplate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A model folder's tokenizer as GGUF's {@code tokenizer.ggml.*} metadata, for byte-level BPE tokenizers (GPT-2's
 * scheme: Llama 3, Qwen, SmolLM2 and the tokenizers distill4j trains), which llama.cpp runs as its {@code gpt2}
 * tokenizer model:
 *
 * <ul>
 *   <li>{@code tokens}: every id's string as tokenizer.json spells it (GPT-2 byte alphabet; added tokens
 *       literally), padded with {@code [PAD<id>]} up to the model's vocab_size;</li>
 *   <li>{@code token_type}: 1 normal, 3 control (special added tokens), 4 user-defined (other added tokens),
 *       5 unused (padding);</li>
 *   <li>{@code merges}: "left right" in rank order;</li>
 *   <li>{@code pre}: the name of llama.cpp's built-in pre-tokenizer that splits text as tokenizer.json's
 *       pre_tokenizer does. GGUF cannot carry a regex, so an unrecognised pre-tokenizer is refused rather than
 *       exported with a tokenization that silently differs (see {@link #preTokenizer});</li>
 *   <li>bos / eos / padding ids, {@code add_bos_token} (true when the post-processor prepends a special token)
 *       and {@code tokenizer.chat_template}.</li>
 * </ul>
 *
 * @param notes what the user should know about the mapping (printed by the exporter)
 */
public record GgufVocab(String pre, List<String> tokens, int[] tokenTypes, List<String> merges, Integer bosId,
                        Integer eosId, Integer padId, boolean addBos, String chatTemplate, List<String> notes) {

    static final int NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5;

    /** The pre-tokenizer regex of Llama 3 (tokenizer.json's Split pattern); llama.cpp calls it {@code llama-bpe}. */
    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2's (and Qwen3's): single digits; llama.cpp calls it {@code qwen2}. */
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** Reads tokenizer.json, tokenizer_config.json (+ special_tokens_map.json) and the chat template. */
    public static GgufVocab read(Path dir, int vocabSize) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException("no tokenizer.json in " + dir + ": a GGUF file carries its tokenizer, "
                    + "so export needs the model folder's fast tokenizer");
        }
        JsonNode root = readJson(file);
        JsonNode model = root.path("model");
        String type = model.path("type").asText("");
        boolean byteLevel = hasType(root.get("pre_tokenizer"), "ByteLevel");
        if (!type.equals("BPE") || !byteLevel) {
            throw new InvalidInputException(file + ": only byte-level BPE tokenizers (GPT-2 style: Llama 3, Qwen, "
                    + "SmolLM2, distill4j's own) can be exported to GGUF so far; this one is "
                    + (type.isEmpty() ? "of unknown type" : type) + (byteLevel ? "" : " without a ByteLevel "
                    + "pre-tokenizer (SentencePiece-style vocabularies are not supported yet)"));
        }
        List<String> notes = new ArrayList<>();
        JsonNode normalizer = root.get("normalizer");
        if (normalizer != null && !normalizer.isNull()) {
            String nt = normalizer.path("type").asText();
            if (!nt.equals("NFC")) {
                throw new InvalidInputException(file + ": normalizer " + nt + " has no llama.cpp equivalent");
            }
            notes.add("tokenizer normalizer NFC is not applied by llama.cpp (it matters only for text that is not "
                    + "already NFC)");
        }

        // ids → strings: the BPE vocab, then added tokens (which may also override vocab entries)
        Map<Integer, String> byId = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            byId.put(e.getValue().asInt(), e.getKey());
        }
        Map<Integer, Integer> addedType = new HashMap<>();
        Map<String, Integer> addedIds = new HashMap<>();
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt();
            byId.put(id, t.path("content").asText());
            addedIds.put(t.path("content").asText(), id);
            addedType.put(id, t.path("special").asBoolean(false) ? CONTROL : USER_DEFINED);
        }
        int maxId = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
        if (maxId >= vocabSize) {
            throw new InvalidInputException(file + ": token id " + maxId + " does not fit the model's vocab_size "
                    + vocabSize + "; the tokenizer does not belong to this model");
        }
        List<String> tokens = new ArrayList<>(vocabSize);
        int[] types = new int[vocabSize];
        int padded = 0;
        for (int id = 0; id < vocabSize; id++) {
            String t = byId.get(id);
            if (t == null) {
                tokens.add("[PAD" + id + "]");
                types[id] = UNUSED;
                padded++;
            } else {
                tokens.add(t);
                types[id] = addedType.getOrDefault(id, NORMAL);
            }
        }
        if (padded > 0) notes.add(padded + " unused ids padded as [PAD<id>] (vocab_size " + vocabSize + ")");

        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            // "left right" (older files) or ["left", "right"] (tokenizers >= 0.20)
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }

        String pre = preTokenizer(root.get("pre_tokenizer"), merges, file, notes);

        JsonNode cfg = readJson(dir.resolve("tokenizer_config.json"));
        JsonNode map = readJson(dir.resolve("special_tokens_map.json"));
        Integer bos = idOf(token(cfg, map, "bos_token"), addedIds, byId);
        Integer eos = idOf(token(cfg, map, "eos_token"), addedIds, byId);
        Integer pad = idOf(token(cfg, map, "pad_token"), addedIds, byId);
        // what the fast tokenizer really does: a TemplateProcessing post-processor that starts with a special token
        JsonNode single = root.path("post_processor").path("single");
        boolean addBos = false;
        if (single.isArray() && !single.isEmpty() && single.get(0).has("SpecialToken")) {
            String first = single.get(0).get("SpecialToken").path("id").asText();
            Integer id = idOf(first, addedIds, byId);
            if (id != null) {
                addBos = true;
                bos = id;
            }
        }
        String template = ChatTemplate.load(dir).map(ChatTemplate::source).orElse(null);
        if (template == null) notes.add("no chat template in the model folder: the GGUF file carries none");
        return new GgufVocab(pre, tokens, types, merges, bos, eos, pad, addBos, template, List.copyOf(notes));
    }

    /**
     * Names llama.cpp's pre-tokenizer for tokenizer.json's {@code pre_tokenizer}:
     * <ul>
     *   <li>{@code ByteLevel} with its own GPT-2 regex → {@code gpt-2};</li>
     *   <li>{@code Digits(individual)} then {@code ByteLevel} (SmolLM2) → {@code smollm};</li>
     *   <li>{@code Split(Llama 3 regex)} then {@code ByteLevel} → {@code llama-bpe}; Qwen2's regex →
     *       {@code qwen2};</li>
     *   <li>{@code Split(}{@link BpeTrainer#SPLIT_REGEX}{@code )} then {@code ByteLevel} (distill4j's tokenizers)
     *       → {@code gpt-2}. The regexes differ in two places, and neither changes a token: GPT-2 keeps runs of
     *       digits in one pre-token where BpeTrainer cuts after each digit, but a BpeTrainer vocabulary has no merge
     *       across two digits (its pre-tokens never hold two), so BPE cuts the run at the same places; and BpeTrainer
     *       reads contractions case-insensitively ({@code 'S}), which matters only if such a merge was learned —
     *       checked here, and noted if one was.</li>
     * </ul>
     * GGUF names a pre-tokenizer instead of carrying its regex; anything else is refused with what was found.
     */
    static String preTokenizer(JsonNode pre, List<String> merges, Path file, List<String> notes) {
        if (pre == null || pre.isNull()) throw unknownPre(file, "none");
        List<JsonNode> steps = new ArrayList<>();
        if (pre.path("type").asText().equals("Sequence")) pre.path("pretokenizers").forEach(steps::add);
        else steps.add(pre);
        JsonNode last = steps.getLast();
        if (!last.path("type").asText().equals("ByteLevel")) throw unknownPre(file, pre.toString());
        if (last.path("add_prefix_space").asBoolean(false)) {
            throw new InvalidInputException(file + ": ByteLevel add_prefix_space=true has no llama.cpp equivalent");
        }
        boolean ownRegex = last.path("use_regex").asBoolean(true);
        if (steps.size() == 1 && ownRegex) return "gpt-2";
        if (steps.size() == 2 && ownRegex && steps.get(0).path("type").asText().equals("Digits")
                && steps.get(0).path("individual_digits").asBoolean(false)) {
            return "smollm";
        }
        if (steps.size() == 2 && !ownRegex && steps.get(0).path("type").asText().equals("Split")) {
            String regex = steps.get(0).path("pattern").path("Regex").asText("");
            if (regex.equals(LLAMA3_REGEX)) return "llama-bpe";
            if (regex.equals(QWEN2_REGEX)) return "qwen2";
            if (regex.equals(BpeTrainer.SPLIT_REGEX)) {
                for (String m : merges) {
                    String merged = new String(ByteLevel.decode(m.replace(" ", "")), StandardCharsets.UTF_8);
                    if (merged.startsWith("'") && !merged.equals(merged.toLowerCase(Locale.ROOT))
                            && merged.substring(1).matches("(?i)s|t|re|ve|m|ll|d")) {
                        notes.add("merge '" + m + "' joins an upper-case contraction; llama.cpp's gpt2 "
                                + "pre-tokenizer splits it, so text with '" + merged + "' tokenizes differently");
                    }
                }
                return "gpt-2";
            }
            throw unknownPre(file, "Split regex " + regex);
        }
        throw unknownPre(file, pre.toString());
    }

    private static InvalidInputException unknownPre(Path file, String found) {
        return new InvalidInputException(file + ": llama.cpp has no pre-tokenizer that splits text like this one ("
                + found + "); supported: ByteLevel (gpt-2), Digits+ByteLevel (smollm), the Llama 3 and Qwen2 "
                + "Split regexes, and distill4j's BpeTrainer regex");
    }

    private static boolean hasType(JsonNode n, String type) {
        if (n == null || n.isNull()) return false;
        if (type.equals(n.path("type").asText())) return true;
        for (JsonNode c : n.path("pretokenizers")) if (hasType(c, type)) return true;
        return false;
    }

    private static Integer idOf(String token, Map<String, Integer> added, Map<Integer, String> byId) {
        if (token == null) return null;
        Integer id = added.get(token);
        if (id != null) return id;
        for (Map.Entry<Integer, String> e : byId.entrySet()) if (e.getValue().equals(token)) return e.getKey();
        return null;
    }

    private static String token(JsonNode cfg, JsonNode map, String field) {
        return Optional.ofNullable(content(cfg.get(field))).orElse(content(map.get(field)));
    }

    private static String content(JsonNode v) {
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) return v.asText();
        return v.hasNonNull("content") ? v.get("content").asText() : null;
    }

    private static JsonNode readJson(Path f) throws IOException {
        if (!Files.isRegularFile(f)) return Json.object();
        try {
            JsonNode n = Json.MAPPER.readTree(Files.readString(f));
            if (n == null || !n.isObject()) throw new InvalidInputException(f + " must hold a JSON object");
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidInputException(f + " is not valid JSON: " + e.getOriginalMessage());
        }
    }
}
