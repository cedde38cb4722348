package dev.distill4j.model.io;

import dev.distill4j.model.config.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code distill model info} prints about a model folder, read from config.json and the safetensors headers
 * only (no weights are loaded).
 *
 * @param family          llama | mistral | qwen2 | qwen3
 * @param parameters      elements of the tensors the model uses (tied embeddings once)
 * @param dtype           torch name of the stored weights' dtype, or "mixed(...)" when they differ
 * @param vocabSize       rows of the embedding matrix
 * @param contextLength   max_position_embeddings
 * @param weightBytes     bytes of tensor data on disk
 */
public record ModelInfo(String family, long parameters, String dtype, int vocabSize, int contextLength,
                        int hiddenSize, int layers, int heads, int kvHeads, boolean tiedEmbeddings, long weightBytes) {

    /** Validates the folder (so info fails on the same broken files loading would) and summarises it. */
    public static ModelInfo read(Path dir) throws IOException {
        try (Checkpoint c = Checkpoint.open(dir)) {
            c.validate();
            ModelConfig cfg = c.config();
            long params = 0;
            long bytes = 0;
            Map<DType, Long> byType = new TreeMap<>();
            for (Checkpoint.ExpectedTensor e : Checkpoint.expectedTensors(cfg)) {
                TensorInfo t = c.info(e.name());
                params += t.numel();
                bytes += t.byteSize();
                byType.merge(t.dtype(), t.numel(), Long::sum);
            }
            String dtype = byType.size() == 1 ? byType.keySet().iterator().next().torchName()
                    : "mixed(" + String.join(", ", byType.keySet().stream().map(DType::torchName).toList()) + ")";
            return new ModelInfo(cfg.modelType(), params, dtype, cfg.vocabSize(), cfg.maxPositionEmbeddings(),
                    cfg.hiddenSize(), cfg.numHiddenLayers(), cfg.numAttentionHeads(), cfg.numKeyValueHeads(),
                    cfg.tieWordEmbeddings(), bytes);
        }
    }

    /** One line: "llama · 134.5M params · bfloat16 · vocab 49152 · context 8192 · 30 layers × 576 · 9/3 heads". */
    public String summary() {
        return String.format(Locale.ROOT, "%s · %s params · %s · vocab %d · context %d · %d layers × %d · %d/%d heads%s",
                family, humanCount(parameters), dtype, vocabSize, contextLength, layers, hiddenSize, heads, kvHeads,
                tiedEmbeddings ? " · tied embeddings" : "");
    }

    static String humanCount(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        if (n >= 1_000_000L) return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        if (n >= 1_000L) return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        return Long.toString(n);
    }
}
