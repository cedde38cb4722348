package dev.distill4j.model.io;

import dev.distill4j.model.config.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What {@code distill model info} prints about a model folder, read from config.json and the safetensors headers
 * only (no weights are loaded).
 *
 * @param family                  llama | mistral | qwen2 | qwen3
 * @param parameters              elements of the tensors the model uses (tied embeddings once)
 * @param nonEmbeddingParameters  {@code parameters} without the embedding matrix and an untied LM head, the count
 *                                scaling laws use
 * @param dtype                   torch name of the stored weights' dtype, or "mixed(...)" when they differ
 * @param vocabSize               rows of the embedding matrix
 * @param contextLength           max_position_embeddings
 * @param headDim                 per-head dimension
 * @param weightBytes             bytes of tensor data on disk
 * @param diskBytes               bytes of every file in the folder (weights, config, tokenizer)
 */
public record ModelInfo(String family, long parameters, long nonEmbeddingParameters, String dtype, int vocabSize,
                        int contextLength, int hiddenSize, int layers, int heads, int kvHeads, int headDim,
                        int intermediateSize, boolean tiedEmbeddings, long weightBytes, long diskBytes) {

    /** Validates the folder (so info fails on the same broken files loading would) and summarises it. */
    public static ModelInfo read(Path dir) throws IOException {
        try (Checkpoint c = Checkpoint.open(dir)) {
            c.validate();
            ModelConfig cfg = c.config();
            long params = 0;
            long embeddings = 0;
            long bytes = 0;
            Map<DType, Long> byType = new TreeMap<>();
            for (Checkpoint.ExpectedTensor e : Checkpoint.expectedTensors(cfg)) {
                TensorInfo t = c.info(e.name());
                params += t.numel();
                if (e.name().equals("model.embed_tokens.weight") || e.name().equals("lm_head.weight")) {
                    embeddings += t.numel();
                }
                bytes += t.byteSize();
                // an int8 matrix's block scales (model.engine.Int8Checkpoint) are part of its weight
                if (c.tensorNames().contains(e.name() + "_scale")) bytes += c.info(e.name() + "_scale").byteSize();
                byType.merge(t.dtype(), t.numel(), Long::sum);
            }
            String dtype = byType.size() == 1 ? byType.keySet().iterator().next().torchName()
                    : "mixed(" + String.join(", ", byType.keySet().stream().map(DType::torchName).toList()) + ")";
            return new ModelInfo(cfg.modelType(), params, params - embeddings, dtype, cfg.vocabSize(),
                    cfg.maxPositionEmbeddings(), cfg.hiddenSize(), cfg.numHiddenLayers(), cfg.numAttentionHeads(),
                    cfg.numKeyValueHeads(), cfg.headDim(), cfg.intermediateSize(), cfg.tieWordEmbeddings(), bytes,
                    folderBytes(dir));
        }
    }

    private static long folderBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            long n = 0;
            for (Path f : (Iterable<Path>) files::iterator) if (Files.isRegularFile(f)) n += Files.size(f);
            return n;
        }
    }

    /** One line: "llama · 134.5M params · bfloat16 · vocab 49152 · context 8192 · 30 layers × 576 · 9/3 heads". */
    public String summary() {
        return String.format(Locale.ROOT, "%s · %s params · %s · vocab %d · context %d · %d layers × %d · %d/%d heads%s",
                family, humanCount(parameters), dtype, vocabSize, contextLength, layers, hiddenSize, heads, kvHeads,
                tiedEmbeddings ? " · tied embeddings" : "");
    }

    public static String humanCount(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        if (n >= 1_000_000L) return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        if (n >= 1_000L) return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        return Long.toString(n);
    }

    /** 1.5 GB, 340.2 MB, 12.0 KB (decimal units, as Hugging Face shows file sizes). */
    public static String humanBytes(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.2f GB", n / 1e9);
        if (n >= 1_000_000L) return String.format(Locale.ROOT, "%.1f MB", n / 1e6);
        if (n >= 1_000L) return String.format(Locale.ROOT, "%.1f KB", n / 1e3);
        return n + " B";
    }
}
