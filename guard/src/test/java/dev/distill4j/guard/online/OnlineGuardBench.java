package dev.distill4j.guard.online;

import dev.distill4j.core.Json;
import dev.distill4j.serve.AccountGuard;
import java.util.Locale;
import java.util.Random;

/**
 * What an online guard decision costs ({@code bench/guard/online.sh}): {@link OnlineGuard#admit} (the request path)
 * and {@link OnlineGuard#observe} (the guard thread: one request added to a full window and every feature recomputed),
 * in ns per call, for 1,000 accounts with a full window each, over several rounds after a warm-up.
 *
 * <pre>{@code java ... dev.distill4j.guard.online.OnlineGuardBench [WINDOW=200] [ROUNDS=5]}</pre>
 */
public final class OnlineGuardBench {
    public static void main(String[] args) throws Exception {
        int window = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int accounts = 1000;
        GuardPolicy policy = GuardPolicy.parse(Json.MAPPER.readTree("{\"window\": " + window + ", \"min_requests\": 20,"
                + " \"features\": {\"logprobs_share\": 0.5, \"temperature0_share\": 0.8, \"mean_n\": 4,"
                + " \"template_share\": 0.5, \"cot_share\": 0.3, \"rpm\": " + Math.min(window, 120) + ","
                + " \"timing_cv\": 0.2}, \"levels\": [{\"fired\": 2, \"action\": \"flag\"}, {\"fired\": 3,"
                + " \"action\": \"throttle\", \"rpm\": 10}, {\"fired\": 5, \"action\": \"block\"}]}"), "bench");
        OnlineGuard g = new OnlineGuard(policy);
        Random rnd = new Random(1);
        String[] words = "the of a to in is how why what explain compute river energy market protein code law music"
                .split(" ");
        long t = 0;
        String[] queries = new String[4096];
        for (int i = 0; i < queries.length; i++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < 12 + rnd.nextInt(20); w++) sb.append(words[rnd.nextInt(words.length)]).append(' ');
            queries[i] = sb.append(i).toString();
        }
        for (int i = 0; i < accounts * window; i++) {
            g.observe(request("acct-" + (i % accounts), t += 50, rnd, queries[i % queries.length]));
        }
        System.out.printf(Locale.ROOT, "window %d, %d accounts, 7 features%n", window, accounts);
        for (int r = 0; r < rounds; r++) {
            int n = 200_000;
            long sink = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) sink += g.admit("acct-" + (i % accounts), t).rpm();
            long admitNs = (System.nanoTime() - t0) / n;
            int m = 20_000;
            t0 = System.nanoTime();
            for (int i = 0; i < m; i++) {
                AccountGuard.Action a = g.observe(request("acct-" + (i % accounts), t += 50, rnd,
                        queries[i % queries.length]));
                if (a != null) sink++;
            }
            long observeNs = (System.nanoTime() - t0) / m;
            System.out.printf(Locale.ROOT, "round %d: admit %d ns/call, observe %.1f us/call (%d)%n", r + 1, admitNs,
                    observeNs / 1000.0, sink & 1);
        }
    }

    private static AccountGuard.Request request(String account, long t, Random rnd, String q) {
        return new AccountGuard.Request(t, account, "10.0.0.1", "/v1/chat/completions", 200,
                rnd.nextBoolean() ? 0 : 0.7, 1 + rnd.nextInt(3), rnd.nextInt(4) == 0, 0, q, 40, 60);
    }
}
