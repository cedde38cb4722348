package dev.distill4j.serve;

import ai.djl.ndarray.NDManager;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.nn.CausalLM;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a randomly initialised llama model folder with the tiny byte-level tokenizer (vocab 356, ChatML template):
 * gibberish, but deterministic, and a real HF layout for the server to load. Shared with cli tests and the benchmark.
 */
public final class TinyModel {
    private static final String[] TOKENIZER_FILES = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"};

    private TinyModel() {}

    /** A very small model (about 60 k parameters) for tests. */
    public static Path write(Path dir) throws IOException {
        return write(dir, 32, 2, 4, 2, 64, 128);
    }

    /**
     * @param hidden  hidden size; heads divide it
     * @param context max_position_embeddings: prompt + completion tokens allowed
     */
    public static Path write(Path dir, int hidden, int layers, int heads, int kvHeads, int intermediate, int context)
            throws IOException {
        // a wide init spreads the logits, so greedy picks have no near-ties that batching could flip
        String json = "{\"model_type\":\"llama\",\"vocab_size\":356,\"hidden_size\":" + hidden
                + ",\"intermediate_size\":" + intermediate + ",\"num_hidden_layers\":" + layers
                + ",\"num_attention_heads\":" + heads + ",\"num_key_value_heads\":" + kvHeads
                + ",\"max_position_embeddings\":" + context + ",\"tie_word_embeddings\":true,"
                + "\"initializer_range\":0.3,\"eos_token_id\":355,\"rms_norm_eps\":1e-5}";
        ModelConfig cfg = ModelConfig.fromJson(Json.parse(json), "tiny model");
        Files.createDirectories(dir);
        try (NDManager m = NDManager.newBaseManager(); CausalLM model = CausalLM.init(cfg, m, 42)) {
            Checkpoint.save(dir, cfg, model.parameters(), Checkpoint.SaveOptions.defaults().withDtype(DType.F32)
                    .withGenerationConfig(GenerationConfig.of(cfg)));
        }
        for (String f : TOKENIZER_FILES) {
            try (InputStream in = TinyModel.class.getResourceAsStream("/tiny-tokenizer/" + f)) {
                if (in == null) throw new IOException("test resource tiny-tokenizer/" + f + " is missing");
                Files.copy(in, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir;
    }

    /** {@code java ... TinyModel DIR [hidden layers heads kvHeads intermediate context]}: writes a model folder. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        if (args.length >= 7) {
            write(dir, Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]), Integer.parseInt(args[5]), Integer.parseInt(args[6]));
        } else write(dir);
        System.out.println(dir);
    }
}
