package dev.distill4j.cli;

import dev.distill4j.core.RunManifest;
import dev.distill4j.core.io.PromptDuplicates;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.model.local.LocalTeacher;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.HarvestEstimate;
import dev.distill4j.teacher.Harvester;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.Teachers;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "harvest", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Query a teacher over a prompt set and store every answer in a run.",
                "",
                "Resumable: each sample has a content key (prompt + teacher + sampling parameters + sample index); "
                        + "re-running the same command only asks for what is missing, also after a crash or kill. "
                        + "Changing a sampling parameter makes new samples instead of reusing old ones. In a run that "
                        + "holds samples already, --provider and --model left out are the run's teacher's, and so "
                        + "are --endpoint, --base-url and --api-key-env for the same provider.",
                "",
                "Prompts: JSONL lines {\"prompt\": \"...\"} or {\"messages\": [...]} with optional \"id\" and "
                        + "\"metadata\"; or CSV with a 'prompt' column. One id names one prompt: two lines with the "
                        + "same id and different prompts are refused before anything is sent; a line that repeats "
                        + "another exactly is asked once.",
                "",
                "Active harvesting (--active --student DIR --budget-usd X): instead of buying every prompt, buy in "
                        + "rounds where the student is weakest. A share of the pool is held out and bought first "
                        + "(--eval-fraction); each round the student measures how far it is from the teacher's "
                        + "held-out answers, prompts are drawn in proportion to the divergence a dollar is expected to "
                        + "remove near them (--select gain; or by the student's own uncertainty), the student is "
                        + "retrained on everything bought (--train-steps) and its top-1 agreement with the teacher on "
                        + "the held-out answers is logged to <run>/active/rounds.jsonl. The budget is a hard cap; a "
                        + "killed run resumes at its round and never buys an answer twice."},
        footer = {
                "",
                "Examples:",
                "  distill harvest --run runs/math --prompts prompts.jsonl --model gpt-4o-mini \\",
                "      --top-logprobs 20 \\",
                "      --price-in 0.15 --price-out 0.60 --budget-usd 5",
                "  distill harvest --run runs/local --prompts p.jsonl \\",
                "      --base-url http://localhost:8000/v1 --model Qwen/Qwen2.5-7B-Instruct \\",
                "      --top-logprobs 5",
                "  distill harvest --run runs/claude --prompts p.jsonl --provider anthropic \\",
                "      --model claude-sonnet-4-5 --max-tokens 1024",
                "  distill harvest --run runs/night --prompts p.jsonl --model gpt-4o-mini \\",
                "      --batch --price-in 0.15 --price-out 0.60 --budget-usd 5",
                "  distill harvest --run runs/selfhost --prompts p.jsonl --provider local \\",
                "      --model-dir models/Qwen2.5-1.5B-Instruct --top-logprobs 20",
                "  distill harvest --run runs/act --prompts pool.jsonl --model gpt-4o-mini \\",
                "      --top-logprobs 20 --price-in 0.15 --price-out 0.60 \\",
                "      --active --student models/init --budget-usd 2 --rounds 5",
                "",
                "Exit codes: 0 every sample stored (answered, or failed after retries: see 'distill inspect'), "
                        + "or stopped at the budget; 1 a fatal error (bad key, unknown model, unreachable host); "
                        + "2 bad usage; 130 interrupted by Ctrl-C (what was answered is stored: rerun to go on)."})
