package dev.distill4j.model.ops;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.nn.Family;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.model.tokenizer.SpecialTokens;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A fresh, randomly initialised student: the architecture from a {@link Spec}, the vocabulary and special tokens
 * from a tokenizer folder, written as a complete Hugging Face model folder (config.json, model.safetensors,
 * generation_config.json, tokenizer files) that transformers and vLLM load unchanged.
 */
public final class ModelInit {
    private ModelInit() {}

    /**
     * The architecture to create.
     *
     * @param family                llama | mistral | qwen2 | qwen3
     * @param layers                decoder layers
     * @param hidden                d_model
     * @param heads                 query heads
     * @param kvHeads               key/value heads (grouped-query attention); null = heads
     * @param intermediate          SwiGLU width; null = {@link #defaultIntermediate(int)}
     * @param headDim               null = hidden / heads
     * @param ropeTheta             RoPE base
     * @param maxPositionEmbeddings context length
     * @param tieEmbeddings         LM head shares the embedding matrix (as small HF models do: SmolLM2, Qwen 0.5B)
     * @param slidingWindow         mistral only; null = full attention
     * @param seed                  initialisation seed
     * @param dtype                 how the weights are stored: F32, BF16 or F16
     */
    public record Spec(String family, int layers, int hidden, int heads, Integer kvHeads, Integer intermediate,
                       Integer headDim, double ropeTheta, int maxPositionEmbeddings, boolean tieEmbeddings,
                       Integer slidingWindow, long seed, DType dtype) {
        public Spec {
            family = family == null ? null : family.toLowerCase(Locale.ROOT);
            if (family == null || !ModelConfig.FAMILIES.contains(family)) {
                throw new InvalidInputException("unknown family '" + family + "' (use llama, mistral, qwen2 or qwen3)");
            }
            List<String> bad = new ArrayList<>();
            positive(bad, "layers", layers);
            positive(bad, "hidden", hidden);
            positive(bad, "heads", heads);
            if (kvHeads != null) positive(bad, "kv-heads", kvHeads);
            if (intermediate != null) positive(bad, "intermediate", intermediate);
            if (headDim != null) positive(bad, "head-dim", headDim);
            positive(bad, "max-position-embeddings", maxPositionEmbeddings);
            if (slidingWindow != null) positive(bad, "sliding-window", slidingWindow);
            if (!(ropeTheta > 0)) bad.add("rope-theta must be positive, got " + ropeTheta);
            if (!bad.isEmpty()) throw new InvalidInputException(String.join("; ", bad));
            int kv = kvHeads == null ? heads : kvHeads;
            if (heads % kv != 0) {
                throw new InvalidInputException("heads (" + heads + ") must be a multiple of kv-heads (" + kv + ")");
            }
            if (headDim == null && hidden % heads != 0) {
                throw new InvalidInputException("hidden (" + hidden + ") is not divisible by heads (" + heads
                        + "): pick another size or give head-dim");
            }
            int hd = headDim == null ? hidden / heads : headDim;
            if (hd % 2 != 0) throw new InvalidInputException("head dimension " + hd + " is odd: RoPE needs an even one");
            if (slidingWindow != null && !family.equals("mistral")) {
                throw new InvalidInputException("sliding-window is only supported for the mistral family");
            }
            if (dtype == null) dtype = DType.F32;
        }

        private static void positive(List<String> bad, String name, int v) {
            if (v <= 0) bad.add(name + " must be a positive integer, got " + v);
        }
    }

    /** What was written. */
    public record Result(Path dir, ModelConfig config, long parameters) {}

    /** SwiGLU's usual width: 8/3 of hidden (same parameters as a 4× GELU MLP), rounded up to a multiple of 64. */
    public static int defaultIntermediate(int hidden) {
        int raw = (int) Math.ceil(hidden * 8.0 / 3.0);
        return (raw + 63) / 64 * 64;
    }

