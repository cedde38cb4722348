package dev.distill4j.cli;

import dev.distill4j.core.Json;
import dev.distill4j.guard.detect.Detector;
import dev.distill4j.guard.detect.Localizer;
import dev.distill4j.guard.detect.ReportJson;
import dev.distill4j.guard.detect.TextFiles;
import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "detect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Test texts for a watermark: per text and pooled over all of them, the number of tokens "
                + "scored, the mean score against its mean under no watermark, and an exact p-value (binomial tail "
                + "for kgw and synthid, Gamma tail for gumbel).",
                "",
                "FILE is plain UTF-8 text (the whole file one text) or JSONL (.jsonl/.ndjson: one {\"text\": ..., "
                        + "\"prompt\": ..., \"id\": ...} per line; prompt and id optional; a prompt is the text the "
                        + "answer continues and is not scored). Each (context window, token) pair is scored once, "
                        + "so repeated text cannot inflate the evidence. A small p-value means the texts depend on "
                        + "the key: they were written with the watermark.",
                "",
                "Exit code 0 whenever the test ran, whatever its result (read the p-value, or --json); 1 on an "
                        + "error (missing file, malformed line, a key made for another tokenizer); 2 on a usage "
                        + "error."},
        footer = {
                "",
                "Examples:",
                "  distill guard detect --key teacher.wmkey answers.jsonl",
                "  distill guard detect --key teacher.wmkey --localize --min-window 50 essay.txt",
                "  distill guard detect --key teacher.wmkey --json answers.jsonl \\",
                "      | jq .pooled.log10_p_value"})
final class GuardDetectCommand implements Callable<Integer> {
    @Option(names = "--key", required = true, paramLabel = "KEY", description = "Watermark key file.")
    Path key;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Model folder of the model that wrote the text (default: the folder recorded in the key "
                    + "by 'guard keygen').")
    Path tokenizer;

    @Option(names = "--localize", description = "Also find each text's most watermarked passage (WinMax), with its "
            + "p-value corrected for the number of windows compared.")
    boolean localize;

    @Option(names = "--min-window", paramLabel = "N", defaultValue = "20",
            description = "With --localize: the shortest passage, in scored tokens (default ${DEFAULT-VALUE}).")
    int minWindow;

    @Option(names = "--json", description = "Print one JSON document instead of the table.")
    boolean json;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Text or JSONL files.")
    List<Path> files;

    @Override
    public Integer call() throws Exception {
        if (minWindow < 1) throw new UserError("--min-window must be at least 1, got " + minWindow, Errors.USAGE);
        WatermarkKey k = WatermarkKey.read(key);
        Watermark wm = Watermark.of(k);
        Path dir = tokenizer;
        String what = "--tokenizer " + tokenizer;
        if (dir == null) {
            dir = WatermarkKey.tokenizerDir(key).orElseThrow(() -> new UserError("the key " + key + " records no "
                    + "model folder; give the folder of the model that wrote the text with --tokenizer DIR"));
            what = "the model folder " + dir + " recorded in the key";
            if (!Files.exists(dir)) {
                throw new UserError("the key's model folder " + dir + " no longer exists; give the folder of the "
                        + "model that wrote the text with --tokenizer DIR");
            }
        } else if (!Files.exists(dir)) {
            throw new UserError("--tokenizer " + dir + " does not exist");
        }
        for (Path f : files) {
            if (!Files.exists(f)) throw new UserError("no such file: " + f);
        }
        Detector detector = new Detector(wm, HfTokenizer.load(dir), what);
        List<Detector.Input> inputs = TextFiles.read(files);
        Detector.Report report = detector.detect(inputs, localize, minWindow);
        PrintStream out = System.out;
        if (json) {
            out.println(Json.writePretty(ReportJson.of(report, wm)));
        } else {
            print(out, report, wm);
        }
        out.flush();
        return 0;
    }

    private void print(PrintStream out, Detector.Report report, Watermark wm) {
        out.println("watermark " + WatermarkOption.describe(wm));
        String score = wm.scoreName();
        int idWidth = Math.max(4, Math.min(40, report.texts().stream().mapToInt(t -> t.id().length()).max().orElse(4)));
        out.printf(Locale.ROOT, "%-" + idWidth + "s %8s %8s %10s  %s%n", "text", "tokens", "scored", "mean", "p-value");
        for (Detector.TextResult t : report.texts()) {
            out.printf(Locale.ROOT, "%-" + idWidth + "s %8d %8d %10s  %s%n", clip(t.id(), idWidth), t.tokens(),
                    t.scored(), mean(t.meanScore()), t.pValue());
            if (localize) {
                Localizer.Passage p = t.passage();
                if (p == null) {
                    out.printf(Locale.ROOT, "    passage: fewer than %d scored tokens%n", minWindow);
                } else {
                    out.printf(Locale.ROOT, "    passage: %d scored tokens from character %d, mean %s, p = %s, "
                                    + "corrected p = %s (%,d windows compared): %s%n", p.to() - p.from(),
                            t.passageCharStart(), mean(p.meanScore()), p.pValue(), p.corrected(),
                            p.windowsCompared(), quote(t.passageText()));
                }
            }
        }
        Detector.Pooled p = report.pooled();
        out.printf(Locale.ROOT, "pooled: %d texts, %d tokens, %d scored (%d repeated (window, token) pairs not "
                        + "scored), %s %s vs %s without a watermark, p = %s%n", p.texts(), p.tokens(), p.scored(),
                p.skipped(), score, mean(p.meanScore()), mean(wm.nullMean()), p.pValue());
        out.println(verdict(p.pValue()));
    }

    /** Plain words for the pooled p-value; the number is what to act on. */
    static String verdict(PValue p) {
        if (p.log10() <= -6) return "the texts carry this watermark (p < 1e-6)";
        if (p.log10() <= -2) return "evidence of this watermark (p < 0.01); more text would settle it";
        return "no evidence of this watermark (p >= 0.01)";
    }

    private static String mean(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String clip(String s, int width) {
        return s.length() <= width ? s : "…" + s.substring(s.length() - width + 1);
    }

    private static String quote(String s) {
        String one = s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t");
        return "\"" + (one.length() > 120 ? one.substring(0, 117) + "..." : one) + "\"";
    }
}
