package dev.distill4j.model.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A model's {@code generation_config.json}: the sampling defaults and stop tokens HF {@code generate()} and vLLM
 * use when a request does not say otherwise. Every field is optional, as in HF; {@code raw} keeps the fields we do
 * not model so a copy keeps them.
 */
public record GenerationConfig(Integer bosTokenId, List<Integer> eosTokenIds, Integer padTokenId, Double temperature,
                               Double topP, Integer topK, Boolean doSample, Integer maxNewTokens, ObjectNode raw) {
    public static final String FILE = "generation_config.json";

    public GenerationConfig {
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
        raw = raw == null ? Json.object() : raw.deepCopy();
    }

    /** Greedy-free defaults carrying only the model's special token ids. */
    public static GenerationConfig of(ModelConfig cfg) {
        return new GenerationConfig(cfg.bosTokenId(), cfg.eosTokenIds(), null, null, null, null, null, null, null);
    }

    /** The folder's generation_config.json, or empty when it has none. */
    public static Optional<GenerationConfig> read(Path modelDir) throws IOException {
        Path f = modelDir.resolve(FILE);
        if (!Files.isRegularFile(f)) return Optional.empty();
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(Files.readString(f));
        } catch (IOException e) {
            throw new IOException(f + " is not valid JSON: " + e.getMessage(), e);
        }
        return Optional.of(fromJson(n, f.toString()));
    }

    public static GenerationConfig fromJson(JsonNode n, String where) {
        if (!(n instanceof ObjectNode obj)) throw new InvalidInputException(where + ": must be a JSON object");
        return new GenerationConfig(optInt(n, "bos_token_id", where), ids(n.get("eos_token_id"), where),
                optInt(n, "pad_token_id", where), optDouble(n, "temperature", where), optDouble(n, "top_p", where),
                optInt(n, "top_k", where), n.hasNonNull("do_sample") ? n.get("do_sample").asBoolean() : null,
                optInt(n, "max_new_tokens", where), obj);
    }

    /** HF allows a single id or a list wherever token ids go. */
    static List<Integer> ids(JsonNode e, String where) {
        List<Integer> out = new ArrayList<>();
        if (e == null || e.isNull()) return out;
        if (e.isIntegralNumber()) {
            out.add(e.asInt());
        } else if (e.isArray()) {
            for (JsonNode x : e) {
                if (!x.isIntegralNumber()) throw new InvalidInputException(where + ": eos_token_id has " + x);
                out.add(x.asInt());
            }
        } else {
            throw new InvalidInputException(where + ": eos_token_id must be an integer or a list, got " + e);
        }
        return out;
    }

    private static Integer optInt(JsonNode n, String f, String where) {
        JsonNode v = n.get(f);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber()) throw new InvalidInputException(where + ": " + f + " must be an integer, got " + v);
        return v.asInt();
    }

    private static Double optDouble(JsonNode n, String f, String where) {
        JsonNode v = n.get(f);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw new InvalidInputException(where + ": " + f + " must be a number, got " + v);
        return v.asDouble();
    }

    public ObjectNode toJson() {
        ObjectNode n = raw.deepCopy();
        putOrRemove(n, "bos_token_id", bosTokenId);
        n.remove("eos_token_id");
        if (eosTokenIds.size() == 1) n.put("eos_token_id", eosTokenIds.get(0));
        else if (!eosTokenIds.isEmpty()) eosTokenIds.forEach(n.putArray("eos_token_id")::add);
        putOrRemove(n, "pad_token_id", padTokenId);
        if (temperature != null) n.put("temperature", temperature); else n.remove("temperature");
        if (topP != null) n.put("top_p", topP); else n.remove("top_p");
        putOrRemove(n, "top_k", topK);
        if (doSample != null) n.put("do_sample", doSample); else n.remove("do_sample");
        putOrRemove(n, "max_new_tokens", maxNewTokens);
        return n;
    }

    private static void putOrRemove(ObjectNode n, String f, Integer v) {
        if (v != null) n.put(f, v); else n.remove(f);
    }

    /** Writes {@code generation_config.json} into {@code modelDir}, atomically. */
    public void write(Path modelDir) throws IOException {
        AtomicFiles.writeString(modelDir.resolve(FILE), Json.writePretty(toJson()) + "\n");
    }
}
