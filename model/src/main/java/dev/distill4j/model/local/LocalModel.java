package dev.distill4j.model.local;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Message;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.generate.DjlStepDecoder;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.Generator;
import dev.distill4j.model.generate.SamplingDefaults;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.generate.Scorer;
import dev.distill4j.model.generate.StepDecoder;
import dev.distill4j.model.generate.TokenChooser;
import dev.distill4j.model.generate.TokenListener;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.ModelInfo;
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
 * A Hugging Face model folder loaded for inference: weights, tokenizer, chat template (if any) and
 * generation_config.json, which supplies the sampling defaults and stop tokens a request leaves open, as HF
 * {@code generate()} does. The one such class: {@code distill generate}, the local teacher, the server (which drives
 * {@link #generator()} and {@link #scorer()} with batches) and eval (prompt rendering, {@link #generateTimed timed
 * generation}, {@link #info()} for its efficiency figures) all load a folder through it.
 * Not thread-safe: one generation at a time (see {@link LocalTeacher}; the server's single worker thread).
 */
public final class LocalModel implements AutoCloseable {
    /** New tokens when neither the caller nor generation_config.json says. */
    public static final int DEFAULT_MAX_NEW_TOKENS = 256;

    private final Path dir;
    private final NDManager manager;
    private final CausalLM model;
    private final HfTokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final GenerationConfig generationConfig;
    private final List<Integer> eosTokenIds;
    private Generator generator;
    private final Scorer scorer;
    private ModelInfo info; // read on first use: only eval asks

    private LocalModel(Path dir, NDManager manager, CausalLM model, HfTokenizer tokenizer, ChatTemplate chatTemplate,
                       GenerationConfig generationConfig) {
        this.dir = dir;
        this.manager = manager;
        this.model = model;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.generationConfig = generationConfig;
        // computed once: the server asks on every request
        this.eosTokenIds = eosTokenIds(generationConfig, model.config(), tokenizer);
        this.generator = new Generator(model, tokenizer);
        this.scorer = new Scorer(model, tokenizer);
    }

    /**
     * Loads a model folder (config.json, safetensors weights, tokenizer.json; optional chat template, generation
     * config) into its own PyTorch manager, freed by {@link #close()}.
     */
    public static LocalModel load(Path dir) throws IOException {
        return load(dir, null);
    }

    /**
     * As {@link #load(Path)}, the weights living in a sub-manager of {@code parent} (null: a new base manager), so a
     * caller that owns a manager frees everything with it.
     */
    public static LocalModel load(Path dir, NDManager parent) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("model folder " + dir + " does not exist (expected a Hugging Face model folder "
                    + "with config.json, model.safetensors and tokenizer.json)");
        }
        // before the weights are read: a folder without its tokenizer fails at once
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new IOException(dir + " has no tokenizer.json; a model loaded for inference needs its tokenizer "
                    + "in the folder");
        }
        NDManager manager = parent == null ? NDManager.newBaseManager("PyTorch") : parent.newSubManager();
        HfTokenizer tokenizer = null;
        try {
            ModelConfig cfg;
            CausalLM model;
            try (Checkpoint c = Checkpoint.open(dir); NDManager load = manager.newSubManager()) {
                cfg = c.config();
                Map<String, NDArray> weights = c.load(load);
                // the model takes the arrays it keeps; closing load frees the stored-dtype (e.g. BF16) originals
                // of those it converted to F32, which would otherwise live as long as the model
                model = CausalLM.fromWeights(cfg, weights, manager);
            }
            tokenizer = HfTokenizer.load(dir);
            if (tokenizer.vocabSize() > cfg.vocabSize()) {
                throw new IOException(dir + ": the tokenizer has " + tokenizer.vocabSize() + " tokens but config.json's "
                        + "vocab_size is " + cfg.vocabSize() + ": do the tokenizer and the weights belong together?");
            }
            ChatTemplate template = ChatTemplate.load(dir).orElse(null);
            GenerationConfig gen = GenerationConfig.read(dir).orElse(GenerationConfig.of(cfg));
            return new LocalModel(dir, manager, model, tokenizer, template, gen);
        } catch (IOException | RuntimeException e) {
            if (tokenizer != null) tokenizer.close();
            manager.close();
            throw e;
        }
    }

    /**
     * Sampling choices a caller may leave open (null). {@code greedy} overrides everything else that samples.
     */
    public record SamplingRequest(Integer maxNewTokens, Double temperature, Double topP, Integer topK, Long seed,
                                  List<String> stop, int topLogprobs, boolean greedy) {
        public SamplingRequest {
            stop = stop == null ? List.of() : List.copyOf(stop);
        }
    }

    /**
     * Resolves a request against generation_config.json by {@link SamplingDefaults}' rule (the server's too): unset
     * temperature / top-p / top-k / max new tokens come from generation_config.json, else temperature 1, top-p 1,
     * top-k off, {@link #DEFAULT_MAX_NEW_TOKENS}; an unset seed is drawn at random ({@link SamplingParams#seed()}
     * tells which). Generation stops at any EOS id of generation_config.json, config.json or the tokenizer's
     * eos_token.
     */
    public SamplingParams sampling(SamplingRequest r) {
        SamplingDefaults.Choice c = SamplingDefaults.resolve(generationConfig, r.temperature(), r.topP(), r.topK(),
                r.seed(), r.greedy());
        int maxNew = SamplingDefaults.maxNewTokens(r.maxNewTokens(), generationConfig, DEFAULT_MAX_NEW_TOKENS);
        return new SamplingParams(maxNew, c.temperature(), c.topK(), c.topP(), c.seed(), eosTokenIds(), r.stop(),
                r.topLogprobs());
    }

    /** Every id that ends a generation (see {@link #eosTokenIds(GenerationConfig, ModelConfig, HfTokenizer)}). */
    public List<Integer> eosTokenIds() { return eosTokenIds; }

    /**
     * The ids that end a generation: generation_config.json's {@code eos_token_id} ∪ config.json's ∪ the tokenizer's
     * {@code eos_token}, as HF {@code generate()} and vLLM stop on any of them (instruct models often name their
     * end-of-turn token in only one of the three).
     */
    public static List<Integer> eosTokenIds(GenerationConfig generation, ModelConfig config, HfTokenizer tokenizer) {
        Set<Integer> ids = new LinkedHashSet<>(generation.eosTokenIds());
        ids.addAll(config.eosTokenIds());
        int eos = tokenizer.idOf(tokenizer.specialTokens().eosToken());
        if (eos >= 0) ids.add(eos);
        return List.copyOf(ids);
    }

    /** A raw-text prompt's ids, with what the tokenizer's post-processor adds (e.g. BOS for Llama). */
    public int[] encodeText(String text) {
        return tokenizer.encode(text, true);
    }

    /** The chat rendered by the model's template with the assistant's turn opened (add_generation_prompt). */
    public String renderChat(List<Message> messages) {
        if (chatTemplate == null) {
            throw new InvalidInputException(dir + " has no chat template (a base model?): give a raw-text prompt");
        }
        return chatTemplate.render(messages, true);
    }

    /** A chat's ids; the template writes any BOS itself, so the tokenizer adds nothing (as apply_chat_template). */
    public int[] encodeChat(List<Message> messages) {
        return tokenizer.encode(renderChat(messages), false);
    }

    /**
     * Generates a continuation of {@code promptIds}. A request that would run past the model's context is cut to
     * fit it (finish reason {@code length}); a prompt that alone fills the context is an error.
     */
    public Generation generate(int[] promptIds, SamplingParams params) {
        return generate(promptIds, params, TokenListener.NONE);
    }

    /** As {@link #generate(int[], SamplingParams)}, telling {@code listener} each token as it is generated. */
    public Generation generate(int[] promptIds, SamplingParams params, TokenListener listener) {
        int context = contextLength();
        if (promptIds.length >= context) {
            throw new InvalidInputException("the prompt has " + promptIds.length + " tokens, which fills the "
                    + "model's context of " + context + " tokens: shorten it");
        }
        SamplingParams p = params;
        if (promptIds.length + p.maxNewTokens() > context) {
            p = new SamplingParams(context - promptIds.length, p.temperature(), p.topK(), p.topP(), p.seed(),
                    p.eosTokenIds(), p.stopStrings(), p.topLogprobs());
        }
        return generator.generate(List.of(promptIds), p, listener).getFirst();
    }

    /**
     * One generation with its timings, for eval's efficiency figures: {@code prefillNanos} is a separate forward of
     * the prompt alone (time to the first token's logits), {@code totalNanos} the whole generation after it.
     */
    public record Timed(Generation generation, long prefillNanos, long totalNanos) {}

    /**
     * As {@link #generate(int[], SamplingParams)} with this model's {@link #eosTokenIds() EOS ids} as the stop
     * tokens, timed: first a prefill forward of the prompt alone, then the generation.
     */
    public Timed generateTimed(int[] promptIds, SamplingParams params) {
        long t0 = System.nanoTime();
        try (NDManager m = manager.newSubManager()) {
            model.forwardLast(m.create(promptIds, new Shape(1, promptIds.length)), null, null).toFloatArray();
        }
        long t1 = System.nanoTime();
        Generation g = generate(promptIds, params.withStops(eosTokenIds, params.stopStrings()));
        long t2 = System.nanoTime();
        return new Timed(g, t1 - t0, t2 - t1);
    }

    public boolean hasChatTemplate() { return chatTemplate != null; }

    public Optional<ChatTemplate> chatTemplate() { return Optional.ofNullable(chatTemplate); }

    public CausalLM model() { return model; }

    /**
     * From now on every generation through this model (single, batched, served) picks its tokens with
     * {@code chooser}, e.g. a watermark; {@link TokenChooser#SAMPLE} restores plain sampling.
     */
    public void setTokenChooser(TokenChooser chooser) { generator = generator.withChooser(chooser); }

    /** The batched generator over this model; callers must not run two batches at once. */
    public Generator generator() { return generator; }

    /** Teacher-forced scoring (echo logprobs) over this model; the same one-at-a-time rule. */
    public Scorer scorer() { return scorer; }

    /** Longest sequence (prompt + completion) the model was configured for: max_position_embeddings. */
    public int contextLength() { return model.config().maxPositionEmbeddings(); }

    /** Parameter count, for logs. */
    public long parameterCount() { return model.parameterCount(); }

    /**
     * The folder's {@link ModelInfo} (family, parameters, dtype, weight and folder bytes), read once on first use.
     */
    public synchronized ModelInfo info() throws IOException {
        if (info == null) info = ModelInfo.read(dir);
        return info;
    }

    public HfTokenizer tokenizer() { return tokenizer; }

    public GenerationConfig generationConfig() { return generationConfig; }

    public ModelConfig config() { return model.config(); }

    public Path dir() { return dir; }

    /** The folder's name, used as the model's name (e.g. "SmolLM2-135M-Instruct"). */
    public String name() {
        Path f = dir.toAbsolutePath().normalize().getFileName();
        return f == null ? dir.toString() : f.toString();
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
        manager.close();
    }

    /**
     * A new {@link StepDecoder} over this model's weights, for continuous batching (the server's scheduler drives
     * one): sequences of different lengths share each decode step and join or leave between steps. One per driving
     * thread; the caller closes it (its caches, not the weights). Today the DJL fallback, {@link DjlStepDecoder}.
     */
    public StepDecoder stepDecoder() { return new DjlStepDecoder(model); }
}
