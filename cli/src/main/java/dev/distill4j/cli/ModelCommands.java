package dev.distill4j.cli;

import dev.distill4j.model.io.DType;
import dev.distill4j.model.io.ModelInfo;
import java.time.Duration;
import java.util.Locale;

/** What the model subcommands share: flag parsing and how a model is described. */
final class ModelCommands {
    private ModelCommands() {}

    static DType dtype(String s) {
        DType t = DType.parse(s);
        if (t != DType.F32 && t != DType.BF16 && t != DType.F16) {
            throw new UserError("--dtype '" + s + "' is not a weight type: use float32, bfloat16 or float16", Errors.USAGE);
        }
        return t;
    }

    /** A status line for a step that may take a while (large models), showing it is alive. */
    static ProgressBar working(String what, long startNanos) {
        return new ProgressBar(System.err, false,
                () -> what + " ... " + ProgressBar.duration(Duration.ofNanos(System.nanoTime() - startNanos)));
    }

    /** "1.2M parameters (0.3M without embeddings) · 4.9 MB on disk". */
    static String sizes(ModelInfo i) {
        return String.format(Locale.ROOT, "%s parameters (%s without embeddings) · %s on disk",
                ProgressBar.count(i.parameters()), ModelInfo.humanCount(i.nonEmbeddingParameters()),
                ModelInfo.humanBytes(i.diskBytes()));
    }
}
