package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Executors;

/**
 * What {@code --request-log} costs: the same model served without and with the request log (full prompts, and the
 * accounts of a key file, since a logged deployment has both), in alternating rounds of closed-loop HTTP clients so
 * that drift in the machine's load hits both alike (the order flips every round; round 0 warms up both and is not
 * counted). Short greedy answers keep the per-request work small, which is
 * where a logging overhead would show.
 *
 * <pre>java ... RequestLogBench MODEL_DIR [seconds=10] [maxTokens=4] [clients=8] [rounds=3]</pre>
 */
public final class RequestLogBench {
    private static final String KEY = "sk-bench-0123456789";

    private RequestLogBench() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int clients = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        Path work = Files.createTempDirectory("distill4j-request-log-bench");
        Path keys = Files.writeString(work.resolve("keys.jsonl"), "{\"name\": \"bench\", \"key\": \"" + KEY + "\"}\n");
        double[] sum = new double[2];
        try (LocalModel model = LocalModel.load(dir)) {
            System.out.printf(Locale.ROOT, "model %s: %,d parameters; %d clients, %d tokens per answer, %d s per round,"
                    + " %d cores%n", dir, model.parameterCount(), clients, maxTokens, seconds,
                    Runtime.getRuntime().availableProcessors());
            System.out.println("round  log  requests  req/s   p50 ms  p99 ms  errors  loadavg(1m) before/after");
            for (int round = 0; round <= rounds; round++) {       // round 0: warm-up, not counted
                for (int k = 0; k < 2; k++) {
                    int logged = round % 2 == 0 ? k : 1 - k;     // ABBA order: a warming JIT favours neither side
                    OpenAiServer.Builder b = OpenAiServer.builder().setModel(model).optServedModelName("bench")
                            .optPort(0).optMaxBatch(16).optMaxQueue(4096);
                    if (logged == 1) b.optKeys(keys).optRequestLog(work.resolve("log-" + round), false);
                    else b.optApiKey(KEY);
                    try (OpenAiServer server = b.build()) {
                        int port = server.start();
                        HttpClient http = HttpClient.newBuilder()
                                .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
                        URI uri = URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
                        String before = ClosedLoop.loadAverage();
                        ClosedLoop.Result r = ClosedLoop.run(http, uri, KEY, clients, seconds,
                                (client, n) -> "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":"
                                        + "\"Client " + client + " asks question " + n + ": what is the capital of "
                                        + "France?\"}],\"max_tokens\":" + maxTokens + ",\"temperature\":0}",
                                body -> 1);
                        double rps = r.requests() / r.seconds();
                        if (round > 0) sum[logged] += rps;
                        System.out.printf(Locale.ROOT, "%5s  %3s  %8d  %6.2f  %6.0f  %6.0f  %6d  %s / %s%n",
                                round == 0 ? "warm" : Integer.toString(round), logged == 1 ? "on" : "off",
                                r.requests(), rps, r.percentile(50), r.percentile(99), r.errors(), before,
                                ClosedLoop.loadAverage());
                    }
                }
            }
        }
        double off = sum[0] / rounds;
        double on = sum[1] / rounds;
        System.out.printf(Locale.ROOT, "mean req/s: without log %.2f, with --keys and --request-log %.2f (%+.1f %%)%n",
                off, on, (on / off - 1) * 100);
    }
}
