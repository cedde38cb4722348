package dev.distill4j.teacher.stub;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options of a stub run in its own process: {@code --port N --latency-ms N --answer-tokens N
 * --api-key K --model M (repeatable)} plus a stub's own. Standalone stubs only count requests (no records), since
 * they serve benchmarks.
 */
record StandaloneOptions(Map<String, List<String>> values) {
    private static final Set<String> COMMON = Set.of("--port", "--latency-ms", "--answer-tokens", "--api-key", "--model");

    static StandaloneOptions parse(String[] args, String... extra) {
        Set<String> known = new java.util.HashSet<>(COMMON);
        known.addAll(List.of(extra));
        Map<String, List<String>> v = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!known.contains(args[i]) || i + 1 >= args.length) {
                System.err.println((known.contains(args[i]) ? "missing value for " : "unknown option ") + args[i]
                        + "; options: " + String.join(" ", known.stream().sorted().map(k -> k + " X").toList()));
                System.exit(2);
            }
            v.computeIfAbsent(args[i], k -> new ArrayList<>()).add(args[i + 1]);
        }
        return new StandaloneOptions(v);
    }

    int intOption(String name, int fallback) {
        List<String> l = values.get(name);
        return l == null ? fallback : Integer.parseInt(l.getLast());
    }

    int port() { return intOption("--port", 0); }

    <S extends StubServer<S>> S apply(S stub) {
        stub.recording(false)
                .latency(Duration.ofMillis(intOption("--latency-ms", 0)))
                .answerTokens(intOption("--answer-tokens", stub.answerTokens()))
                .models(values.getOrDefault("--model", List.of()).toArray(String[]::new));
        List<String> key = values.get("--api-key");
        if (key != null) stub.requireApiKey(key.getLast());
        return stub;
    }

    void serveForever(StubServer<?> stub) throws InterruptedException {
        System.out.println(stub.port());
        System.out.flush();
        Thread.currentThread().join();
    }
}