    /** The config.json of {@code spec} with the vocabulary and special token ids of {@code tokenizer}. */
    public static ModelConfig config(Spec spec, HfTokenizer tokenizer) {
        SpecialTokens st = tokenizer.specialTokens();
        int eos = tokenizer.idOf(st.eosToken());
        if (eos < 0) {
            throw new InvalidInputException("the tokenizer in " + tokenizer.dir() + " names no eos_token that is in "
                    + "its vocabulary (tokenizer_config.json): a student needs one to stop generating");
        }
        int bos = tokenizer.idOf(st.bosToken());
        ObjectNode n = Json.object();
        n.put("model_type", spec.family());
        n.put("vocab_size", tokenizer.vocabSize());
        n.put("hidden_size", spec.hidden());
        n.put("intermediate_size", spec.intermediate() == null ? defaultIntermediate(spec.hidden()) : spec.intermediate());
        n.put("num_hidden_layers", spec.layers());
        n.put("num_attention_heads", spec.heads());
        n.put("num_key_value_heads", spec.kvHeads() == null ? spec.heads() : spec.kvHeads());
        if (spec.headDim() != null) n.put("head_dim", spec.headDim());
        n.put("rms_norm_eps", 1e-6);
        n.put("rope_theta", spec.ropeTheta());
        n.put("max_position_embeddings", spec.maxPositionEmbeddings());
        n.put("tie_word_embeddings", spec.tieEmbeddings());
        n.put("attention_bias", spec.family().equals("qwen2"));
        n.put("hidden_act", "silu");
        n.put("initializer_range", 0.02);
        n.put("use_cache", true);
        switch (spec.family()) {
            // transformers' MistralConfig defaults sliding_window to 4096: say "none" explicitly
            case "mistral" -> {
                if (spec.slidingWindow() == null) n.putNull("sliding_window");
                else n.put("sliding_window", spec.slidingWindow());
            }
            case "qwen2", "qwen3" -> n.put("use_sliding_window", false);
            default -> { }
        }
        if (bos >= 0) n.put("bos_token_id", bos);
        n.put("eos_token_id", eos);
        ModelConfig cfg = ModelConfig.fromJson(n, "the new " + spec.family() + " config");
        Family.of(cfg);   // rejects what the transformer would get wrong, before anything is written
        return cfg;
    }

    /** The generation_config.json of a fresh student: the tokenizer's bos / eos / pad ids, no sampling defaults. */
    public static GenerationConfig generationConfig(ModelConfig cfg, HfTokenizer tokenizer) {
        int pad = tokenizer.idOf(tokenizer.specialTokens().padToken());
        return new GenerationConfig(cfg.bosTokenId(), cfg.eosTokenIds(), pad >= 0 ? pad : null, null, null, null,
                null, null, null);
    }

    /**
     * Creates the student and writes it to {@code out} (which must not exist or be empty, unless
     * {@code overwrite}).
     */
    public static Result create(Spec spec, Path tokenizerDir, Path out, boolean overwrite) throws IOException {
        if (!Files.isDirectory(tokenizerDir)) {
            throw new IOException("tokenizer folder " + tokenizerDir + " does not exist (it needs tokenizer.json "
                    + "and tokenizer_config.json, e.g. a Hugging Face model folder)");
        }
        ModelFolders.checkWritable(out, overwrite);
        ModelConfig cfg;
        GenerationConfig gen;
        try (HfTokenizer tokenizer = HfTokenizer.load(tokenizerDir)) {
            cfg = config(spec, tokenizer);
            gen = generationConfig(cfg, tokenizer);
        }
        Checkpoint.SaveOptions options = Checkpoint.SaveOptions.defaults().withDtype(spec.dtype())
                .withTokenizerFrom(tokenizerDir).withGenerationConfig(gen);
        long params;
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
             CausalLM model = CausalLM.init(cfg, manager, spec.seed())) {
            params = model.parameterCount();
            ModelFolders.write(out, overwrite, dir -> Checkpoint.save(dir, cfg, model.parameters(), options));
        }
        return new Result(out, cfg.withTorchDtype(spec.dtype().torchName()), params);
    }
}
