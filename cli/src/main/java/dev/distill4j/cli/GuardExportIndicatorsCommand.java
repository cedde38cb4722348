package dev.distill4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.guard.scan.IndicatorFile;
import dev.distill4j.guard.scan.Indicators;
import dev.distill4j.guard.scan.LogReader;
import dev.distill4j.guard.scan.Scanner;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export-indicators", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write what the flagged campaigns of a scan looked like, for another provider's 'distill guard "
                + "scan --indicators': prompt-template fingerprints (MinHash signatures of hashed skeleton shingles), "
                + "the centroid and spread of the campaign's query embeddings with a calibrated match threshold, "
                + "behavioural ranges, time range and number of accounts. No query text, account name, key or "
                + "client address is written (format: docs/guard.md, \"Indicator files\").",
                "",
                "The campaigns come from --scan (a scan.json; the log it scanned is read for the fingerprints) or "
                        + "from a scan of --log run now. Default: every flagged entity; --entity picks some."},
        footer = {"", "Examples:",
                "  distill guard export-indicators --log /var/log/distill/requests \\",
                "      --out campaign.json",
                "  distill guard export-indicators --scan requests/scan/scan.json \\",
                "      --entity cluster-1 --out c1.json"})
final class GuardExportIndicatorsCommand implements Callable<Integer> {
    @Option(names = "--scan", paramLabel = "FILE", description = "A scan.json to take the campaigns from.")
    Path scan;

    @Option(names = "--log", paramLabel = "DIR", description = "The request log (default with --scan: the folder "
            + "above the scan's folder, where 'distill guard scan' puts it).")
    Path log;

    @Option(names = "--entity", paramLabel = "NAME", arity = "1..*",
            description = "Export these accounts or clusters (as named in the scan), flagged or not.")
    List<String> entities = new ArrayList<>();

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The indicator file to write.")
    Path out;

    @Option(names = "--source", paramLabel = "LABEL",
            description = "Who the indicators come from (e.g. your organisation), written as \"source\".")
    String source;

    @Option(names = "--embedder", paramLabel = "MODEL", defaultValue = "bge-small-en-v1.5",
            description = "Embedding model of the centroids (default ${DEFAULT-VALUE}; the scan's, when it ran one).")
    String embedder;

    @Option(names = "--window", paramLabel = "N", defaultValue = "500",
            description = "Queries per MMD window when the scan runs here (default ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--fpr", paramLabel = "RATE", defaultValue = "0.001",
            description = "MMD false-positive rate when the scan runs here (default ${DEFAULT-VALUE}).")
    double fpr;

    @Override
    public Integer call() throws Exception {
        if (scan == null && log == null) throw new UserError("give --scan FILE or --log DIR", Errors.USAGE);
        if (scan != null && !Files.isRegularFile(scan)) throw new UserError("no such scan file: " + scan);
        if (!(fpr > 0 && fpr < 1)) throw new UserError("--fpr must be in (0, 1), got " + fpr, Errors.USAGE);
        if (window < 2) throw new UserError("--window must be at least 2, got " + window, Errors.USAGE);
        Path logDir = log;
        if (logDir == null) {
            Path parent = scan.toAbsolutePath().getParent().getParent();
            if (parent == null) throw new UserError("give --log DIR: the log " + scan + " was made from");
            logDir = parent;
        }
        if (!Files.exists(logDir)) throw new UserError("no such log folder: " + logDir);
        LogReader.Result records = LogReader.read(logDir);
        if (records.records().isEmpty()) throw new UserError("no readable request records under " + logDir);
        PrintStream o = System.out;
        try (EmbeddingModel model = EmbeddingModels.teacher(embedder)) {
            List<Indicators.Subject> all;
            if (scan != null) {
                JsonNode json;
                try {
                    json = Json.MAPPER.readTree(Files.readString(scan));
                    all = Indicators.subjects(json);
                } catch (IOException | IllegalArgumentException e) {
                    throw new UserError(scan + ": " + e.getMessage());
                }
            } else {
                Scanner.Options d = Scanner.Options.defaults();
                Scanner.Options opts = new Scanner.Options(window, fpr, d.permutations(),
                        Math.min(d.minWindow(), window), d.minRequests(), d.minBehaviours(), d.poolSize(), d.seed());
                all = Indicators.subjects(new Scanner(model, opts).scan(records, null));
            }
            List<Indicators.Subject> chosen = new ArrayList<>();
            if (entities.isEmpty()) {
                all.stream().filter(Indicators.Subject::flagged).forEach(chosen::add);
                if (chosen.isEmpty()) throw new UserError("nothing is flagged in the scan; name campaigns with --entity");
            } else {
                for (String name : entities) {
                    chosen.add(all.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(
                            () -> new UserError("no account or cluster named '" + name + "' in the scan")));
                }
            }
            // a cluster already holds its flagged member accounts' traffic: export the cluster, not them again
            List<Indicators.Subject> pick = chosen;
            if (entities.isEmpty()) {
                pick = chosen.stream().filter(s -> !s.kind().equals("account") || chosen.stream().noneMatch(c ->
                        c.kind().equals("cluster") && c.accounts().contains(s.name()))).toList();
            }
            Indicators ind;
            try {
                ind = Indicators.export(records, all, pick, model, source, 42);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage() + " (is --log the log the scan read?)");
            }
            IndicatorFile.write(ind, out);
            for (Indicators.Indicator i : ind.list()) {
                o.printf(Locale.ROOT, "%s  %-7s %3d accounts %6d requests  %d template(s)  centroid match at cosine "
                        + ">= %s%n", i.id(), i.kind(), i.accounts(), i.requests(), i.templates().size(),
                        Double.isNaN(i.matchCosine()) ? "n/a" : String.format(Locale.ROOT, "%.4f", i.matchCosine()));
            }
            o.println("wrote " + ind.list().size() + " indicator(s) to " + out);
            o.flush();
        }
        return 0;
    }
}
