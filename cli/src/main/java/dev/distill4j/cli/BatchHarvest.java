package dev.distill4j.cli;

import dev.distill4j.core.RunManifest;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.io.PromptDuplicates;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.core.store.StoredBatch;
import dev.distill4j.teacher.Backoff;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

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
        PrintStream err = System.err;
        RunManifest manifest = Harvester.manifest(teacher, c.apiKeyEnvFor(teacher), c.prompts, previous);
        PromptDuplicates duplicates = c.scanPrompts();
        try (RunStore store = RunStore.open(c.run); BatchApi api = BatchApi.of(teacher, config)) {
            manifest.write(c.run);
            // the budget and every stored cost are at the batch price
            Budget budget = new Budget(c.priceIn * c.batchPriceFactor, c.priceOut * c.batchPriceFactor, c.budgetUsd);
            BatchHarvester harvester = new BatchHarvester(http, api, store, new BatchHarvester.Options(c.prompts,
                    c.samplesPerPrompt, c.retryFailed, c.strict, c.maxAttempts, seconds(c.pollInterval),
                    seconds(c.maxPollInterval), c.batchSize == null ? Integer.MAX_VALUE : c.batchSize,
                    c.resubmitUnconfirmed),
                    budget, new Backoff(c.maxAttempts)).withCheckedPrompts(duplicates);
            // Ctrl-C: stop polling and keep the batches open (they are bought; the rerun collects them)
            CountDownLatch finished = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                harvester.stop();
                try {
                    finished.await(15, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    // exiting anyway
                }
            }, "harvest-interrupt");
            Runtime.getRuntime().addShutdownHook(hook);
            BatchHarvester.Result result;
            try {
                try (ProgressBar bar = new ProgressBar(err, c.quiet, () -> line(harvester.progress()))) {
                    result = harvester.run();
                }
                printSummary(result, store, budget, api.provider());
                System.out.flush();
            } finally {
                finished.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is exiting because of Ctrl-C; the open batches stay in the run
                }
            }
            return switch (result.outcome()) {
                case COMPLETE, BUDGET_REACHED -> 0;
                case FATAL -> throw new UserError(result.fatal().getMessage()
                        + " — the batches submitted are kept in the run; fix this and rerun the same command to"
                        + " resume");
                case INTERRUPTED -> 130;
            };
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
        String how = switch (r.outcome()) {
            case COMPLETE -> "complete";
            case BUDGET_REACHED -> String.format(Locale.ROOT, "stopped at the budget of $%.4f", c.budgetUsd);
            case FATAL -> "stopped by an error";
            case INTERRUPTED -> "stopped polling";
        };
        out.printf(Locale.ROOT, "harvest --batch %s%n", how);
        out.printf(Locale.ROOT, "  prompts   %s read%s%n", ProgressBar.count(p.promptsRead()),
                p.malformed() > 0 ? " (" + p.malformed() + " malformed lines skipped: " + r.malformedLines().getFirst()
                        + (p.malformed() > 1 ? ", ..." : "") + ")" : "");
        out.printf(Locale.ROOT, "  batches   %s submitted now (%s requests), %s resumed from an earlier run, %s"
                        + " collected (%s, at %.2f× the online price)%n", ProgressBar.count(p.batchesSubmitted()),
                ProgressBar.count(p.submitted()), ProgressBar.count(p.resumed()),
                ProgressBar.count(p.batchesCollected()), provider.equals("anthropic") ? "Anthropic Message Batches"
                        : "OpenAI Batch API", c.batchPriceFactor);
        out.printf(Locale.ROOT, "  samples   %s answered now, %s failed, %s already stored, %s asked again in a"
                        + " later batch (expired, cancelled, or a retryable error)%n", ProgressBar.count(p.done()),
                ProgressBar.count(p.failed()), ProgressBar.count(p.alreadyDone()), ProgressBar.count(p.requeued()));
        out.printf(Locale.ROOT, "  tokens    %s prompt + %s completion%n", ProgressBar.count(p.promptTokens()),
                ProgressBar.count(p.completionTokens()));
        out.printf(Locale.ROOT, "  spend     $%.4f at the batch price%s%n", p.spentUsd(),
                c.budgetUsd == null ? "" : String.format(Locale.ROOT, " of $%.2f budget ($%.4f still held for"
                        + " open batches at their worst case)", c.budgetUsd, budget.reservedUsd()));
        out.printf(Locale.ROOT, "  time      %s, %s control calls retried (upload, create, poll, download)%n",
                ProgressBar.duration(p.elapsed()), ProgressBar.count(p.retries()));
        out.printf(Locale.ROOT, "  run       %s: %s done, %s failed, %s pending in store; %d batches open%n", c.run,
                ProgressBar.count(store.count(SampleStatus.DONE)), ProgressBar.count(store.count(SampleStatus.FAILED)),
                ProgressBar.count(store.count(SampleStatus.PENDING)), open);
        for (String note : r.notes()) out.println("  note      " + note);
        if (open > 0) {
            out.println("  open      the open batches are bought and run on at the provider: rerun the same command"
                    + " to collect them");
        }
        if (p.failed() > 0 || store.count(SampleStatus.FAILED) > 0) {
            out.println("  failures  see 'distill inspect " + c.run + "'; rerun with --retry-failed to ask again");
        }
    }
}
