package dev.distill4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code distill guard}: the model owner's side. Subcommands are registered here, one class each; the library
 * (schemes, keys, detection, audits) is the guard module.
 */
@Command(name = "guard", mixinStandardHelpOptions = true,
        description = {"Watermark what a served model writes and detect it: make a key, serve with "
                + "'distill serve --watermark KEY', test texts with exact p-values, audit a suspect model for "
                + "radioactivity (was it trained on your watermarked answers?), and scan request logs for extraction "
                + "campaigns. See docs/guard.md; "
                + "'distill demo guard' shows the whole story offline."},
        subcommands = {GuardKeygenCommand.class, GuardDetectCommand.class, GuardAuditCommand.class,
                GuardScanCommand.class, GuardExportIndicatorsCommand.class},
        footer = {
                "",
                "Examples:",
                "  distill guard keygen --scheme kgw --tokenizer runs/math/teacher \\",
                "      --out teacher.wmkey",
                "  distill serve --model runs/math/teacher --watermark teacher.wmkey",
                "  distill guard detect --key teacher.wmkey answers.jsonl suspect.txt",
                "  distill guard audit --key teacher.wmkey --watermarked answers.jsonl \\",
                "      --suspect runs/their-student",
                "  distill guard scan --log logs/requests --out logs/scan",
                "",
                "Run 'distill guard <command> --help' for a command's options."})
final class GuardCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }
}
