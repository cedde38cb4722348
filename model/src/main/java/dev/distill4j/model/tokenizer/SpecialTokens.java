package dev.distill4j.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The named special tokens of {@code tokenizer_config.json} (falling back to {@code special_tokens_map.json}).
 * HF writes each either as a string or as an AddedToken object {@code {"content": "...", ...}}; any may be null.
 *
 * @param addBosToken whether HF's slow/legacy path prepends BOS (Llama-2 style); the fast tokenizer's
 *                    post-processor in tokenizer.json is what {@link TextTokenizer#encode} actually applies
 */
public record SpecialTokens(String bosToken, String eosToken, String padToken, String unkToken, boolean addBosToken,
                            boolean addEosToken) {
    public static final SpecialTokens NONE = new SpecialTokens(null, null, null, null, false, false);

    public static SpecialTokens read(Path dir) throws IOException {
        JsonNode cfg = readJson(dir.resolve("tokenizer_config.json"));
        JsonNode map = readJson(dir.resolve("special_tokens_map.json"));
        return new SpecialTokens(token(cfg, map, "bos_token"), token(cfg, map, "eos_token"),
                token(cfg, map, "pad_token"), token(cfg, map, "unk_token"),
                cfg.path("add_bos_token").asBoolean(false), cfg.path("add_eos_token").asBoolean(false));
    }

    static JsonNode readJson(Path f) throws IOException {
        if (!Files.isRegularFile(f)) return Json.object();
        try {
            JsonNode n = Json.MAPPER.readTree(Files.readString(f));
            if (n == null || !n.isObject()) throw new IOException(f + " must hold a JSON object");
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(f + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static String token(JsonNode cfg, JsonNode map, String field) {
        String v = content(cfg.get(field));
        return v != null ? v : content(map.get(field));
    }

    /** A token given as a string or as {@code {"content": ...}}; null for null or absent. */
    static String content(JsonNode v) {
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) return v.asText();
        if (v.isObject() && v.hasNonNull("content")) return v.get("content").asText();
        return null;
    }
}
