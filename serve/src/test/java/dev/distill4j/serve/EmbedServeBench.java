package dev.distill4j.serve;

import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbedCorpus;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.StaticEmbeddingModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Executors;

/**
 * {@code /v1/embeddings} benchmark: closed-loop HTTP clients on loopback against an in-process server, for the
 * bge-small teacher and a static table of its vocabulary (30,522 × dims, seeded random values: a static model's
 * speed does not depend on its values, so no distillation is needed). Each request embeds {@code perRequest}
 * sentences of the generated corpus. Prints requests/s, sentences/s, p50/p99 latency and the load average.
 *
 * <pre>java ... EmbedServeBench [seconds=10] [dims=256] [perRequest...=1 32] (clients 1 and 8)</pre>
 */
public final class EmbedServeBench {
    private EmbedServeBench() {}

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int dims = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        List<Integer> sizes = new ArrayList<>();
        for (int i = 2; i < args.length; i++) sizes.add(Integer.parseInt(args[i]));
        if (sizes.isEmpty()) sizes = List.of(1, 32);
        List<String> corpus = EmbedCorpus.synthetic(1000, 42);
        try (OnnxEmbeddingModel bge = OnnxEmbeddingModel.load("bge-small-en-v1.5")) {
            int vocab = 30522;
            float[] table = new float[vocab * dims];
            Random rnd = new Random(1);
            for (int i = 0; i < table.length; i++) table[i] = (float) rnd.nextGaussian();
            try (StaticEmbeddingModel stat = new StaticEmbeddingModel("static-" + dims, bge.tokenizerJson(), table,
                    vocab, dims, Json.object())) {
                System.out.printf(Locale.ROOT, "%d cores; %d s per level; sentences from EmbedCorpus.synthetic(1000, 42)%n",
                        Runtime.getRuntime().availableProcessors(), seconds);
                System.out.println("model            sent/req  clients  requests  req/s     sent/s    p50 ms  p99 ms  errors  loadavg before/after");
                for (EmbeddingModel m : List.of(stat, (EmbeddingModel) bge)) {
                    try (OpenAiServer server = OpenAiServer.builder().setEmbeddingModel(m).optPort(0).build()) {
                        int port = server.start();
                        HttpClient http = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
                        URI uri = URI.create("http://127.0.0.1:" + port + "/v1/embeddings");
                        run(http, uri, m.name(), corpus, 1, 2, 2);    // warm-up, not reported
                        for (int per : sizes) {
                            for (int clients : List.of(1, 8)) {
                                String before = ClosedLoop.loadAverage();
                                ClosedLoop.Result r = run(http, uri, m.name(), corpus, per, clients, seconds);
                                System.out.printf(Locale.ROOT, "%-16s %8d  %7d  %8d  %8.1f  %8.1f  %6.2f  %6.2f  %6d  %s / %s%n",
                                        m.name(), per, clients, r.requests(), r.requests() / r.seconds(),
                                        r.units() / r.seconds(), r.percentile(50), r.percentile(99), r.errors(),
                                        before, ClosedLoop.loadAverage());
                            }
                        }
                    }
                }
            }
        }
    }

    /** {@code per} corpus sentences per request, each client from its own place in the corpus. */
    private static ClosedLoop.Result run(HttpClient http, URI uri, String model, List<String> corpus, int per, int clients,
                                         int seconds) throws Exception {
        return ClosedLoop.run(http, uri, clients, seconds, (client, n) -> {
            List<String> input = new ArrayList<>(per);
            for (int k = 0; k < per; k++) input.add(corpus.get((client * 97 + n * per + k) % corpus.size()));
            return "{\"model\":" + Json.write(Json.MAPPER.valueToTree(model)) + ",\"input\":"
                    + Json.write(Json.MAPPER.valueToTree(input)) + "}";
        }, body -> per);
    }
}
