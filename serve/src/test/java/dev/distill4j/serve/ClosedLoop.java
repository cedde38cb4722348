package dev.distill4j.serve;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

/**
 * Closed-loop HTTP clients for the serving benches: each client posts a JSON body, waits for the answer and posts
 * the next, for a fixed time. Counts answered requests, errors (non-200 or failed), latencies, and what each answer
 * is worth (generated tokens, embedded sentences).
 */
final class ClosedLoop {
    private ClosedLoop() {}

    /** The {@code n}-th request body of client {@code client}. */
    @FunctionalInterface
    interface Bodies {
        String body(int client, int n);
    }

    /** @param units what the answers were worth in all (tokens, sentences) */
    record Result(long requests, long errors, long units, double seconds, List<Double> latenciesMs) {
        double percentile(double p) {
            if (latenciesMs.isEmpty()) return Double.NaN;
            List<Double> sorted = new ArrayList<>(latenciesMs);
            Collections.sort(sorted);
            int i = (int) Math.ceil(p / 100 * sorted.size()) - 1;
            return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
        }
    }

    static Result run(HttpClient http, URI uri, int clients, int seconds, Bodies bodies, ToLongFunction<String> units)
            throws Exception {
        return run(http, uri, null, clients, seconds, bodies, units);
    }

    /** As above, each request with {@code Authorization: Bearer key} when the key is not null. */
    static Result run(HttpClient http, URI uri, String key, int clients, int seconds, Bodies bodies,
                      ToLongFunction<String> units) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong requests = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong worth = new AtomicLong();
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                int client = c;
                pool.submit(() -> {
                    for (int n = 0; !stop.get(); n++) {
                        String body = bodies.body(client, n);
                        long s = System.nanoTime();
                        try {
                            HttpRequest.Builder req = HttpRequest.newBuilder(uri)
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(body));
                            if (key != null) req.header("Authorization", "Bearer " + key);
                            HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() != 200) {
                                errors.incrementAndGet();
                                continue;
                            }
                            worth.addAndGet(units.applyAsLong(r.body()));
                            latencies.add((System.nanoTime() - s) / 1e6);
                            requests.incrementAndGet();
                        } catch (Exception e) {
                            errors.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            Thread.sleep(seconds * 1000L);
            stop.set(true);
        }
        // in-flight requests finish after the stop flag; the rate counts them over the time they took
        return new Result(requests.get(), errors.get(), worth.get(), (System.nanoTime() - t0) / 1e9, latencies);
    }

    /** The 1-minute load average, or "?" off Linux. */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "?";
        }
    }
}
