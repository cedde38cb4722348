package dev.distill4j.cli;

import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.io.PromptReader;
import dev.distill4j.guard.audit.AuditProgress;
import dev.distill4j.guard.audit.AuditReport;
import dev.distill4j.guard.audit.AuditText;
import dev.distill4j.guard.audit.ClosedAudit;
import dev.distill4j.guard.audit.OpenAudit;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherSampling;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "audit", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Radioactivity audit: was a suspect model trained on your watermarked texts?",
                "",
                "Open mode (--suspect DIR, a model folder with the key's tokenizer): the watermarked texts are read "
                        + "through the suspect, teacher-forced, and its most likely next token at each position is "
                        + "scored with the key. Closed mode (--suspect URL --model NAME --tokenizer DIR): the "
                        + "suspect's OpenAI-compatible chat API is prompted with the prompts the watermarked texts "
                        + "answered (or --prompts), and its answers are scored where their window occurs in the "
                        + "watermarked texts. Each (window, token) tuple counts once; the p-value is exact for a "
                        + "model never trained on the watermark (see docs/guard.md). A suspect with another "
                        + "tokenizer than the key's is out of scope."},
        footer = {
                "",
                "Examples:",
                "  distill guard audit --key wm.key --watermarked harvest.jsonl \\",
                "      --suspect students/s1",
                "  distill guard audit --key wm.key --watermarked harvest.jsonl \\",
                "      --tokenizer models/teacher \\",
                "      --suspect http://10.0.0.5:8000/v1 --model their-model --api-key-env THEIR_KEY --json"})
final class GuardAuditCommand implements Callable<Integer> {
    @Option(names = "--key", required = true, paramLabel = "KEY", description = "The watermark key file.")
    Path keyFile;

    @Option(names = "--watermarked", required = true, arity = "1..*", paramLabel = "FILE",
            description = "The watermarked texts you served: text files (one text each) or JSONL with \"text\" and "
                    + "optional \"prompt\", or OpenAI chat lines ending in the assistant's answer.")
    List<Path> watermarked = new ArrayList<>();

    @Option(names = "--suspect", required = true, paramLabel = "DIR|URL",
            description = "A model folder (open mode) or the base URL of an OpenAI-compatible API (closed mode), "
                    + "e.g. http://host:8000/v1.")
    String suspect;

    @Option(names = "--model", paramLabel = "NAME", description = "Closed mode: the model name the API serves.")
    String model;

    @Option(names = "--api-key-env", paramLabel = "VAR",
            description = "Closed mode: the environment variable holding the API key (default OPENAI_API_KEY; "
                    + "may be unset for a server without auth).")
    String apiKeyEnv;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Closed mode: the watermarked model's folder, whose tokenizer the key was made for.")
    Path tokenizerDir;

