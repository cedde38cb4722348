package dev.distill4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code distill guard}: the model owner's side. Subcommands are registered here, one class each; the library
 * (schemes, keys, detection) is the guard module.
 */
@Command(name = "guard", mixinStandardHelpOptions = true,
        description = {"Watermark what a served model writes and detect it: make a key, serve with "
                + "'distill serve --watermark KEY', test texts with exact p-values. See docs/guard.md."},
        // the radioactivity audit (GuardAuditCommand) is registered here beside these
        subcommands = {GuardKeygenCommand.class, GuardDetectCommand.class},
        footer = {"", "Examples:",
                "  distill guard keygen --scheme kgw --tokenizer runs/math/teacher --out teacher.wmkey",
                "  distill serve --model runs/math/teacher --watermark teacher.wmkey",
                "  distill guard detect --key teacher.wmkey answers.jsonl suspect.txt",
                "", "Run 'distill guard <command> --help' for a command's options."})
final class GuardCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }
}
