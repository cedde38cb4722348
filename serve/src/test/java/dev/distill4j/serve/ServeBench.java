package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;

/**
 * Serving benchmark: an in-process {@link OpenAiServer} and closed-loop HTTP clients on loopback. Each client sends
 * a chat completion (greedy, fixed max tokens), waits for the answer, and sends the next, for a fixed time per
 * concurrency level. Prints requests/s, generated tokens/s, p50/p99 latency and the load average.
 *
 * <pre>java [-Dserve.sampling=greedy,default] ... ServeBench MODEL_DIR [seconds=20] [maxTokens=32] [maxBatch=16]
 *     [concurrency...=1 8 32]</pre>
 *
 * <p>{@code serve.sampling} lists the request kinds to run at each level, one after the other: {@code greedy}
 * (temperature 0) and {@code default} (no temperature, no seed: what an OpenAI client sends by default, temperature
 * 1 with a random seed per request). Default: greedy only.
 */
public final class ServeBench {
    private ServeBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int maxBatch = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        List<Integer> levels = new ArrayList<>();
        for (int i = 4; i < args.length; i++) levels.add(Integer.parseInt(args[i]));
        if (levels.isEmpty()) levels = List.of(1, 8, 32);
        List<String> modes = List.of(System.getProperty("serve.sampling", "greedy").split(","));
        for (String m : modes) {
            if (!m.equals("greedy") && !m.equals("default")) {
                throw new IllegalArgumentException("serve.sampling takes greedy and/or default, got " + m);
            }
        }

        try (LocalModel model = LocalModel.load(dir);
             OpenAiServer server = OpenAiServer.builder().setModel(model).optServedModelName("bench").optPort(0)
                     .optMaxBatch(maxBatch).optMaxQueue(4096).build()) {
            int port = server.start();
            System.out.printf(Locale.ROOT, "model %s: %,d parameters, vocab %d; max batch %d; %d tokens per answer;"
                            + " %d s per level; %d cores%n", dir, model.parameterCount(),
                    model.model().config().vocabSize(), maxBatch, maxTokens, seconds,
                    Runtime.getRuntime().availableProcessors());
            HttpClient http = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
            URI uri = URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
            for (String mode : modes) run(http, uri, 2, 3, maxTokens, mode);    // JIT warm-up, not reported
            System.out.println("clients  sampling  requests  req/s   tokens/s  p50 ms   p99 ms   errors  "
                    + "loadavg(1m) before/after");
            for (int c : levels) {
                for (String mode : modes) {
                    String before = ClosedLoop.loadAverage();
                    ClosedLoop.Result r = run(http, uri, c, seconds, maxTokens, mode);
                    System.out.printf(Locale.ROOT, "%7d  %-8s  %8d  %6.2f  %8.1f  %7.0f  %7.0f  %6d  %s / %s%n", c,
                            mode, r.requests(), r.requests() / r.seconds(), r.units() / r.seconds(), r.percentile(50),
                            r.percentile(99), r.errors(), before, ClosedLoop.loadAverage());
                }
            }
        }
    }

    /**
     * A chat completion per request, up to {@code maxTokens} long, greedy or with the API's default sampling; an
     * answer is worth its completion tokens (a sampled answer may stop early at EOS).
     */
    private static ClosedLoop.Result run(HttpClient http, URI uri, int clients, int seconds, int maxTokens,
                                         String mode) throws Exception {
        String sampling = mode.equals("greedy") ? ",\"temperature\":0" : "";
        return ClosedLoop.run(http, uri, clients, seconds,
                (client, n) -> "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":\"Client "
                        + client + " asks question " + n + ": what is the capital of France?\"}],"
                        + "\"max_tokens\":" + maxTokens + sampling + "}",
                body -> {
                    int at = body.indexOf("\"completion_tokens\":");
                    return Long.parseLong(body.substring(at + 20).split("[,}]")[0].trim());
                });
    }
}
