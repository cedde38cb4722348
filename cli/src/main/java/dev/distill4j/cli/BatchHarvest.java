package dev.distill4j.cli;

import dev.distill4j.core.RunManifest;
import dev.distill4j.core.io.PromptDuplicates;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.core.store.StoredBatch;
import dev.distill4j.teacher.BatchApi;
import dev.distill4j.teacher.BatchHarvester;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.Harvester;
import dev.distill4j.teacher.HttpTeacher;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * {@code distill harvest --batch}: the terminal side of {@link BatchHarvester} (progress while polling, Ctrl-C, the
 * summary); the options are {@link HarvestCommand}'s.
 */
final class BatchHarvest {
    private final HarvestCommand c;

    BatchHarvest(HarvestCommand command) {
        this.c = command;
    }

    int run(Teacher teacher, TeacherConfig config, RunManifest previous) throws Exception {
        if (!(teacher instanceof HttpTeacher http)) {
            throw new UserError("--batch needs a provider with a batch API (openai, anthropic)", Errors.USAGE);
        }
        RunManifest manifest = Harvester.manifest(teacher, c.connection.apiKeyEnvFor(teacher), c.prompts, previous);
        PromptDuplicates duplicates = c.scanPrompts();
        try (RunStore store = RunStore.open(c.run); BatchApi api = BatchApi.of(teacher, config)) {
            manifest.write(c.run);
            // the budget and every stored cost are at the batch price
            Budget budget = c.connection.budget(c.batchPriceFactor, 0);
            BatchHarvester harvester = new BatchHarvester(http, api, store, new BatchHarvester.Options(c.prompts,
                    c.samplesPerPrompt, c.retryFailed, c.strict, c.connection.maxAttempts, seconds(c.pollInterval),
                    seconds(c.maxPollInterval), c.batchSize == null ? Integer.MAX_VALUE : c.batchSize,
                    c.resubmitUnconfirmed),
                    budget, c.connection.backoff()).withCheckedPrompts(duplicates);
            // Ctrl-C: stop polling and keep the batches open (they are bought; the rerun collects them)
            BatchHarvester.Result result = HarvestTerminal.run(c.quiet, harvester::stop,
                    () -> line(harvester.progress()), harvester::run,
                    r -> printSummary(r, store, budget, api.provider()));
            // an unconfirmed batch's message says what to do; any other error, that the batches are kept
            return HarvestTerminal.exitCode(result.outcome(), result.fatal(),
                    result.fatal() instanceof BatchHarvester.UnconfirmedBatchException ? null
                            : "the batches submitted are kept in the run; fix this and rerun the same command to"
                                    + " resume");
        } catch (Harvester.MalformedPromptException bad) {
            throw new UserError(bad.getMessage());
        }
    }

    private static Duration seconds(double s) {
        return Duration.ofNanos((long) (s * 1e9));
    }

    private static String line(BatchHarvester.Progress p) {
        String head = switch (p.phase()) {
            case RESUMING -> "batch resuming";
            case SUBMITTING -> String.format(Locale.ROOT, "batch submitting: %s prompts read, %s batches sent"
                    + " (%s requests)", ProgressBar.count(p.promptsRead()), ProgressBar.count(p.batchesSubmitted()),
                    ProgressBar.count(p.submitted()));
            case POLLING, COLLECTING, FINISHED -> {
                long total = p.done() + p.failed() + p.openRequests();
                long finished = p.done() + p.failed() + p.openFinished();
                yield String.format(Locale.ROOT, "batch %s %s/%s finished | %s open (%s requests) | %s",
                        ProgressBar.bar(total == 0 ? 1 : (double) finished / total, 20), ProgressBar.count(finished),
                        ProgressBar.count(total), p.openBatches() == 1 ? "1 batch" : p.openBatches() + " batches",
                        ProgressBar.count(p.openRequests()),
                        p.phase() == BatchHarvester.Phase.COLLECTING ? "collecting results"
                                : p.nextPoll().isZero() ? "polling" : "next poll in "
                                        + ProgressBar.duration(p.nextPoll()));
            }
        };
        return String.format(Locale.ROOT, "%s | %s done %s failed | $%.4f | %s", head, ProgressBar.count(p.done()),
                ProgressBar.count(p.failed()), p.spentUsd(), ProgressBar.duration(p.elapsed()));
    }

    private void printSummary(BatchHarvester.Result r, RunStore store, Budget budget, String provider) {
        BatchHarvester.Progress p = r.progress();
        PrintStream out = System.out;
        long open = store.batches(StoredBatch.State.OPEN).size();
        out.printf(Locale.ROOT, "harvest --batch %s%n", HarvestTerminal.how(r.outcome(), c.connection.budgetUsd,
                "stopped polling"));
        HarvestTerminal.promptsLine(out, p.promptsRead(), p.malformed(), r.malformedLines());
        out.printf(Locale.ROOT, "  batches   %s submitted now (%s requests), %s resumed from an earlier run, %s"
                        + " collected (%s, at %.2f× the online price)%n", ProgressBar.count(p.batchesSubmitted()),
                ProgressBar.count(p.submitted()), ProgressBar.count(p.resumed()),
                ProgressBar.count(p.batchesCollected()), provider.equals("anthropic") ? "Anthropic Message Batches"
                        : "OpenAI Batch API", c.batchPriceFactor);
        out.printf(Locale.ROOT, "  samples   %s answered now, %s failed, %s already stored, %s asked again in a"
                        + " later batch (expired, cancelled, or a retryable error)%n", ProgressBar.count(p.done()),
                ProgressBar.count(p.failed()), ProgressBar.count(p.alreadyDone()), ProgressBar.count(p.requeued()));
        HarvestTerminal.tokensLine(out, p.promptTokens(), p.completionTokens());
        Double limit = c.connection.budgetUsd;
        out.printf(Locale.ROOT, "  spend     $%.4f at the batch price%s%n", p.spentUsd(),
                limit == null ? "" : String.format(Locale.ROOT, " of $%.2f budget ($%.4f still held for"
                        + " open batches at their worst case)", limit, budget.reservedUsd()));
        out.printf(Locale.ROOT, "  time      %s, %s control calls retried (upload, create, poll, download)%n",
                ProgressBar.duration(p.elapsed()), ProgressBar.count(p.retries()));
        HarvestTerminal.runLine(out, c.run, store, "; " + open + " batches open");
        for (String note : r.notes()) out.println("  note      " + note);
        if (open > 0) {
            out.println("  open      the open batches are bought and run on at the provider: rerun the same command"
                    + " to collect them");
        }
        HarvestTerminal.failuresLine(out, c.run, store, p.failed());
    }
}