    @Option(names = "--prompts", paramLabel = "FILE",
            description = "Closed mode: prompts to send (JSONL or CSV as 'distill harvest' reads). Default: the "
                    + "prompts in the watermarked JSONL.")
    Path promptsFile;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "1",
            description = "Closed mode: answers per prompt (seeds seed, seed+1, ...; default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "256",
            description = "Closed mode: max_tokens per answer (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8",
            description = "Closed mode: sampling temperature (default ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Closed mode: sampling seed sent with the requests (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--concurrency", paramLabel = "N", defaultValue = "8",
            description = "Closed mode: requests in flight (default ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--max-attempts", paramLabel = "N", defaultValue = "" + Backoff.DEFAULT_MAX_ATTEMPTS,
            description = "Closed mode: attempts per request, retries of 429 / 5xx / timeouts included "
                    + "(default ${DEFAULT-VALUE}).")
    int maxAttempts;

    @Option(names = "--request-timeout", paramLabel = "SECONDS", defaultValue = "300",
            description = "Closed mode: limit for one request (default ${DEFAULT-VALUE}).")
    long requestTimeoutSeconds;

    @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "4096",
            description = "Open mode: padded tokens per forward pass (default ${DEFAULT-VALUE}).")
    int batchTokens;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "1e-3",
            description = "Significance level of the verdict (default ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--json", description = "Print the report as JSON on stdout.")
    boolean json;

    @Option(names = {"-q", "--quiet"}, description = "No progress on stderr.")
    boolean quiet;

    @Spec CommandSpec spec;

    private volatile String phase = "starting";
    private volatile long done;
    private volatile long total;

    @Override
    public Integer call() throws Exception {
        if (!(alpha > 0 && alpha < 1)) throw new UserError("--alpha must be in (0, 1), got " + alpha, Errors.USAGE);
        boolean closed = isUrl(suspect);
        if (closed) checkClosedFlags();
        else checkOpenFlags();
        WatermarkKey key = WatermarkKey.read(keyFile);
        Watermark wm = Watermark.of(key);
        List<AuditText> texts = AuditText.read(watermarked);
        PrintStream err = System.err;
        AuditReport report;
        AuditProgress progress = (p, d, t) -> {
            phase = p;
            done = d;
            total = t;
        };
        try (ProgressBar bar = new ProgressBar(err, quiet || json && System.console() == null, this::progressLine)) {
            report = closed ? closedAudit(wm, texts, progress) : openAudit(wm, texts, progress);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) out.println(Json.writePretty(report.toJson(alpha)));
        else report.summary(alpha).forEach(out::println);
        out.flush();
        return 0;
    }

    private String progressLine() {
        long t = total;
        return String.format(Locale.ROOT, "audit: %s %s %d/%d", phase, ProgressBar.bar(t == 0 ? 0 : (double) done / t,
                30), done, t);
    }

    private AuditReport openAudit(Watermark wm, List<AuditText> texts, AuditProgress progress) throws IOException {
        Path dir = Path.of(suspect);
        if (!Files.isDirectory(dir)) {
            throw new UserError("--suspect " + suspect + " is neither a model folder nor an http(s) URL");
        }
        try (LocalModel m = LocalModel.load(dir)) {
            return OpenAudit.of(wm, m, batchTokens).run(texts, progress);
        }
    }

    private AuditReport closedAudit(Watermark wm, List<AuditText> texts, AuditProgress progress) throws IOException {
        List<Prompt> prompts = promptsFile != null ? readPrompts(promptsFile) : promptsOf(texts);
        if (prompts.isEmpty()) {
            throw new UserError("closed mode needs prompts: give --prompts FILE, or watermarked JSONL lines with a "
                    + "\"prompt\" (or \"messages\")");
        }
        if (apiKeyEnv != null && (System.getenv(apiKeyEnv) == null || System.getenv(apiKeyEnv).isBlank())) {
            throw new UserError("--api-key-env names " + apiKeyEnv + ", which is not set");
        }
        URI url;
        try {
            url = URI.create(suspect);
        } catch (IllegalArgumentException e) {
            throw new UserError("--suspect " + suspect + " is not a valid URL: " + e.getMessage(), Errors.USAGE);
        }
        TeacherSampling sampling = new TeacherSampling(temperature, null, maxTokens, false, seed, List.of(), 0, null);
        try (HfTokenizer tok = HfTokenizer.load(tokenizerDir);
             Teacher client = ClosedAudit.client(url, model, apiKeyEnv, System.getenv(), sampling,
                     Duration.ofSeconds(requestTimeoutSeconds))) {
            return new ClosedAudit(wm, tok, client, concurrency, new Backoff(maxAttempts))
                    .run(texts, prompts, samples, progress);
        }
    }

    /** The distinct prompts of the watermarked texts, in order. */
    static List<Prompt> promptsOf(List<AuditText> texts) {
        Set<Object> seen = new LinkedHashSet<>();
        List<Prompt> out = new ArrayList<>();
        for (AuditText t : texts) {
            if (!t.hasPrompt() || !seen.add(t.prompt())) continue;
            out.add(new Prompt("w" + out.size(), null, t.prompt(), null, "--watermarked", out.size() + 1));
        }
        return out;
    }

    private static List<Prompt> readPrompts(Path file) throws IOException {
        List<Prompt> out = new ArrayList<>();
        try (PromptReader r = PromptReader.openUnique(file)) {
            while (r.hasNext()) {
                switch (r.next()) {
                    case PromptReader.Ok ok -> out.add(ok.prompt());
                    case PromptReader.Malformed bad -> throw new UserError(bad.toString());
                }
            }
        }
        return out;
    }

    private void checkClosedFlags() {
        if (model == null) throw new UserError("a URL --suspect needs --model NAME (the model the API serves)", Errors.USAGE);
        if (tokenizerDir == null) {
            throw new UserError("a URL --suspect needs --tokenizer DIR: the watermarked model's folder, to tokenize the "
                    + "suspect's answers as the key expects", Errors.USAGE);
        }
        if (samples < 1) throw new UserError("--samples must be >= 1", Errors.USAGE);
        if (maxTokens < 1) throw new UserError("--max-tokens must be >= 1", Errors.USAGE);
        if (concurrency < 1) throw new UserError("--concurrency must be >= 1", Errors.USAGE);
        if (maxAttempts < 1) throw new UserError("--max-attempts must be >= 1", Errors.USAGE);
        if (requestTimeoutSeconds < 1) throw new UserError("--request-timeout must be >= 1", Errors.USAGE);
        if (temperature < 0) throw new UserError("--temperature must be >= 0", Errors.USAGE);
    }

    private void checkOpenFlags() {
        List<String> closedOnly = new ArrayList<>();
        if (model != null) closedOnly.add("--model");
        if (apiKeyEnv != null) closedOnly.add("--api-key-env");
        if (tokenizerDir != null) closedOnly.add("--tokenizer");
        if (promptsFile != null) closedOnly.add("--prompts");
        if (!closedOnly.isEmpty()) {
            throw new UserError(String.join(", ", closedOnly) + " only apply to a closed audit (--suspect URL); a "
                    + "model folder is read with its own tokenizer and the texts' own prompts", Errors.USAGE);
        }
        if (batchTokens < 1) throw new UserError("--batch-tokens must be >= 1", Errors.USAGE);
    }

    private static boolean isUrl(String s) {
        String l = s.toLowerCase(Locale.ROOT);
        return l.startsWith("http://") || l.startsWith("https://");
    }
}
