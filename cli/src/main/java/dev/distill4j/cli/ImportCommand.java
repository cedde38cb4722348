package dev.distill4j.cli;

import dev.distill4j.core.dataset.DatasetImporter;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "import", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Turn a labelled data set (prompts with reference answers) into a run, to train on gold domain data "
                        + "beside a teacher's answers.",
                "",
                "The run's samples are the data set's answers (provider 'dataset', capability TEXT), its run.json "
                        + "records the file, format and SHA-256; 'distill train --run DIR --loss sft' trains on it "
                        + "like on any text-only run.",
                "",
                "Formats: openai-chat (OpenAI fine-tuning JSONL: the last assistant message is the answer, earlier "
                        + "turns stay in the prompt), hf-messages (TRL conversational JSONL, or ShareGPT "
                        + "'conversations' with from/value; id, sample_index and metadata are kept, so a "
                        + "'distill export --format hf-messages' file imports back), alpaca (instruction/input/"
                        + "output as a JSON array or JSONL), csv (header with 'prompt' and one of response, "
                        + "completion, answer, output; optional system, id).",
                "",
                "Malformed examples are skipped and listed with file and line (--strict: refuse the file, store "
                        + "nothing). Importing the same file again adds nothing."},
        footer = {
                "",
                "Examples:",
                "  distill import --run runs/gold --format alpaca alpaca_data.json",
                "  distill import --run runs/support --format openai-chat tickets.jsonl",
                "  distill train --run runs/gold --student s/ --loss sft",
                "",
                "Exit codes: 0 imported (malformed examples skipped are listed); 1 error; 2 bad usage."})
final class ImportCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "DIR", description = "Run folder to create or add to.")
    Path run;

    @Option(names = "--format", required = true, paramLabel = "FORMAT",
            description = "openai-chat, hf-messages, alpaca or csv.")
    String format;

    @Option(names = "--name", paramLabel = "NAME",
            description = "The data set's name, recorded as the run's model (default: the file name without "
                    + "its extension).")
    String name;

    @Option(names = "--strict", description = "Refuse the whole file at the first malformed example.")
    boolean strict;

    @Parameters(paramLabel = "FILE", description = "The data set file.")
    Path file;

    @Override
    public Integer call() throws Exception {
        DatasetImporter.Format f = DatasetImporter.Format.parse(format);
        if (!Files.isRegularFile(file)) throw new UserError("no data set file at " + file);
        String n = name != null ? name : stripExtension(file.getFileName().toString());
        DatasetImporter.Result r = DatasetImporter.importFile(file, f, run, n, strict);
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "import %s (%s) into %s as dataset/%s%n", file, f.cliName(), run, n);
        out.printf(Locale.ROOT, "  examples  %,d read, %,d new samples stored, %,d already in the run%n",
                r.examples(), r.added(), r.examples() - r.added());
        if (r.skipped() > 0) {
            out.printf(Locale.ROOT, "  skipped   %,d malformed:%n", r.skipped());
            for (String m : r.malformed()) out.println("    " + m);
            if (r.skipped() > r.malformed().size()) out.printf("    ... (%d more)%n", r.skipped() - r.malformed().size());
        }
        out.println("  sha256    " + r.sha256());
        return 0;
    }

    private static String stripExtension(String s) {
        int dot = s.indexOf('.');
        return dot > 0 ? s.substring(0, dot) : s;
    }
}
