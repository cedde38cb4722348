package dev.distill4j.model.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.ops.ModelInit;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Small random students over the tiny tokenizer, for tests of init, prune, generation and the local teacher. */
public final class TinyModels {
    private TinyModels() {}

    public static Path tokenizerDir() {
        return Path.of("src/test/resources/tiny-tokenizer");
    }

    /** 2 layers, hidden 32, 4 query / 2 key-value heads, intermediate 64. */
    public static ModelInit.Spec spec(String family, long seed) {
        return new ModelInit.Spec(family, 2, 32, 4, 2, 64, null, 10000, 256, true, null, seed, DType.F32);
    }

    /**
     * Makes a random model's output readable for tests: the LM head is scaled up so logits spread (the few most
     * likely tokens take nearly all the mass, so sampled text varies without being noise) and the rows of the
     * single-byte tokens 128..255 (fragments of multi-byte UTF-8) are zeroed, so generated text is whole
     * characters and is exactly the concatenation of its tokens' bytes.
     */
    public static void wholeCharactersOnly(Path dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            ModelConfig cfg = ModelConfig.read(dir);
            Map<String, NDArray> w = Checkpoint.load(dir, m);
            String head = cfg.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
            NDArray scaled = w.get(head).mul(30f);
            scaled.set(new ai.djl.ndarray.index.NDIndex("128:256, :"), 0f);
            w.put(head, scaled);
            Checkpoint.save(dir, cfg, w, Checkpoint.SaveOptions.defaults().withDtype(DType.F32)
                    .withGenerationConfig(GenerationConfig.read(dir).orElseThrow()));
        }
    }
}
