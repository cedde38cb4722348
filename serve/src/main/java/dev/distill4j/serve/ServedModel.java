package dev.distill4j.serve;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.generate.Generator;
import dev.distill4j.model.generate.Scorer;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A model folder loaded for serving: weights, tokenizer, chat template, generation defaults and stop tokens.
 * Owns its {@link NDManager}; {@link #close()} frees the weights.
 */
public final class ServedModel implements AutoCloseable {
    private final Path dir;
    private final NDManager manager;
    private final CausalLM model;
    private final HfTokenizer tokenizer;
    private final Optional<ChatTemplate> chatTemplate;
    private final GenerationConfig generationConfig;
    private final List<Integer> eosTokenIds;
    private final Generator generator;
    private final Scorer scorer;

    private ServedModel(Path dir, NDManager manager, CausalLM model, HfTokenizer tokenizer,
                        Optional<ChatTemplate> chatTemplate, GenerationConfig generationConfig) {
        this.dir = dir;
        this.manager = manager;
        this.model = model;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.generationConfig = generationConfig;
        // generation_config.json is what HF generate() and vLLM stop on; the config's and the tokenizer's EOS are
        // added because a chat model's end-of-turn token is often only named in tokenizer_config.json
        Set<Integer> eos = new LinkedHashSet<>(generationConfig.eosTokenIds());
        eos.addAll(model.config().eosTokenIds());
        int tokEos = tokenizer.idOf(tokenizer.specialTokens().eosToken());
        if (tokEos >= 0) eos.add(tokEos);
        this.eosTokenIds = List.copyOf(eos);
        this.generator = new Generator(model, tokenizer);
        this.scorer = new Scorer(model, tokenizer);
    }

    /** Loads a Hugging Face model folder (config.json, safetensors, tokenizer.json, tokenizer_config.json). */
    public static ServedModel load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " is not a folder; give a model folder with config.json, model.safetensors "
                    + "and tokenizer.json");
        }
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new IOException(dir + " has no tokenizer.json; a served model needs its tokenizer in the folder");
        }
        NDManager manager = NDManager.newBaseManager();
        try {
            ModelConfig config = ModelConfig.read(dir);
            CausalLM model;
            try (NDManager loading = manager.newSubManager()) {
                Map<String, NDArray> weights = Checkpoint.load(dir, loading);
                model = CausalLM.fromWeights(config, weights, manager);
            }
            HfTokenizer tokenizer = HfTokenizer.load(dir);
            GenerationConfig gen = GenerationConfig.read(dir).orElseGet(() -> GenerationConfig.of(config));
            return new ServedModel(dir, manager, model, tokenizer, ChatTemplate.load(dir), gen);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    public Path dir() { return dir; }

    public CausalLM model() { return model; }

    public HfTokenizer tokenizer() { return tokenizer; }

    public Optional<ChatTemplate> chatTemplate() { return chatTemplate; }

    public GenerationConfig generationConfig() { return generationConfig; }

    /** Token ids that end a generation. */
    public List<Integer> eosTokenIds() { return eosTokenIds; }

    /** Longest sequence (prompt + completion) the model was configured for. */
    public int contextLength() { return model.config().maxPositionEmbeddings(); }

    /** Only the scheduler's worker thread calls these, so the model runs one batch at a time. */
    Generator generator() { return generator; }

    Scorer scorer() { return scorer; }

    /** The folder name: the default name a served model answers to. */
    public String defaultName() {
        Path name = dir.toAbsolutePath().normalize().getFileName();
        return name == null ? "model" : name.toString();
    }

    /** Parameter count, for logs. */
    public long parameterCount() { return model.parameterCount(); }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
        manager.close();
    }
}
