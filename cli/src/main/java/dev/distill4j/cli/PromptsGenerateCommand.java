package dev.distill4j.cli;

import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.io.PromptReader;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.prompts.DiversityReport;
import dev.distill4j.prompts.PromptFilter;
import dev.distill4j.prompts.PromptPool;
import dev.distill4j.prompts.PromptSynthesizer;
import dev.distill4j.prompts.SynthesisMethod;
import dev.distill4j.prompts.SynthesizedPrompt;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.Harvester;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherSampling;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Have a teacher write new prompts from a few seed prompts (and topics), for a prompt set to harvest.",
                "",
                "self-instruct shows the teacher a few examples (seeds, and one of its own earlier prompts once "
                        + "there are some) and a topic, and asks for several new, different prompts; evol-instruct "
                        + "asks it to rewrite one prompt into a harder or rarer one (add constraints, deepen, "
                        + "concretize, more reasoning, add an input, or a new prompt of the same domain); mixed does "
                        + "both. Replies are filtered (length, refusals, request wording leaking in, rewrites that "
                        + "changed nothing) and every prompt kept is compared by embedding (bge-small-en-v1.5, "
                        + "in-process) with all seeds and kept prompts: one at --similarity or above is a "
                        + "near-duplicate and dropped.",
                "",
                "The teacher's requests are harvested into a work run (--work), so they get the harvest's "
                        + "concurrency, rate limits, retries and budget, and a rerun of the same command asks "
                        + "nothing twice: it replays what is stored and goes on. A larger --n extends the output. "
                        + "--budget-usd caps the work run as a whole: what earlier runs of the command spent counts.",
                "",
                "Output: an ordinary prompt file (JSONL: id, prompt, metadata with method, operation, topic, parent "
                        + "ids, round) that 'distill harvest --prompts' reads, and FILE.report.json with the "
                        + "diversity report printed at the end."},
        footer = {
                "",
                "Examples:",
                "  distill prompts generate --seed-prompts seeds.jsonl --n 2000 \\",
                "      --topics topics.txt --model gpt-4o-mini --out prompts.jsonl",
                "  distill prompts generate --seed-prompts seeds.jsonl --n 500 \\",
                "      --method evol-instruct --base-url http://localhost:8000/v1 \\",
                "      --model Qwen/Qwen2.5-7B-Instruct --out hard.jsonl",
                "",
                "Exit codes: 0 --n prompts written; 3 stopped early (budget, or the teacher kept only "
                        + "duplicates: see the report); 1 an error (nothing kept is lost: rerun to resume); "
                        + "2 bad usage; 130 interrupted by Ctrl-C (the prompts kept are written: rerun to go on)."})
final class PromptsGenerateCommand implements Callable<Integer> {
    @Option(names = "--seed-prompts", required = true, paramLabel = "FILE",
            description = "Seed prompts: JSONL ({\"prompt\": ...} or {\"messages\": [...]}) or CSV with a "
                    + "'prompt' column. A few dozen varied ones are enough.")
    Path seedPrompts;

    @Option(names = "--n", required = true, paramLabel = "N", description = "Prompts to write.")
    int n;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output prompt file (.jsonl).")
    Path out;

    @Option(names = "--method", paramLabel = "NAME", defaultValue = "self-instruct",
            description = "self-instruct, evol-instruct or mixed (default ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--topics", paramLabel = "FILE",
            description = "Topics, one per line: self-instruct requests cycle through them.")
    Path topicsFile;

    @Option(names = "--topic", paramLabel = "TEXT", description = "A topic (repeatable; added to --topics).")
    List<String> topics = new ArrayList<>();

    @Option(names = "--similarity", paramLabel = "COSINE", defaultValue = "0.9",
            description = "Embedding cosine at or above which a prompt is a near-duplicate of a seed or kept prompt "
                    + "(default ${DEFAULT-VALUE}; 1 = only exact duplicates).")
    double similarity;

    @Option(names = "--embedder", paramLabel = "MODEL", defaultValue = EmbeddingModels.DEFAULT_STUDENT_TOKENIZER,
            description = "Embedding model for near-duplicates: bge-small-en-v1.5, all-minilm-l6-v2, or an ONNX "
                    + "model folder (default ${DEFAULT-VALUE}).")
    String embedder;

