package dev.distill4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStats;
import dev.distill4j.core.store.RunStore;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Summarise a run: teacher, samples by status, failure causes, tokens, spend, a few samples."},
        footer = {"", "Example: distill inspect runs/math", "         distill inspect runs/math --json | jq .spend_usd"})
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "Run folder.")
    Path run;

    @Option(names = "--examples", paramLabel = "N", defaultValue = "3", description = "Samples to show (default ${DEFAULT-VALUE}).")
    int examples;

    @Option(names = "--json", description = "Print the summary as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        RunManifest manifest = RunManifest.exists(run) ? RunManifest.read(run) : null;
        RunStats s;
        java.util.List<dev.distill4j.core.store.StoredBatch> batches;
        try (RunStore store = RunStore.openExisting(run)) {
            s = store.stats(examples);
            batches = store.batches(null);
        }
        if (json) {
            ObjectNode n = Json.object();
            n.put("run", run.toString());
            if (manifest != null) n.set("manifest", Json.MAPPER.valueToTree(manifest));
            n.set("stats", Json.MAPPER.valueToTree(s));
            n.put("spend_usd", s.costUsd());
            if (!batches.isEmpty()) {
                var a = n.putArray("batches");
                for (var b : batches) {
                    a.addObject().put("id", b.id()).put("provider", b.provider()).put("provider_id", b.providerId())
                            .put("state", b.state().sql()).put("status", b.status()).put("requests", b.requests())
                            .put("created_at", b.createdAt().toString());
                }
            }
            System.out.println(Json.writePretty(n));
            return 0;
        }
        PrintStream out = System.out;
        out.println("run " + run);
        if (manifest != null) {
            out.printf(Locale.ROOT, "  teacher      %s %s%s (%s endpoint)%n", manifest.provider(), manifest.model(),
                    manifest.baseUrl() == null ? "" : " at " + manifest.baseUrl(), manifest.endpoint());
            out.printf(Locale.ROOT, "  sampling     %s%n", Json.write(manifest.sampling()));
            out.printf(Locale.ROOT, "  prompts from %s (sha256 %s…)%n", manifest.promptSource(),
                    manifest.promptHash() == null ? "?" : manifest.promptHash().substring(0, 12));
        }
        out.printf(Locale.ROOT, "  capability   %s%n", s.capabilities().isEmpty() ? "-" : String.join(", ", s.capabilities()));
        out.printf(Locale.ROOT, "  prompts      %s%n", ProgressBar.count(s.prompts()));
        out.printf(Locale.ROOT, "  samples      %s done, %s failed, %s pending%n",
                ProgressBar.count(s.byStatus().getOrDefault(SampleStatus.DONE, 0L)),
                ProgressBar.count(s.byStatus().getOrDefault(SampleStatus.FAILED, 0L)),
                ProgressBar.count(s.byStatus().getOrDefault(SampleStatus.PENDING, 0L)));
        out.printf(Locale.ROOT, "  tokens       %s prompt + %s completion%n",
                ProgressBar.count(s.totalUsage().promptTokens()), ProgressBar.count(s.totalUsage().completionTokens()));
        out.printf(Locale.ROOT, "  spend        $%.4f%n", s.costUsd());
        out.printf(Locale.ROOT, "  latency      mean %.0f ms%s%n", s.meanLatencyMs(),
                batches.isEmpty() ? "" : " (a batch answer's latency is its batch's turnaround)");
        if (!batches.isEmpty()) {
            // one line for all: collected, open (bought, results not stored), submitting (never confirmed)
            java.util.Map<dev.distill4j.core.store.StoredBatch.State, Long> byState = new java.util.EnumMap<>(
                    dev.distill4j.core.store.StoredBatch.State.class);
            long openRequests = 0;
            for (var b : batches) {
                byState.merge(b.state(), 1L, Long::sum);
                if (b.state() != dev.distill4j.core.store.StoredBatch.State.COLLECTED) openRequests += b.requests();
            }
            out.printf(Locale.ROOT, "  batches      %d collected, %d open, %d submitting (%s requests not collected)%n",
                    byState.getOrDefault(dev.distill4j.core.store.StoredBatch.State.COLLECTED, 0L),
                    byState.getOrDefault(dev.distill4j.core.store.StoredBatch.State.OPEN, 0L),
                    byState.getOrDefault(dev.distill4j.core.store.StoredBatch.State.SUBMITTING, 0L),
                    ProgressBar.count(openRequests));
            for (var b : batches) {
                if (b.state() == dev.distill4j.core.store.StoredBatch.State.COLLECTED) continue;
                out.printf(Locale.ROOT, "    %s %s %s, %d requests, submitted %s%n", b.provider(),
                        b.providerId() == null ? "(unconfirmed " + b.id() + ")" : b.providerId(), b.status(),
                        b.requests(), b.createdAt());
            }
        }
        if (!s.failureCauses().isEmpty()) {
            // one line per kind of failure, with one sample's message as its example: the bodies stay in the store
            out.println("  failure causes (by kind, one example each):");
            for (var c : s.failureCauses()) {
                out.printf(Locale.ROOT, "    %6s  %s%n", ProgressBar.count(c.count()), c.cause());
                if (!c.example().equals(c.cause())) out.println("            e.g. " + oneLine(c.example()));
            }
        }
        if (!s.examples().isEmpty()) {
            out.println("  examples:");
            for (var e : s.examples()) {
                out.println("    > " + oneLine(e.promptPreview()));
                out.println("    < " + oneLine(e.textPreview()));
            }
        }
        return 0;
    }

    private static String oneLine(String s) {
        String t = s == null ? "" : s.replace('\n', ' ').replace('\r', ' ');
        return t.length() > 120 ? t.substring(0, 117) + "..." : t;
    }
}
