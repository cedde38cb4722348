package dev.distill4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code distill prompts}: prompt sets for harvesting. The library is the prompts module. */
@Command(name = "prompts", mixinStandardHelpOptions = true,
        description = {"Make prompt sets to harvest: 'generate' has a teacher write new prompts from a few seeds "
                + "and a topic list (Self-Instruct, Evol-Instruct), removes near-duplicates by embedding "
                + "similarity and reports how varied the result is. See docs/prompts.md."},
        subcommands = {PromptsGenerateCommand.class},
        footer = {"", "Run 'distill prompts generate --help' for its options."})
final class PromptsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }
}