    @Option(names = "--per-request", paramLabel = "N", defaultValue = "5",
            description = "New prompts asked per self-instruct request (default ${DEFAULT-VALUE}).")
    int perRequest;

    @Option(names = "--examples", paramLabel = "N", defaultValue = "3",
            description = "Example prompts shown per self-instruct request (default ${DEFAULT-VALUE}).")
    int examples;

    @Option(names = "--round-size", paramLabel = "N", defaultValue = "32",
            description = "Teacher requests per round at most (default ${DEFAULT-VALUE}); each round's kept prompts "
                    + "become examples and parents for the next.")
    int roundSize;

    @Option(names = "--max-rounds", paramLabel = "N", defaultValue = "1000",
            description = "Rounds at most (default ${DEFAULT-VALUE}); three rounds in a row that keep nothing stop "
                    + "it anyway.")
    int maxRounds;

    @Option(names = "--min-chars", paramLabel = "N", defaultValue = "12", description = "Shortest prompt kept.")
    int minChars;

    @Option(names = "--max-chars", paramLabel = "N", defaultValue = "4000", description = "Longest prompt kept.")
    int maxChars;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Seeds the example and operation draws (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--work", paramLabel = "DIR",
            description = "Work run holding every teacher request and reply (default: FILE.work next to --out).")
    Path work;

    @Option(names = "--quiet", description = "No progress bar; summary only.")
    boolean quiet;

