package dev.distill4j.cli;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.ModelInfo;
import dev.distill4j.model.ops.DepthPrune;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "prune", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Make a student from a teacher by keeping some of its layers (depth pruning, as in Minitron).",
                "",
                "The kept layers are copied bit for bit and renumbered from 0; embeddings, final norm, LM head, "
                        + "tokenizer and generation config are copied too, and the weights keep the teacher's dtype. "
                        + "A pruned student starts far closer to the teacher than a random one, so distillation "
                        + "needs fewer steps. Only the kept layers are read, so the teacher may be larger than memory."},
        footer = {"", "Examples:",
                "  distill model prune --from models/SmolLM2-360M-Instruct \\",
                "      --keep-layers 0,2,4,6,8,10,12,14 --out student/",
                "  distill model prune --from models/Qwen2.5-1.5B --keep-layers 0-13,27 \\",
                "      --out student/",
                "", "Tip: keeping the first and last layers and thinning the middle usually loses least."})
final class ModelPruneCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, paramLabel = "DIR", description = "Teacher model folder.")
    Path from;

    @Option(names = "--keep-layers", required = true, paramLabel = "LIST",
            description = "Layers to keep, ascending, 0-based: e.g. 0,2,4 or 0-3,10,11.")
    String keepLayers;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (new or empty).")
    Path out;

    @Option(names = "--overwrite", description = "Write into a non-empty --out, replacing its model files.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(from)) throw new UserError("no model folder at " + from);
        ModelConfig teacher = ModelConfig.read(from);
        try {
            DepthPrune.parseLayers(keepLayers, teacher.numHiddenLayers());   // a typo is a usage error, before any I/O
        } catch (InvalidInputException e) {
            throw new UserError("--keep-layers: " + e.getMessage(), Errors.USAGE);
        }
        long start = System.nanoTime();
        DepthPrune.Result r;
        try (ProgressBar bar = ModelCommands.working("prune: copying kept layers", start)) {
            r = DepthPrune.prune(from, keepLayers, out, overwrite);
        }
        ModelInfo before = ModelInfo.read(from);
        ModelInfo after = ModelInfo.read(out);
        System.out.printf("pruned %d → %d layers (kept %s) in %s%n", r.teacherLayers(), r.kept().length,
                Arrays.stream(r.kept()).mapToObj(String::valueOf).collect(Collectors.joining(",")),
                ProgressBar.duration(Duration.ofNanos(System.nanoTime() - start)));
        System.out.printf("  parameters %s → %s (%.0f%%), %s%n", ModelInfo.humanCount(before.parameters()),
                ModelInfo.humanCount(after.parameters()), 100.0 * after.parameters() / before.parameters(), after.dtype());
        System.out.println("  " + after.summary());
        System.out.println("  written to " + out);
        return 0;
    }
}
