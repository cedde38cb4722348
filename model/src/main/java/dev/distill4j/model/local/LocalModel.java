package dev.distill4j.model.local;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.engine.DecodeEngine;
import dev.distill4j.model.engine.Int8;
import dev.distill4j.model.engine.Int8Checkpoint;
import dev.distill4j.model.engine.Quantization;
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
import java.util.LinkedHashMap;
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
    private final ModelConfig config;
    /**
     * The DJL model for teacher-forced scoring and eval's NLL, built from the folder on first use: generation runs on
     * the {@link #engine}'s own copy of the weights, so a model that only generates holds them once.
     */
    private CausalLM model;
    private final DecodeEngine engine;
    private final HfTokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final GenerationConfig generationConfig;
    private final List<Integer> eosTokenIds;
    private Generator generator;
    private Scorer scorer;  // with the model, on first use
    private ModelInfo info; // read on first use: only eval asks

    private LocalModel(Path dir, NDManager manager, ModelConfig config, DecodeEngine engine, HfTokenizer tokenizer,
                       ChatTemplate chatTemplate, GenerationConfig generationConfig) {
        this.dir = dir;
        this.manager = manager;
        this.config = config;
        this.engine = engine;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.generationConfig = generationConfig;
        // computed once: the server asks on every request
        this.eosTokenIds = eosTokenIds(generationConfig, config, tokenizer);
        this.generator = new Generator(engine, tokenizer);
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
        return load(dir, parent, Quantization.F32);
    }

    /**
     * As {@link #load(Path, NDManager)}, the engine holding the weight matrices at {@code quantization}. With
     * {@link Quantization#INT8} the DJL model's matrices are replaced by their int8 round trip too, so that scoring
     * and eval measure the same int8 model that generates. A folder saved as int8 ({@link Int8Checkpoint}) loads as
     * int8 whatever {@code quantization} says.
     */
    public static LocalModel load(Path dir, NDManager parent, Quantization quantization) throws IOException {
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
            DecodeEngine engine;
            if (Int8Checkpoint.isInt8Folder(dir)) {
                // saved int8 (distill model quantize): the engine takes the blocks as saved
                cfg = ModelConfig.read(dir);
                engine = Int8Checkpoint.read(dir).engine();
            } else {
                // the engine copies the weights out of a DJL model that is freed at once (rebuilt if scoring asks)
                try (NDManager build = manager.newSubManager()) {
                    CausalLM model = djlModel(dir, null, build);
                    cfg = model.config();
                    engine = DecodeEngine.of(model, quantization);
                }
            }
            tokenizer = HfTokenizer.load(dir);
            if (tokenizer.vocabSize() > cfg.vocabSize()) {
                throw new IOException(dir + ": the tokenizer has " + tokenizer.vocabSize() + " tokens but config.json's "
                        + "vocab_size is " + cfg.vocabSize() + ": do the tokenizer and the weights belong together?");
            }
            ChatTemplate template = ChatTemplate.load(dir).orElse(null);
            GenerationConfig gen = GenerationConfig.read(dir).orElse(GenerationConfig.of(cfg));
            return new LocalModel(dir, manager, cfg, engine, tokenizer, template, gen);
        } catch (IOException | RuntimeException e) {
            if (tokenizer != null) tokenizer.close();
            manager.close();
            throw e;
        }
    }

    /**
     * The folder's weights as a DJL model in {@code manager}: a saved int8 folder's blocks dequantised, otherwise the
     * checkpoint at F32, int8-rounded when {@code quantization} is INT8 (null: as stored, for the engine to copy).
     */
    private static CausalLM djlModel(Path dir, Quantization quantization, NDManager manager) throws IOException {
        if (Int8Checkpoint.isInt8Folder(dir)) {
            ModelConfig cfg = ModelConfig.read(dir);
            Map<String, NDArray> weights = new LinkedHashMap<>();
            var shapes = CausalLM.parameterShapes(cfg);
            for (var e : Int8Checkpoint.read(dir).dequantized().entrySet()) {
                weights.put(e.getKey(), manager.create(e.getValue(), shapes.get(e.getKey())));
            }
            return CausalLM.fromWeights(cfg, weights, manager);
        }
        CausalLM model;
        try (Checkpoint c = Checkpoint.open(dir); NDManager load = manager.newSubManager()) {
            // the model takes the arrays it keeps; closing load frees the stored-dtype (e.g. BF16) originals
            // of those it converted to F32, which would otherwise live as long as the model
            model = CausalLM.fromWeights(c.config(), c.load(load), manager);
        }
        if (quantization == Quantization.INT8) Int8.roundTripInPlace(model);
        return model;
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
     * A prompt's token ids as training renders it ({@code train.data.ExampleBuilder}), so the model sees at generation
     * time exactly what it was trained to continue: through the chat template with its generation prompt
     * ({@code chat}), or as raw text with the tokenizer's specials. A chat prompt cannot be raw text, and a model
     * without a template cannot render chat: both are clear errors.
     */
    public int[] encodePrompt(Prompt prompt, boolean chat) {
        if (chat) {
            if (chatTemplate == null) {
                throw new InvalidInputException("the model in " + dir + " has no chat template: add "
                        + "chat_template.jinja, or give it raw-text prompts if it is a base model");
            }
            return encodeChat(prompt.chat());
        }
        if (prompt.isChat()) {
            throw new InvalidInputException("prompt '" + prompt.id() + "' is a chat, but " + dir + " has no chat "
                    + "template: give the model a chat_template.jinja or use raw-text prompts");
        }
        return encodeText(prompt.text());
    }

    /** As {@link #encodePrompt(Prompt, boolean)}, through the chat template when the model has one. */
    public int[] encodePrompt(Prompt prompt) {
        return encodePrompt(prompt, chatTemplate != null);
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
        try (StepDecoder.State s = engine.newState()) {
            engine.prefill(s, promptIds);
        }
        long t1 = System.nanoTime();
        Generation g = generate(promptIds, params.withStops(eosTokenIds, params.stopStrings()));
        long t2 = System.nanoTime();
        return new Timed(g, t1 - t0, t2 - t1);
    }

    public boolean hasChatTemplate() { return chatTemplate != null; }

    public Optional<ChatTemplate> chatTemplate() { return Optional.ofNullable(chatTemplate); }

    /**
     * The DJL model (teacher-forced scoring, eval's NLL, training probes), read from the folder on the first call:
     * with {@code --quantize int8} its matrices are the int8 round trip, so scoring measures the model that generates.
     */
    public synchronized CausalLM model() {
        if (model == null) {
            try {
                model = djlModel(dir, engine.quantization(), manager);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot read the weights of " + dir + " again for scoring: "
                        + e.getMessage(), e);
            }
        }
        return model;
    }

    /** Whether {@link #model()} has been built (the weights are then held twice: DJL's and the engine's). */
    synchronized boolean scoringLoaded() { return model != null; }

    /**
     * The inference engine generation runs on, as a {@link StepDecoder} (for continuous batching): any number of
     * sequences, each with its own KV cache; same weights and quantization as {@link #generator()}.
     */
    public StepDecoder stepDecoder() { return engine; }

    /** The engine's weights, kernels and threads, for logs (see {@link DecodeEngine#describe()}). */
    public String engineDescription() { return engine.describe(); }

    /** How the engine holds the weights (F32, or int8 with {@code --quantize int8}). */
    public Quantization quantization() { return engine.quantization(); }

    /**
     * From now on every generation through this model (single, batched, served) picks its tokens with
     * {@code chooser}, e.g. a watermark; {@link TokenChooser#SAMPLE} restores plain sampling.
     */
    public void setTokenChooser(TokenChooser chooser) { generator = generator.withChooser(chooser); }

    /** The batched generator over this model; callers must not run two batches at once. */
    public Generator generator() { return generator; }

    /** Teacher-forced scoring (echo logprobs) over this model ({@link #model()}); the same one-at-a-time rule. */
    public synchronized Scorer scorer() {
        if (scorer == null) scorer = new Scorer(model(), tokenizer);
        return scorer;
    }

    /** Longest sequence (prompt + completion) the model was configured for: max_position_embeddings. */
    public int contextLength() { return config.maxPositionEmbeddings(); }

    /** Parameter count, for logs. */
    public long parameterCount() {
        return Checkpoint.parameterCount(config);
    }

    /**
     * The folder's {@link ModelInfo} (family, parameters, dtype, weight and folder bytes), read once on first use.
     */
    public synchronized ModelInfo info() throws IOException {
        if (info == null) info = ModelInfo.read(dir);
        return info;
    }

    public HfTokenizer tokenizer() { return tokenizer; }

    public GenerationConfig generationConfig() { return generationConfig; }

    public ModelConfig config() { return config; }

    public Path dir() { return dir; }

    /** The folder's name, used as the model's name (e.g. "SmolLM2-135M-Instruct"). */
    public String name() {
        Path f = dir.toAbsolutePath().normalize().getFileName();
        return f == null ? dir.toString() : f.toString();
    }

    @Override
    public void close() {
        tokenizer.close();
        engine.close();
        synchronized (this) {
            if (model != null) model.close();
        }
        manager.close();
    }
}