    @Mixin
    TeacherConnectionOptions connection = new TeacherConnectionOptions();

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0",
            description = "Sampling temperature (default ${DEFAULT-VALUE}: variety is the point).")
    double temperature;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "1024",
            description = "Most tokens per teacher reply (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(seedPrompts)) throw new UserError("no seed prompt file at " + seedPrompts);
        List<String> allTopics = new ArrayList<>(topics);
        if (topicsFile != null) {
            if (!Files.isRegularFile(topicsFile)) throw new UserError("no topics file at " + topicsFile);
            for (String line : Files.readAllLines(topicsFile)) if (!line.isBlank()) allTopics.add(line.strip());
        }
        PromptSynthesizer.Options options = new PromptSynthesizer.Options(n, SynthesisMethod.parse(method),
                allTopics, examples, perRequest, roundSize, maxRounds, seed, connection.concurrency);
        PromptFilter filter = new PromptFilter(minChars, maxChars);
        List<Prompt> seeds = readSeeds();
        Path workDir = work != null ? work : out.resolveSibling(out.getFileName() + ".work");
        PrintStream err = System.err;
        TeacherSampling sampling = new TeacherSampling(temperature, null, maxTokens, false, null, List.of(), 0, null);
        try (Teacher teacher = connection.open(sampling, TeacherConfig.CHAT);
             EmbeddingModel model = EmbeddingModels.teacher(embedder);
             RunStore store = RunStore.open(workDir)) {
            double spentBefore = spentUsd(store);
            // one cap over every run of the command: what the work run's samples cost already counts
            Budget budget = connection.budget(1, spentBefore);
            writeManifest(teacher, workDir);
            PromptPool pool = new PromptPool(model, similarity);
            PromptSynthesizer synth = new PromptSynthesizer(teacher, store, workDir, pool, filter, options,
                    connection.rateLimiter(), budget, connection.backoff());
            AtomicReference<String> status = new AtomicReference<>("starting");
            AtomicReference<Harvester> harvesting = new AtomicReference<>();
            PromptSynthesizer.Result result;
            // Ctrl-C: the synthesizer stops after its requests in flight; the output, report and summary are written
            // before the exit
            try (CtrlC ctrlC = new CtrlC("prompts-interrupt", synth::stop)) {
                try (ProgressBar bar = new ProgressBar(err, quiet, () -> line(status.get(), harvesting.get()))) {
                    result = synth.run(seeds, out, new PromptSynthesizer.Listener() {
                        @Override public void harvesting(int round, Harvester h) {
                            harvesting.set(h);
                            status.set("round " + round);
                        }

                        @Override public void roundDone(PromptSynthesizer.Round r) {
                            harvesting.set(null);
                            status.set(String.format(Locale.ROOT, "round %d kept %d of %d candidates | %d/%d | $%.4f",
                                    r.round(), r.kept(), r.candidates(), r.totalKept(), n,
                                    spentBefore + r.spentUsd()));
                        }
                    });
                }
                DiversityReport report = report(pool, result);
                Path reportFile = out.resolveSibling(out.getFileName() + ".report.json");
                var json = report.toJson();
                json.put("stop", result.stop().name().toLowerCase(Locale.ROOT));
                json.put("rounds", result.rounds());
                json.put("teacher_requests_this_run", result.requests());
                json.put("spent_usd", spentBefore + budget.spentUsd());
                AtomicFiles.writeString(reportFile, Json.writePretty(json) + "\n");
                printSummary(result, report, spentBefore + budget.spentUsd(), reportFile, workDir);
                System.out.flush();
            }
            return switch (result.stop()) {
                case TARGET_REACHED -> 0;
                case BUDGET_REACHED, STALLED, MAX_ROUNDS -> 3;
                case INTERRUPTED -> CtrlC.EXIT_CODE;
                case FATAL -> throw new UserError(result.fatalMessage() + " — the " + result.kept().size()
                        + " prompts kept are in " + out + "; fix this and rerun the same command to resume");
            };
        }
    }

    private List<Prompt> readSeeds() throws Exception {
        List<Prompt> seeds = new ArrayList<>();
        try (PromptReader r = PromptReader.openUnique(seedPrompts)) {
            while (r.hasNext()) {
                PromptReader.Entry e = r.next();
                if (e instanceof PromptReader.Ok ok) seeds.add(ok.prompt());
                else throw new UserError("malformed seed prompt: " + e);
            }
        }
        if (seeds.isEmpty()) throw new UserError("no prompts in " + seedPrompts);
        return seeds;
    }

    private static double spentUsd(RunStore store) {
        double[] sum = {0};
        store.forEachSample(null, (p, s) -> sum[0] += s.costUsd());
        return sum[0];
    }

    private void writeManifest(Teacher teacher, Path workDir) throws Exception {
        RunManifest previous = RunManifest.exists(workDir) ? RunManifest.read(workDir) : null;
        Harvester.manifest(teacher, connection.apiKeyEnvFor(teacher), seedPrompts, previous)
                .write(workDir);
    }

    private static DiversityReport report(PromptPool pool, PromptSynthesizer.Result result) {
        int seeds = pool.seedCount();
        List<String> texts = pool.texts();
        List<float[]> vectors = pool.vectors();
        return DiversityReport.of(texts.subList(0, seeds), vectors.subList(0, seeds), result.kept(),
                vectors.subList(seeds, seeds + result.kept().size()), result.rejections());
    }

    private static String line(String status, Harvester h) {
        if (h == null) return "prompts " + status;
        Harvester.Progress p = h.progress();
        return String.format(Locale.ROOT, "prompts %s: %d/%d requests answered, %d in flight, %d failed",
                status, p.done() + p.alreadyDone(), p.samplesSeen(), p.inFlight(), p.failed());
    }

    private void printSummary(PromptSynthesizer.Result r, DiversityReport report, double spent, Path reportFile,
                              Path workDir) {
        PrintStream o = System.out;
        String how = switch (r.stop()) {
            case TARGET_REACHED -> "done";
            case BUDGET_REACHED -> "stopped at the budget";
            case STALLED -> "stopped: three rounds kept nothing new (more seeds or topics, a higher --similarity, "
                    + "or another --method may help)";
            case MAX_ROUNDS -> "stopped after --max-rounds";
            case INTERRUPTED -> "interrupted (rerun the same command to go on)";
            case FATAL -> "stopped by an error";
        };
        o.printf(Locale.ROOT, "prompts %s: %d of %d written to %s%n", how, r.kept().size(), n, out);
        o.printf(Locale.ROOT, "  teacher   %d requests this run over %d rounds, $%.4f spent in all (work run %s)%n",
                r.requests(), r.rounds(), spent, workDir);
        for (String l : report.lines()) o.println(l);
        o.println("  report    " + reportFile);
        if (!r.kept().isEmpty()) {
            SynthesizedPrompt last = r.kept().getLast();
            o.println("  last      " + abbreviate(last.text()));
        }
    }

    private static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ");
        return one.length() <= 100 ? one : one.substring(0, 97) + "...";
    }
}