final class HarvestCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, paramLabel = "DIR", description = "Run folder (created if missing).")
    Path run;

    @Option(names = "--prompts", required = true, paramLabel = "FILE", description = "Prompt file: .jsonl or .csv.")
    Path prompts;

    @Mixin
    TeacherConnectionOptions connection = new TeacherConnectionOptions();

    @Option(names = "--endpoint", paramLabel = "KIND",
            description = "chat (Chat Completions) or completions (legacy /v1/completions for raw-text prompts). "
                    + "Default: chat. With --provider local: completions (the default) generates from raw-text "
                    + "prompts as they are and from chat prompts through the model's chat template; chat puts every "
                    + "prompt through the template.")
    String endpoint;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "512",
            description = "Most tokens per answer (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--max-completion-tokens", description = "Send max_completion_tokens instead of max_tokens "
            + "(OpenAI reasoning models).")
    boolean maxCompletionTokens;

    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature (default: the teacher's).")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling mass (default: the teacher's).")
    Double topP;

    @Option(names = "--seed", paramLabel = "S", description = "Sampling seed, where the teacher supports one.")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop sequence (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--top-logprobs", paramLabel = "K", defaultValue = "0",
            description = "Alternatives with logprobs per generated token (OpenAI ≤ 20). Enables top-k "
                    + "distillation; 0 = text only.")
    int topLogprobs;

    @Option(names = "--samples-per-prompt", paramLabel = "N", defaultValue = "1",
            description = "Answers per prompt, each its own request (default ${DEFAULT-VALUE}).")
    int samplesPerPrompt;

    @Option(names = "--system", paramLabel = "TEXT", description = "System prompt for every chat.")
    String system;

    @Option(names = "--batch", description = "Use the provider's batch API instead of one request per sample "
            + "(OpenAI's Batch API, Anthropic's Message Batches): half the price, answers within 24 h. The batch ids "
            + "are kept in the run: rerun the same command to go on polling after a stop or kill; nothing is bought "
            + "twice.")
    boolean batch;

    @Option(names = "--poll-interval", paramLabel = "SECONDS", defaultValue = "15",
            description = "With --batch: first wait between polls; it grows by half while nothing changes, up to "
                    + "--max-poll-interval (default ${DEFAULT-VALUE}).")
    double pollInterval;

    @Option(names = "--max-poll-interval", paramLabel = "SECONDS", defaultValue = "300",
            description = "With --batch: longest wait between polls (default ${DEFAULT-VALUE}).")
    double maxPollInterval;

    @Option(names = "--batch-size", paramLabel = "N",
            description = "With --batch: most requests per batch (default: the provider's limit, 50,000 for OpenAI, "
                    + "100,000 for Anthropic; files stay under 200 MB / 256 MB).")
    Integer batchSize;

    @Option(names = "--batch-price-factor", paramLabel = "F", defaultValue = "0.5",
            description = "With --batch: the batch price as a fraction of --price-in/--price-out (default "
                    + "${DEFAULT-VALUE}: OpenAI and Anthropic bill batches at half).")
    double batchPriceFactor;

    @Option(names = "--resubmit-unconfirmed", description = "With --batch: a batch whose create call got no answer "
            + "is looked up at the provider before its requests are sent again (Anthropic: by creation time and "
            + "request count). When several batches may be it and none has ended, the harvest stops and names them; "
            + "this flag submits the requests again instead (bought twice if one of them was this run's).")
    boolean resubmitUnconfirmed;

    @Option(names = "--dry-run", description = "Count the requests to make, their tokens (system prompt and chat "
            + "framing included) and worst-case cost; send nothing.")
    boolean dryRun;

    @Option(names = "--retry-failed", description = "Ask again for samples stored as failed.")
    boolean retryFailed;

    @Option(names = "--strict", description = "Abort on the first malformed prompt line (default: skip it).")
    boolean strict;

    @Option(names = "--quiet", description = "No progress bar; summary only.")
    boolean quiet;

    @picocli.CommandLine.Mixin
    ActiveHarvest active = new ActiveHarvest();

    @Override
    public Integer call() throws Exception {
        validate();
        RunManifest previous = RunManifest.exists(run) ? RunManifest.read(run) : null;
        String prov = connection.provider(previous == null ? null : previous.provider());
        // resuming a run: what is left out is the run's teacher (its URL, key variable and endpoint only when the
        // provider is the same)
        RunManifest sameProvider = previous != null && prov.equals(previous.provider()) ? previous : null;
        TeacherSampling sampling = new TeacherSampling(temperature, topP, maxTokens, maxCompletionTokens, seed, stop,
                topLogprobs, system);
        if (prov.equals(LocalTeacher.PROVIDER)) {
            if (batch) {
                throw new UserError("--batch needs a provider with a batch API (openai, anthropic); a local model"
                        + " answers online only: drop --batch", Errors.USAGE);
            }
            // a model folder answering in-process; the harvester's concurrency only queues requests for it
            String ep = endpoint != null ? endpoint : sameProvider != null ? sameProvider.endpoint()
                    : LocalTeacher.COMPLETIONS;
            try (Teacher teacher = connection.openLocal(sampling, ep)) {
                if (active.enabled) return active.run(this, teacher);
                return dryRun ? dryRun(teacher) : harvest(teacher, previous);
            }
        }
        String ep = endpoint != null ? endpoint : sameProvider != null ? sameProvider.endpoint() : TeacherConfig.CHAT;
        TeacherConfig config = connection.http(prov, ep, sameProvider, previous == null ? null : previous.model(),
                sampling, !dryRun);
        try (Teacher teacher = Teachers.create(config)) {
            if (active.enabled) return active.run(this, teacher);
            if (dryRun) return dryRun(teacher);
            return batch ? new BatchHarvest(this).run(teacher, config, previous) : harvest(teacher, previous);
        }
    }

    private void validate() {
        if (!Files.isRegularFile(prompts)) throw new UserError("no prompt file at " + prompts);
        connection.validate();
        if (batch) {
            if (!(pollInterval > 0) || !(maxPollInterval > 0)) {
                throw new UserError("--poll-interval and --max-poll-interval must be positive", Errors.USAGE);
            }
            if (!(batchPriceFactor > 0) || batchPriceFactor > 1) {
                throw new UserError("--batch-price-factor must be in (0, 1]", Errors.USAGE);
            }
            if (batchSize != null && batchSize < 1) throw new UserError("--batch-size must be ≥ 1", Errors.USAGE);
        }
        active.validate(this);
    }

    private int harvest(Teacher teacher, RunManifest previous) throws Exception {
        PrintStream err = System.err;
        RunManifest manifest = Harvester.manifest(teacher, connection.apiKeyEnvFor(teacher), prompts, previous);
        if (previous != null && (!previous.model().equals(manifest.model())
                || !previous.provider().equals(manifest.provider()))) {
            err.println("note: this run already holds samples from " + previous.provider() + "/" + previous.model()
                    + "; samples from " + manifest.provider() + "/" + manifest.model() + " are added beside them.");
        }
        // before the run folder is touched: a file that reuses an id for another prompt is refused with nothing made
        PromptDuplicates duplicates = scanPrompts();
        long expected = Math.max(1, duplicates.prompts() * samplesPerPrompt);
        try (RunStore store = RunStore.open(run)) {
            manifest.write(run);
            Budget budget = connection.budget(1, 0);
            Harvester harvester = new Harvester(teacher, store,
                    new Harvester.Options(prompts, samplesPerPrompt, connection.concurrency, retryFailed, strict),
                    connection.rateLimiter(), budget, connection.backoff()).withCheckedPrompts(duplicates);
            // Ctrl-C: stop asking; the writer stores what was answered and the summary is printed before the exit
            Harvester.Result result = HarvestTerminal.run(quiet, harvester::stop,
                    () -> line(harvester.progress(), expected), harvester::run, r -> printSummary(r, store, budget));
            return HarvestTerminal.exitCode(result.outcome(), result.fatal(),
                    "nothing stored was lost; fix this and rerun the same command to resume");
        }
    }

    private static String line(Harvester.Progress p, long expected) {
        double secs = Math.max(1e-3, p.elapsed().toNanos() / 1e9);
        long finished = p.done() + p.failed();
        long total = Math.max(expected - p.alreadyDone(), p.queued());
        double rate = finished / secs;
        String eta = rate > 0 && total > finished
                ? ProgressBar.duration(Duration.ofSeconds((long) ((total - finished) / rate))) : "-";
        return String.format(Locale.ROOT,
                "harvest %s %s/%s done %s failed %d in flight | %.1f req/s %.0f tok/s | $%.4f | %s ETA %s",
                ProgressBar.bar(total == 0 ? 1 : (double) finished / total, 20), ProgressBar.count(p.done()),
                ProgressBar.count(total), ProgressBar.count(p.failed()), p.inFlight(), rate,
                p.completionTokens() / secs, p.spentUsd(), ProgressBar.duration(p.elapsed()), eta);
    }

    private void printSummary(Harvester.Result r, RunStore store, Budget budget) {
        Harvester.Progress p = r.progress();
        double secs = Math.max(1e-3, p.elapsed().toNanos() / 1e9);
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "harvest %s%n", HarvestTerminal.how(r.outcome(), connection.budgetUsd, "interrupted"));
        HarvestTerminal.promptsLine(out, p.promptsRead(), p.malformed(), r.malformedLines());
        out.printf(Locale.ROOT, "  samples   %s answered now, %s failed, %s already stored, %s retries%n",
                ProgressBar.count(p.done()), ProgressBar.count(p.failed()), ProgressBar.count(p.alreadyDone()),
                ProgressBar.count(p.retries()));
        HarvestTerminal.tokensLine(out, p.promptTokens(), p.completionTokens());
        out.printf(Locale.ROOT, "  spend     $%.4f%s%s%n", p.spentUsd(),
                connection.budgetUsd == null ? "" : String.format(Locale.ROOT, " of $%.2f budget",
                        connection.budgetUsd),
                budget.attemptsAtWorstCase() == 0 ? "" : String.format(Locale.ROOT,
                        " (of which $%.4f for %d lost answers, counted at their worst case)",
                        budget.spentAtWorstCaseUsd(), budget.attemptsAtWorstCase()));
        out.printf(Locale.ROOT, "  time      %s, %.1f req/s%n", ProgressBar.duration(p.elapsed()), p.done() / secs);
        HarvestTerminal.runLine(out, run, store, "");
        HarvestTerminal.failuresLine(out, run, store, p.failed());
    }

    /** Prints what the harvest would send and its worst-case cost (estimated by {@link HarvestEstimate}). */
    private int dryRun(Teacher teacher) throws IOException {
        HarvestEstimate e;
        PromptDuplicates checked = scanPrompts();
        try (RunStore store = Files.isRegularFile(run.resolve(RunStore.FILE)) ? RunStore.openExisting(run) : null) {
            double f = batch ? batchPriceFactor : 1;
            e = HarvestEstimate.of(teacher, prompts, checked, store, samplesPerPrompt,
                    new Budget(connection.priceIn * f, connection.priceOut * f, null), retryFailed, strict);
        } catch (Harvester.MalformedPromptException bad) {
            throw new UserError(bad.getMessage());
        }
        PrintStream out = System.out;
        out.println("dry run: nothing was sent" + (batch ? String.format(Locale.ROOT,
                " (--batch: priced at %.2f× --price-in/--price-out)", batchPriceFactor) : ""));
        out.printf(Locale.ROOT, "  prompts        %s (%s malformed lines)%n", ProgressBar.count(e.prompts()),
                e.malformed());
        out.printf(Locale.ROOT, "  samples        %s, of which %s already stored, %s to request%n",
                ProgressBar.count(e.samples()), ProgressBar.count(e.stored()), ProgressBar.count(e.toRequest()));
        out.printf(Locale.ROOT, "  prompt tokens  ~%s to send, at most %s (system prompt and chat framing included;"
                        + " estimate ~4 characters per token, bound 1 token per byte)%n",
                ProgressBar.count(e.promptTokens()), ProgressBar.count(e.promptTokenBound()));
        out.printf(Locale.ROOT, "  output tokens  at most %s (%d per sample)%n",
                ProgressBar.count(e.maxOutputTokens()), maxTokens);
        if (connection.priceIn == 0 && connection.priceOut == 0) {
            out.println("  cost           give --price-in and --price-out (USD per 1 M tokens) for a cost estimate");
        } else {
            out.printf(Locale.ROOT, "  worst case     $%.4f: every answer at its max tokens, prompts at 1 token per"
                    + " byte (~$%.4f at the prompt estimate)%n", e.worstCaseUsd(), e.expectedUsd());
            Double limit = connection.budgetUsd;
            if (limit != null) {
                out.printf(Locale.ROOT, "  budget         $%.2f%s%n", limit, e.worstCaseUsd() > limit
                        ? ": the harvest may stop at the budget (each request reserves its worst case until its"
                                + " answer settles it)"
                        : ": enough for the worst case");
            }
        }
        return 0;
    }

    /**
     * The prompt file held to one id per prompt, within itself and against the prompts the run already holds; its
     * exact duplicate lines are announced in one line.
     */
    PromptDuplicates scanPrompts() throws IOException {
        PromptDuplicates duplicates;
        boolean resumed = Files.isRegularFile(run.resolve(RunStore.FILE));
        try (RunStore existing = resumed ? RunStore.openExisting(run) : null) {
            duplicates = PromptDuplicates.scan(prompts, existing);
        } catch (NoSuchFileException e) {
            throw new UserError("no prompt file at " + prompts);
        }
        if (duplicates.count() > 0) System.err.println("note: " + duplicates.notice());
        return duplicates;
    }
}
