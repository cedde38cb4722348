package dev.distill4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "model", mixinStandardHelpOptions = true,
        description = {"Create, prune, describe, quantize and export student models (Hugging Face folders: config.json, "
                + "model.safetensors, tokenizer files)."},
        subcommands = {ModelInitCommand.class, ModelPruneCommand.class, ModelInfoCommand.class,
                ModelQuantizeCommand.class, ModelExportCommand.class},
        footer = {"", "Examples:",
                "  distill model init --family llama --layers 4 --hidden 256 --heads 4 \\",
                "      --kv-heads 2 --tokenizer teacher/ --out student/",
                "  distill model prune --from teacher/ --keep-layers 0-7,24-31 --out student/",
                "  distill model info student/",
                "  distill model quantize --model student/ --out student-int8/",
                "  distill model export --model student/ --quantize q8_0 --out student.gguf",
                "", "Run 'distill model <command> --help' for a command's options."})
final class ModelCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }
}
