package dev.distill4j.cli;

import ch.qos.logback.classic.Level;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.model.local.LocalModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import dev.distill4j.guard.online.GuardPolicy;
import dev.distill4j.guard.online.OnlineGuard;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.model.generate.SamplingParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model folder over an OpenAI-compatible API (/v1/chat/completions, /v1/completions, "
                + "/v1/embeddings, /v1/models, /health, /metrics) until Ctrl-C. An embedding student folder (from "
                + "'distill embed distill') is served on /v1/embeddings."},
        footer = {
                "",
                "Example: distill serve --model runs/math/student --port 8000",
                "         OPENAI_API_KEY=sk-local distill serve --model runs/math/student \\",
                "             --api-key-env OPENAI_API_KEY",
                "Then point any OpenAI client at http://127.0.0.1:8000/v1, or harvest from it:",
                "         distill harvest --base-url http://127.0.0.1:8000/v1 --model student \\",
                "             --top-logprobs 5 ...",
                "Watermarked:  distill guard keygen --scheme kgw --tokenizer runs/math/student \\",
                "                 --out wm.key",
                "             distill serve --model runs/math/student --watermark wm.key",
                "Accounts:    distill serve --model runs/math/student --keys keys.jsonl \\",
                "                --request-log logs/",
                "            (keys.jsonl, one account per line:",
                "             {\"name\": \"acme\", \"key\": \"sk-...\", \"rpm\": 60, \"tpm\": 40000})",
                "Online guard: distill serve --model runs/math/student --keys keys.jsonl \\",
                "                 --guard policy.json",
                "            (flags, throttles or blocks accounts that look like extraction; docs/guard.md)",
                "Embeddings: distill serve --model runs/embed/static      (a student folder)",
                "            distill serve --embedding-teacher bge-small-en-v1.5"})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR",
            description = "Hugging Face model folder (config.json, model.safetensors, tokenizer.json, "
                    + "tokenizer_config.json), or an embedding student folder.")
    Path model;

    @Option(names = "--embedding-teacher", paramLabel = "TEACHER",
            description = "Also (or only) serve an embedding teacher on /v1/embeddings: bge-small-en-v1.5, "
                    + "all-minilm-l6-v2 or an ONNX folder. Its name is its id or folder name.")
    String embeddingTeacher;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "Interface to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for all).")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8000",
            description = "Port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--api-key-env", paramLabel = "VAR",
            description = "Environment variable holding the key clients must send as 'Authorization: Bearer KEY'. "
                    + "Default: no key required.")
    String apiKeyEnv;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "8",
            description = "Most sequences in the running batch, i.e. rows of one decode step "
                    + "(default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "256",
            description = "Most sequences waiting; beyond it requests get 429 (default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--served-model-name", paramLabel = "NAME",
            description = "Name clients pass as 'model' (default: the folder's name).")
    String servedModelName;

    @Option(names = "--default-max-tokens", paramLabel = "N", defaultValue = "512",
            description = "Completion tokens when a request sets no max_tokens (default ${DEFAULT-VALUE}).")
    int defaultMaxTokens;

    @Option(names = "--keys", paramLabel = "FILE",
            description = "Accounts, one JSON object a line: {\"name\": \"acme\", \"key\": \"sk-...\"} (or "
                    + "\"key_sha256\") with optional \"rpm\", \"tpm\", \"daily_tokens\" limits. Every /v1 request "
                    + "needs one of the keys; the file is re-read when it changes. Not with --api-key-env.")
    Path keys;

    @Option(names = "--request-log", paramLabel = "DIR",
            description = "Write one JSON record per /v1 request to DIR/requests-current.jsonl, rotated (64 MiB, UTC "
                    + "midnight, at stop) into requests-<yyyyMMdd-HHmmss>.jsonl.gz (docs/guard.md).")
    Path requestLog;

    @Option(names = "--log-prompts", paramLabel = "full|hash", defaultValue = "full",
            description = "With --request-log: 'full' records the prompt text, 'hash' only its SHA-256 "
                    + "(default ${DEFAULT-VALUE}).")
    String logPrompts;

    @Option(names = "--guard", paramLabel = "POLICY",
            description = "Score each account's behaviour as its requests finish (logprobs, temperature 0, n, "
                    + "template reuse, chain-of-thought phrasing, rate, timing) and flag, throttle (429) or block "
                    + "(403) it by the JSON policy (docs/guard.md, 'Online mode'). The account is the --keys "
                    + "account, or the client address without --keys.")
    Path guardPolicy;

    @Mixin
    WatermarkOption watermark;

    @Mixin
    QuantizeOption quantize;

    @Override
    public Integer call() throws Exception {
        if (maxBatch < 1) throw new UserError("--max-batch must be at least 1, got " + maxBatch);
        if (maxQueue < 1) throw new UserError("--max-queue must be at least 1, got " + maxQueue);
        if (port < 0 || port > 65535) throw new UserError("--port must be 0..65535, got " + port);
        if (model == null && embeddingTeacher == null) {
            throw new UserError("give --model DIR (a model or embedding student folder) or --embedding-teacher TEACHER");
        }
        if (model != null && !Files.isDirectory(model)) {
            throw new UserError("--model " + model + " is not a folder; give a model folder with config.json, "
                    + "model.safetensors and tokenizer.json");
        }
        boolean student = model != null && EmbeddingModels.isStudent(model);
        if (student && embeddingTeacher != null) {
            throw new UserError("--model " + model + " is an embedding student and --embedding-teacher is another "
                    + "embedding model; serve one embedding model at a time");
        }
        if (keys != null && apiKeyEnv != null) {
            throw new UserError("give either --keys FILE (accounts) or --api-key-env VAR (one shared key), not both");
        }
        if (keys != null && !Files.isRegularFile(keys)) {
            throw new UserError("--keys " + keys + " is not a file; give a JSONL file with one account a line, e.g. "
                    + "{\"name\": \"acme\", \"key\": \"sk-...\", \"rpm\": 60}");
        }
        if (!logPrompts.equals("full") && !logPrompts.equals("hash")) {
            throw new UserError("--log-prompts must be 'full' or 'hash', got '" + logPrompts + "'");
        }
        if (requestLog != null && Files.exists(requestLog) && !Files.isDirectory(requestLog)) {
            throw new UserError("--request-log " + requestLog + " is a file; give a folder (it is created if missing)");
        }
        GuardPolicy policy = null;
        if (guardPolicy != null) {
            if (!Files.isRegularFile(guardPolicy)) {
                throw new UserError("--guard " + guardPolicy + " is not a file; give a JSON policy, e.g. "
                        + "{\"features\": {\"logprobs_share\": 0.5, \"template_share\": 0.5}, \"levels\": "
                        + "[{\"fired\": 2, \"action\": \"block\"}]} (docs/guard.md)");
            }
            policy = GuardPolicy.read(guardPolicy);      // before the model loads: a bad policy fails at once
        }
        String key = null;
        if (apiKeyEnv != null) {
            key = System.getenv(apiKeyEnv);
            if (key == null || key.isBlank()) {
                throw new UserError("--api-key-env names " + apiKeyEnv + " but it is not set; export " + apiKeyEnv
                        + "=<the key clients must send>, or leave --api-key-env out to serve without a key");
            }
        }
        if (Distill.verbose) {
            // --verbose turns the root logger to DEBUG; the server's request lines are what a user wants to see
            for (String noisy : new String[] {"org.eclipse.jetty", "io.javalin", "ai.djl", "okhttp3"}) {
                ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(noisy)).setLevel(Level.WARN);
            }
        }
        if (watermark.key != null && (model == null || student)) {
            throw new UserError("--watermark needs a chat model to generate with: give --model DIR (a model folder)");
        }
        LocalModel loaded = model == null || student ? null : LocalModel.load(model, null, quantize.value());
        Watermark wm;
        try {
            wm = loaded == null ? null : watermark.load(loaded.tokenizer(), "--model " + model);
        } catch (java.io.IOException | RuntimeException e) {
            loaded.close();
            throw e;
        }
        EmbeddingModel embedder;
        try {
            embedder = student ? EmbeddingModels.student(model)
                    : embeddingTeacher != null ? EmbeddingModels.teacher(embeddingTeacher) : null;
        } catch (java.io.IOException e) {
            if (loaded != null) loaded.close();
            throw new UserError(e.getMessage());
        }
        OpenAiServer server;
        try {
            OpenAiServer.Builder b = OpenAiServer.builder().setModel(loaded).setEmbeddingModel(embedder)
                    .optServedModelName(student ? null : servedModelName)
                    .optEmbeddingModelName(student ? servedModelName : null)
                    .optHost(host).optPort(port).optApiKey(key).optMaxBatch(maxBatch).optMaxQueue(maxQueue)
                    .optDefaultMaxTokens(defaultMaxTokens).optLogRequests(Distill.verbose)
                    .optTokenChooser(wm, wm == null ? null : "watermark " + WatermarkOption.describe(wm))
                    .optKeys(keys);
            if (requestLog != null) b.optRequestLog(requestLog, logPrompts.equals("hash"));
            if (policy != null) b.optGuard(new OnlineGuard(policy));
            server = b.build();
        } catch (RuntimeException e) {
            if (loaded != null) loaded.close();
            if (embedder != null) embedder.close();
            if (e instanceof java.io.UncheckedIOException io) throw new UserError(io.getMessage());
            throw e;
        }
        Runnable release = () -> {
            server.close();
            if (loaded != null) loaded.close();
            if (embedder != null) embedder.close();
        };
        int bound;
        try {
            bound = server.start();
        } catch (RuntimeException e) {
            release.run();
            throw new UserError("could not listen on " + host + ":" + port + " (" + rootMessage(e)
                    + "); is the port in use? pick another with --port");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            release.run();
            stopped.countDown();
        }, "distill-serve-shutdown"));
        String required = key != null ? " (key required: $" + apiKeyEnv + ")"
                : keys != null ? " (accounts: " + keys + ")" : "";
        if (loaded != null) {
            System.out.printf("Serving %s (%,d parameters) as '%s' at http://%s:%d/v1%s%n", model,
                    loaded.parameterCount(), server.servedModelName(), host, bound, required);
        }
        if (wm != null) {
            System.out.println("Watermarking every generated token: " + WatermarkOption.describe(wm)
                    + (wm.marks(SamplingParams.greedy(1)) ? "" : " (greedy requests are answered unmarked)"));
        }
        if (embedder != null) {
            System.out.printf("Serving embeddings of %s (%d dimensions) as '%s' at http://%s:%d/v1/embeddings%s%n",
                    student ? model : embeddingTeacher, embedder.dimension(), server.embeddingModelName(), host,
                    bound, required);
        }
        if (requestLog != null) {
            System.out.println("Logging every request to " + requestLog.resolve("requests-current.jsonl")
                    + (logPrompts.equals("hash") ? " (prompts as SHA-256 only)" : ""));
        }
        if (policy != null) {
            System.out.println("Guarding " + (keys != null ? "the accounts of " + keys
                    : "each client address (no --keys: an address is an account)") + " by " + guardPolicy + ":");
            System.out.println("  " + policy.summary().replace("\n", "\n  "));
        }
        System.out.println("Press Ctrl-C to stop.");
        System.out.flush();
        stopped.await();
        return 0;
    }

    private static String rootMessage(Throwable e) {
        while (e.getCause() != null) e = e.getCause();
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
