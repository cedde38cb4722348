package dev.distill4j.model.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A decoder-only transformer's {@code config.json}, for the families we support: {@code llama} (also SmolLM2,
 * TinyLlama), {@code mistral}, {@code qwen2}, {@code qwen3}. Field names follow Hugging Face so the file round-trips.
 *
 * @param modelType             llama | mistral | qwen2 | qwen3
 * @param vocabSize             V
 * @param hiddenSize            d_model
 * @param intermediateSize      d_ff of the SwiGLU MLP
 * @param numHiddenLayers       L
 * @param numAttentionHeads     H (query heads)
 * @param numKeyValueHeads      H_kv (grouped-query attention; H % H_kv == 0)
 * @param headDim               d_head (HF default hidden_size / heads; qwen3 sets it explicitly)
 * @param rmsNormEps            ε of RMSNorm
 * @param ropeTheta             RoPE base
 * @param ropeScaling           null, or {rope_type: linear|llama3, factor, ...} as in HF
 * @param maxPositionEmbeddings context length
 * @param tieWordEmbeddings     LM head shares the embedding matrix
 * @param attentionBias         q/k/v (and o for llama) projections carry biases (qwen2: q/k/v always)
 * @param slidingWindow         attention window, or null for full attention
 * @param bosTokenId            may be null
 * @param eosTokenIds           one or more ids (HF allows an int or a list)
 * @param torchDtype            dtype the weights were saved in (float32, bfloat16, float16)
 * @param raw                   the original JSON, so fields we do not model survive a save
 */
