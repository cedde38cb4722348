package dev.distill4j.cli;

import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.guard.scan.IndicatorFile;
import dev.distill4j.guard.scan.Indicators;
import dev.distill4j.guard.scan.LogReader;
import dev.distill4j.guard.scan.ScanWriter;
import dev.distill4j.guard.scan.Scanner;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "scan", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Rank the accounts (and linked account clusters) of a request log by evidence of an "
                + "extraction campaign: distribution shift of their queries (MMD over bge-small embeddings against "
                + "benign traffic, threshold calibrated by permutation at --fpr), behaviour (volume, timing, "
                + "logprobs, temperature 0, n, template reuse, topic breadth, the order of a topic sweep, "
                + "chain-of-thought requests by phrase or meaning) and linking (shared templates, client /24, "
                + "correlated timing). An account or cluster is flagged when at least 3 features fire (temperature "
                + "0 not counted), one of them harvesting (logprobs, chain-of-thought, n) and one showing "
                + "systematic prompts (templates, narrow topics, a topic sweep, MMD), or when it matches "
                + "--indicators. "
                + "Writes scan.json and scan.html.",
                "",
                "Reads every *.jsonl and *.jsonl.gz under --log: distill serve's request log, or the "
                        + "OpenAI-compatible gateway shape {\"timestamp\", \"user\", \"ip\", \"request\", "
                        + "\"response\"} (docs/guard.md). Malformed lines are reported and skipped.",
                "",
                "Exit code 0: nothing flagged; 3: something flagged (for cron: 'distill guard scan ... || "
                        + "alert'); 1: error; 2: usage error."},
        footer = {
                "",
                "Examples:",
                "  distill guard scan --log /var/log/distill/requests",
                "  distill guard scan --log today/ --baseline last-month/ --window 500 \\",
                "      --fpr 0.001 --out report/",
                "  distill guard scan --log today/ --indicators shared/campaign-2026-11.json"})
final class GuardScanCommand implements Callable<Integer> {
    /** The exit code when an account or cluster is flagged. */
    static final int FLAGGED = 3;

    @Option(names = "--log", required = true, paramLabel = "DIR", description = "Request log folder (or one file).")
    Path log;

    @Option(names = "--baseline", paramLabel = "DIR", description = "Known-benign request logs to compare with "
            + "(default: each account is compared with the other accounts' traffic).")
    Path baseline;

    @Option(names = "--window", paramLabel = "N", defaultValue = "500",
            description = "Queries per MMD window (default ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--fpr", paramLabel = "RATE", defaultValue = "0.001",
            description = "False-positive rate per window the MMD threshold is calibrated at (default "
                    + "${DEFAULT-VALUE}).")
    double fpr;

    @Option(names = "--permutations", paramLabel = "B", defaultValue = "0",
            description = "Benign-vs-benign permutations per window size (default: max(1000, 10 / fpr)).")
    int permutations;

    @Option(names = "--embedder", paramLabel = "MODEL", defaultValue = "bge-small-en-v1.5",
            description = "Embedding model for the queries (default ${DEFAULT-VALUE}).")
    String embedder;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: LOG/scan).")
    Path out;

    @Option(names = "--indicators", paramLabel = "FILE", arity = "1..*",
            description = "Indicator files of known campaigns ('distill guard export-indicators', e.g. from another "
                    + "provider): an account or cluster matching one is flagged (feature indicator_match).")
    List<Path> indicators = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (window < 2) throw new UserError("--window must be at least 2, got " + window, Errors.USAGE);
        if (!(fpr > 0 && fpr < 1)) throw new UserError("--fpr must be in (0, 1), got " + fpr, Errors.USAGE);
        if (permutations < 0) throw new UserError("--permutations must be positive", Errors.USAGE);
        if (!Files.exists(log)) throw new UserError("no such log folder: " + log);
        if (baseline != null && !Files.exists(baseline)) throw new UserError("no such baseline folder: " + baseline);
        LogReader.Result records = LogReader.read(log);
        if (records.files().isEmpty()) throw new UserError("no *.jsonl or *.jsonl.gz files under " + log);
        PrintStream err = System.err;
        for (LogReader.Malformed m : records.malformed().subList(0, Math.min(20, records.malformed().size()))) {
            err.println("warning: skipped " + m.source() + ": " + m.reason());
        }
        if (records.malformed().size() > 20) {
            err.println("warning: " + (records.malformed().size() - 20) + " more malformed lines (see scan.json)");
        }
        if (records.records().isEmpty()) throw new UserError("no readable request records under " + log);
        List<Indicators> known = new ArrayList<>();
        for (Path f : indicators) {
            try {
                known.add(IndicatorFile.read(f));
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
        }
        LogReader.Result base = baseline == null ? null : LogReader.read(baseline);
        Scanner.Options d = Scanner.Options.defaults();
        Scanner.Options opts = new Scanner.Options(window, fpr, permutations, Math.min(d.minWindow(), window),
                d.minRequests(), d.minBehaviours(), d.poolSize(), d.seed());
        Scanner.Report report;
        try (EmbeddingModel model = EmbeddingModels.teacher(embedder)) {
            for (Indicators k : known) {
                if (!k.embedder().equals(model.name()) || k.dimension() != model.dimension()) {
                    err.println("warning: indicator centroids made with " + k.embedder() + " (" + k.dimension()
                            + ") are not comparable with " + model.name() + " (" + model.dimension()
                            + "); only their template fingerprints are matched");
                }
            }
            report = new Scanner(model, opts, known).scan(records, base);
        }
        Path dir = out != null ? out : (Files.isDirectory(log) ? log : log.toAbsolutePath().getParent()).resolve("scan");
        ScanWriter.write(report, dir);
        PrintStream o = System.out;
        o.printf(Locale.ROOT, "%d requests, %d accounts, %d malformed lines; baseline: %s%n", report.records(),
                report.accounts(), report.malformed().size(), report.baseline());
        int shown = 0;
        for (Scanner.Entity e : report.ranked()) {
            if (!e.flagged() && shown >= 10) break;
            shown++;
            o.printf(Locale.ROOT, "%s %-8s %-24s score %5.2f  %5d requests  %s%n", e.flagged() ? "FLAGGED" : "       ",
                    e.kind(), e.name(), e.score(), e.requests(), String.join(", ", e.fired().stream()
                            .map(f -> f.name()).toList()));
        }
        o.println("wrote " + dir.resolve("scan.json") + " and " + dir.resolve("scan.html"));
        o.flush();
        return report.anyFlagged() ? FLAGGED : 0;
    }
}
