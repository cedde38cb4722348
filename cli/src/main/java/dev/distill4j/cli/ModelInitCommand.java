package dev.distill4j.cli;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.io.ModelInfo;
import dev.distill4j.model.ops.ModelInit;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Create a fresh, randomly initialised student as a Hugging Face model folder.",
                "",
                "The vocabulary and special tokens (bos/eos/pad) come from --tokenizer: give the teacher's folder "
                        + "so student and teacher share a tokenizer (top-k and full-logit distillation need that). "
                        + "Weights are initialised as Hugging Face does (N(0, 0.02²), norms 1), deterministic in "
                        + "--seed. The folder appears complete or not at all."},
        footer = {"", "Examples:",
                "  # a ~30M-parameter Llama-style student with SmolLM2's tokenizer",
                "  distill model init --family llama --layers 6 --hidden 384 --heads 6 \\",
                "      --kv-heads 2 --tokenizer models/SmolLM2-135M-Instruct --out student/",
                "  # a Qwen3-style student with an explicit head dimension, untied LM head",
                "  distill model init --family qwen3 --layers 8 --hidden 512 --heads 8 \\",
                "      --kv-heads 4 --head-dim 64 --no-tie-embeddings --rope-theta 1000000 \\",
                "      --tokenizer models/Qwen3-0.6B --out student/"})
final class ModelInitCommand implements Callable<Integer> {
    @Option(names = "--family", required = true, paramLabel = "NAME", description = "llama, mistral, qwen2 or qwen3.")
    String family;

    @Option(names = "--layers", required = true, paramLabel = "N", description = "Decoder layers.")
    int layers;

    @Option(names = "--hidden", required = true, paramLabel = "N", description = "Hidden size (d_model).")
    int hidden;

    @Option(names = "--heads", required = true, paramLabel = "N", description = "Attention (query) heads.")
    int heads;

    @Option(names = "--kv-heads", paramLabel = "N", description = "Key/value heads for grouped-query attention "
            + "(must divide --heads). Default: --heads.")
    Integer kvHeads;

    @Option(names = "--intermediate", paramLabel = "N", description = "MLP (SwiGLU) width. Default: 8/3 × hidden "
            + "rounded up to a multiple of 64.")
    Integer intermediate;

    @Option(names = "--head-dim", paramLabel = "N", description = "Per-head dimension. Default: hidden / heads.")
    Integer headDim;

    @Option(names = "--rope-theta", paramLabel = "X", defaultValue = "10000",
            description = "RoPE base (default ${DEFAULT-VALUE}).")
    double ropeTheta;

    @Option(names = {"--max-position-embeddings", "--context"}, paramLabel = "N", defaultValue = "2048",
            description = "Context length (default ${DEFAULT-VALUE}).")
    int maxPositionEmbeddings;

    @Option(names = "--tie-embeddings", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Share the embedding matrix with the LM head, as small models do (default: tied; "
                    + "--no-tie-embeddings for a separate head).")
    boolean tieEmbeddings;

    @Option(names = "--sliding-window", paramLabel = "N", description = "mistral only: attention window. "
            + "Default: full attention.")
    Integer slidingWindow;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Initialisation seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "float32",
            description = "Stored weight type: float32, bfloat16 or float16 (default ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--tokenizer", required = true, paramLabel = "DIR",
            description = "Folder with tokenizer.json and tokenizer_config.json (e.g. the teacher's).")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (new or empty).")
    Path out;

    @Option(names = "--overwrite", description = "Write into a non-empty --out, replacing its model files.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        ModelInit.Spec spec;
        try {
            spec = new ModelInit.Spec(family, layers, hidden, heads, kvHeads, intermediate, headDim, ropeTheta,
                    maxPositionEmbeddings, tieEmbeddings, slidingWindow, seed, ModelCommands.dtype(dtype));
        } catch (InvalidInputException e) {
            throw new UserError(e.getMessage(), Errors.USAGE);
        }
        long start = System.nanoTime();
        try (ProgressBar bar = ModelCommands.working("init: creating " + spec.family() + " student", start)) {
            ModelInit.create(spec, tokenizer, out, overwrite);
        }
        ModelInfo info = ModelInfo.read(out);
        System.out.println("created " + out + " in " + ProgressBar.duration(Duration.ofNanos(System.nanoTime() - start)));
        System.out.println("  " + info.summary());
        System.out.println("  " + ModelCommands.sizes(info));
        System.out.println("next: distill model info " + out + "   |   distill generate --model " + out
                + " --prompt \"Hello\"");
        return 0;
    }
}