public record ModelConfig(String modelType, int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                          int numAttentionHeads, int numKeyValueHeads, int headDim, double rmsNormEps,
                          double ropeTheta, RopeScaling ropeScaling, int maxPositionEmbeddings,
                          boolean tieWordEmbeddings, boolean attentionBias, Integer slidingWindow, Integer bosTokenId,
                          List<Integer> eosTokenIds, String torchDtype, ObjectNode raw) {

    public static final Set<String> FAMILIES = Set.of("llama", "mistral", "qwen2", "qwen3");

    /**
     * HF {@code rope_scaling}: {@code linear} divides positions by {@code factor}; {@code llama3} rescales the
     * inverse frequencies by wavelength band ({@code low_freq_factor}, {@code high_freq_factor},
     * {@code original_max_position_embeddings}).
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositionEmbeddings) {}

    public ModelConfig {
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
        raw = raw == null ? Json.object() : raw;
    }

    public static ModelConfig read(Path modelDir) throws IOException {
        Path f = modelDir.resolve("config.json");
        if (!Files.isRegularFile(f)) {
            throw new IOException("no config.json in " + modelDir + ": is this a Hugging Face model folder?");
        }
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(Files.readString(f));
        } catch (IOException e) {
            throw new IOException(f + " is not valid JSON: " + e.getMessage(), e);
        }
        return fromJson(n, f.toString());
    }

    /** Parses and validates; every error names the file and the field. */
    public static ModelConfig fromJson(JsonNode n, String where) {
        if (!(n instanceof ObjectNode obj)) throw new InvalidInputException(where + ": config must be a JSON object");
        String type = text(n, "model_type", where, null);
        if (!FAMILIES.contains(type)) {
            throw new InvalidInputException(where + ": model_type '" + type + "' is not supported (supported: "
                    + String.join(", ", FAMILIES.stream().sorted().toList()) + ")");
        }
        int hidden = integer(n, "hidden_size", where, null);
        int heads = integer(n, "num_attention_heads", where, null);
        int kvHeads = integer(n, "num_key_value_heads", where, heads);
        if (heads % kvHeads != 0) {
            throw new InvalidInputException(where + ": num_attention_heads (" + heads
                    + ") must be a multiple of num_key_value_heads (" + kvHeads + ")");
        }
        Integer headDimOrNull = n.hasNonNull("head_dim") ? n.get("head_dim").asInt() : null;
        if (headDimOrNull == null && hidden % heads != 0) {
            throw new InvalidInputException(where + ": hidden_size " + hidden + " is not divisible by "
                    + "num_attention_heads " + heads + " and no head_dim is given");
        }
        int headDim = headDimOrNull != null ? headDimOrNull : hidden / heads;
        RopeScaling scaling = ropeScaling(n.get("rope_scaling"), where);
        Integer window = null;
        if (n.hasNonNull("sliding_window")) {
            boolean use = !n.has("use_sliding_window") || n.get("use_sliding_window").asBoolean(true);
            // qwen2 ships sliding_window with use_sliding_window=false: full attention
            if (use) window = n.get("sliding_window").asInt();
        }
        List<Integer> eos = new java.util.ArrayList<>();
        JsonNode e = n.get("eos_token_id");
        if (e != null && e.isArray()) e.forEach(x -> eos.add(x.asInt()));
        else if (e != null && e.isNumber()) eos.add(e.asInt());
        boolean bias = n.path("attention_bias").asBoolean(type.equals("qwen2"));
        return new ModelConfig(type, integer(n, "vocab_size", where, null), hidden,
                integer(n, "intermediate_size", where, null), integer(n, "num_hidden_layers", where, null), heads,
                kvHeads, headDim, n.path("rms_norm_eps").asDouble(1e-6), n.path("rope_theta").asDouble(10000.0),
                scaling, n.path("max_position_embeddings").asInt(2048),
                n.path("tie_word_embeddings").asBoolean(false), bias, window,
                n.hasNonNull("bos_token_id") ? n.get("bos_token_id").asInt() : null, eos,
                n.path("torch_dtype").asText("float32"), obj.deepCopy());
    }

    private static RopeScaling ropeScaling(JsonNode s, String where) {
        if (s == null || s.isNull()) return null;
        String type = s.path("rope_type").asText(s.path("type").asText("")).toLowerCase(Locale.ROOT);
        return switch (type) {
            case "linear" -> new RopeScaling("linear", s.path("factor").asDouble(1.0), 0, 0, 0);
            case "llama3" -> new RopeScaling("llama3", s.path("factor").asDouble(8.0),
                    s.path("low_freq_factor").asDouble(1.0), s.path("high_freq_factor").asDouble(4.0),
                    s.path("original_max_position_embeddings").asInt(8192));
            case "default", "" -> null;
            default -> throw new InvalidInputException(where + ": rope_scaling type '" + type
                    + "' is not supported (supported: linear, llama3)");
        };
    }

    private static String text(JsonNode n, String field, String where, String dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            if (dflt != null) return dflt;
            throw new InvalidInputException(where + ": missing required field '" + field + "'");
        }
        return v.asText();
    }

    private static int integer(JsonNode n, String field, String where, Integer dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            if (dflt != null) return dflt;
            throw new InvalidInputException(where + ": missing required field '" + field + "'");
        }
        if (!v.canConvertToInt() || v.asInt() <= 0) {
            throw new InvalidInputException(where + ": field '" + field + "' must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    /** The config as HF writes it: the original JSON with our fields written over it. */
    public ObjectNode toJson() {
        ObjectNode n = raw.deepCopy();
        n.put("model_type", modelType);
        n.putArray("architectures").add(switch (modelType) {
            case "llama" -> "LlamaForCausalLM";
            case "mistral" -> "MistralForCausalLM";
            case "qwen2" -> "Qwen2ForCausalLM";
            default -> "Qwen3ForCausalLM";
        });
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("num_key_value_heads", numKeyValueHeads);
        n.put("head_dim", headDim);
        n.put("rms_norm_eps", rmsNormEps);
        n.put("rope_theta", ropeTheta);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        if (!modelType.equals("qwen2")) n.put("attention_bias", attentionBias);
        n.put("hidden_act", "silu");
        if (slidingWindow != null) n.put("sliding_window", slidingWindow);
        if (bosTokenId != null) n.put("bos_token_id", bosTokenId);
        if (eosTokenIds.size() == 1) n.put("eos_token_id", eosTokenIds.get(0));
        else if (!eosTokenIds.isEmpty()) eosTokenIds.forEach(n.putArray("eos_token_id")::add);
        n.put("torch_dtype", torchDtype);
        return n;
    }

    /** The same config recording that the weights are stored as {@code dtype} (float32, bfloat16, float16). */
    public ModelConfig withTorchDtype(String dtype) {
        return new ModelConfig(modelType, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings,
                tieWordEmbeddings, attentionBias, slidingWindow, bosTokenId, eosTokenIds, dtype, raw);
    }

    /** Query heads per key/value head. */
    public int groups() { return numAttentionHeads / numKeyValueHeads; }
}
