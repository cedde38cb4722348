package dev.distill4j.cli;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.export.Exporter;
import dev.distill4j.core.store.RunStore;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a run's answered samples as JSONL for other tools.",
                "",
                "Formats:",
                "  openai-chat     OpenAI fine-tuning chat format: {\"messages\": [...]} per line",
                "  hf-messages     Hugging Face / TRL conversational format: {\"messages\": [...], \"id\", ...}",
                "  logprobs-jsonl  one sample per line with its token distribution (chosen token, top-k "
                        + "alternatives with bytes and logprobs, tail mass)"},
        footer = {"", "Example: distill export runs/math --format openai-chat --out math.jsonl"})
final class ExportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "Run folder.")
    Path run;

    @Option(names = "--format", required = true, paramLabel = "FORMAT",
            description = "openai-chat, hf-messages or logprobs-jsonl.")
    String format;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output JSONL file (written atomically).")
    Path out;

    @Option(names = "--system", paramLabel = "TEXT", description = "System prompt to put first in every chat.")
    String system;

    @Override
    public Integer call() throws Exception {
        Exporter.Format f;
        try {
            f = Exporter.Format.parse(format);
        } catch (InvalidInputException e) {
            throw new UserError("unknown --format '" + format + "' (use openai-chat, hf-messages or logprobs-jsonl)",
                    Errors.USAGE);
        }
        long n;
        try (RunStore store = RunStore.openExisting(run)) {
            n = Exporter.export(store, f, out, system);
        }
        System.out.println("exported " + ProgressBar.count(n) + " samples to " + out);
        return 0;
    }
}
