package dev.distill4j.serve;

import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.generate.Generator;
import dev.distill4j.model.generate.Scorer;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A model folder loaded for serving: weights, tokenizer, chat template, generation defaults and stop tokens.
 * Loading is {@link LocalModel}'s; {@link #close()} frees the weights.
 */
public final class ServedModel implements AutoCloseable {
    private final LocalModel local;
    private final List<Integer> eosTokenIds;
    private final Generator generator;
    private final Scorer scorer;

    private ServedModel(LocalModel local) {
        this.local = local;
        // LocalModel unites generation_config.json's, config.json's and the tokenizer's EOS ids, as HF generate()
        // and vLLM stop on; computed once here because every request asks
        this.eosTokenIds = local.eosTokenIds();
        this.generator = new Generator(local.model(), local.tokenizer());
        this.scorer = new Scorer(local.model(), local.tokenizer());
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
        return new ServedModel(LocalModel.load(dir));
    }

    public Path dir() { return local.dir(); }

    public CausalLM model() { return local.model(); }

    public HfTokenizer tokenizer() { return local.tokenizer(); }

    public Optional<ChatTemplate> chatTemplate() { return local.chatTemplate(); }

    public GenerationConfig generationConfig() { return local.generationConfig(); }

    /** Token ids that end a generation. */
    public List<Integer> eosTokenIds() { return eosTokenIds; }

    /** Longest sequence (prompt + completion) the model was configured for. */
    public int contextLength() { return local.config().maxPositionEmbeddings(); }

    /** Only the scheduler's worker thread calls these, so the model runs one batch at a time. */
    Generator generator() { return generator; }

    Scorer scorer() { return scorer; }

    /** The folder name: the default name a served model answers to. */
    public String defaultName() {
        Path name = local.dir().toAbsolutePath().normalize().getFileName();
        return name == null ? "model" : name.toString();
    }

    /** Parameter count, for logs. */
    public long parameterCount() { return local.model().parameterCount(); }

    @Override
    public void close() {
        local.close();
    }
}
