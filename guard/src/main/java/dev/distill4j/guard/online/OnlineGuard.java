package dev.distill4j.guard.online;

import dev.distill4j.guard.online.GuardPolicy.Feature;
import dev.distill4j.guard.online.GuardPolicy.Level;
import dev.distill4j.guard.scan.Scanner;
import dev.distill4j.guard.scan.Templates;
import dev.distill4j.serve.AccountGuard;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code distill serve --guard POLICY}: scores each account's behaviour as its requests finish and acts on the
 * {@link GuardPolicy} — flag (a log line with the evidence and a metric), throttle (a lower requests-per-minute cap)
 * or block (403).
 *
 * <p>Per account it keeps the last {@code window} requests (a ring: arrival time, logprobs asked, temperature 0,
 * {@code n}, chain-of-thought phrasing, whether the query has a near-duplicate earlier in the window) and after each
 * one recomputes the cheap behaviour features of {@code guard scan} over the window — shares and means, the
 * requests of the last minute, the coefficient of variation of inter-arrival times. No embeddings: the distribution
 * shift (MMD) stays with the offline {@code guard scan}.
 *
 * <p>Template reuse: a query's skeleton ({@link Templates#skeleton}: lower case, numbers masked) becomes a set of
 * word 2-shingles and a MinHash signature of {@value #HASHES} values; the query is a near-duplicate when its
 * signature agrees with an earlier one of the window on at least {@link Templates#SIMILARITY} of the values (the
 * Jaccard estimate {@code guard scan} groups templates by). That is window × {@value #HASHES} comparisons per request,
 * on the server's guard thread.
 *
 * <p>Cost: {@link #admit} is a map lookup and a volatile read (plus, for a throttled account, a small synchronized
 * deque of its own); it never touches the model worker's state. {@link #observe} runs on the server's one guard
 * thread. An account's state changes are logged once per change (logger {@code dev.distill4j.guard.online}), with
 * their evidence. A blocked account's refused requests are not observed, so a block lasts until the server
 * restarts; a throttled or flagged account whose window stops showing the behaviour goes back down a level.
 */
public final class OnlineGuard implements AccountGuard {
    private static final Logger log = LoggerFactory.getLogger("dev.distill4j.guard.online");
    static final int HASHES = 32;
    /** Inter-arrival CV needs this many requests to mean anything. */
    static final int TIMING_MIN = 20;
    private static final long MINUTE_MS = 60_000;
    /**
     * An account in the allow state with no request for this long is forgotten (its window is up to
     * window × ~300 bytes, and without --keys every client address is an account); flagged, throttled and blocked
     * accounts are kept.
     */
    static final long FORGET_IDLE_MS = 3_600_000;
    private static final int SWEEP_EVERY = 4096;
    private long observed;       // the guard thread's

    /** The chain-of-thought elicitation phrases, as {@code guard scan} matches them. */
    static final Pattern COT = Scanner.COT;

    private final GuardPolicy policy;
    private final Map<String, State> states = new ConcurrentHashMap<>();

    public OnlineGuard(GuardPolicy policy) { this.policy = policy; }

    public GuardPolicy policy() { return policy; }

    /** The evidence behind a decision: each scored feature's value and whether it fired. */
    public record Evidence(int requests, Map<Feature, Double> values, List<Feature> fired) {
        /** e.g. {@code "3 of 4 features fired over 40 requests: logprobs_share=1 (>= 0.5), ..."}. */
        public String describe(GuardPolicy policy) {
            List<String> parts = new ArrayList<>();
            values.forEach((f, v) -> parts.add(f.key + "=" + (Double.isNaN(v) ? "n/a" : GuardPolicy.num(v))
                    + " (" + (f.atLeast ? ">= " : "<= ") + GuardPolicy.num(policy.thresholds().get(f))
                    + (fired.contains(f) ? ", fired)" : ")")));
            return fired.size() + " of " + values.size() + " features fired over the last " + requests
                    + " requests: " + String.join(", ", parts);
        }
    }

    /** One account's window and state. The ring is the guard thread's; {@code action} is read by request threads. */
    private static final class State {
        final long[] time;
        final boolean[] logprobs, temp0, cot, dup;
        final int[] n;
        final long[][] sig;
        int next, size;
        volatile Level level;            // null: allow
        Evidence evidence;
        final ArrayDeque<Long> admitted = new ArrayDeque<>();   // throttled: admission times of the last minute

        State(int window) {
            time = new long[window];
            logprobs = new boolean[window];
            temp0 = new boolean[window];
            cot = new boolean[window];
            dup = new boolean[window];
            n = new int[window];
            sig = new long[window][];
        }
    }

    @Override
    public Admission admit(String account, long nowMillis) {
        State s = states.get(account);
        Level l = s == null ? null : s.level;
        if (l == null) return Admission.PASS;
        return switch (l.action()) {
            case BLOCK -> new Admission(Action.BLOCK, 0, -1);
            case THROTTLE -> throttle(s, l.rpm(), nowMillis);
            default -> new Admission(l.action(), 0, -1);
        };
    }

    /** A sliding minute of admissions: past {@code rpm} of them, wait until the oldest is a minute old. */
    private static Admission throttle(State s, int rpm, long now) {
        synchronized (s.admitted) {
            while (!s.admitted.isEmpty() && s.admitted.peekFirst() <= now - MINUTE_MS) s.admitted.pollFirst();
            if (s.admitted.size() >= rpm) {
                return new Admission(Action.THROTTLE, rpm, Math.max(1, s.admitted.peekFirst() + MINUTE_MS - now));
            }
            s.admitted.addLast(now);
            return new Admission(Action.THROTTLE, rpm, -1);
        }
    }

    @Override
    public Action observe(Request r) {
        if (++observed % SWEEP_EVERY == 0) forgetIdle(r.timeMillis());
        State s = states.computeIfAbsent(r.account(), k -> new State(policy.window()));
        synchronized (s) {     // one guard thread in the server; the lock makes direct callers (tests) safe too
            add(s, r);
            Evidence ev = evidence(s, r.timeMillis());
            // too few requests to judge: the account keeps its state
            Level now = ev.requests() < policy.minRequests() ? s.level : policy.levelFor(ev.fired().size());
            Level before = s.level;
            s.evidence = ev;
            if (now == before || (now != null && before != null && now.action() == before.action())) return null;
            s.level = now;
            Action a = now == null ? Action.ALLOW : now.action();
            String what = a == Action.THROTTLE ? "throttle (" + now.rpm() + " rpm)" : a.wireName();
            if (a == Action.ALLOW) {
                log.info("guard: account {} -> allow (was {}): {}", r.account(), before.action().wireName(),
                        ev.describe(policy));
            } else {
                log.warn("guard: account {} -> {} (was {}): {}", r.account(), what,
                        before == null ? "allow" : before.action().wireName(), ev.describe(policy));
            }
            return a;
        }
    }

    private void forgetIdle(long now) {
        states.values().removeIf(s -> {
            synchronized (s) {
                return s.level == null && s.size > 0 && s.time[(s.next - 1 + s.time.length) % s.time.length]
                        < now - FORGET_IDLE_MS;
            }
        });
    }

    /** Accounts with state now (for tests and metrics). */
    public int accounts() { return states.size(); }

    /** The account's current action (ALLOW for an account never seen). */
    public Action action(String account) {
        State s = states.get(account);
        Level l = s == null ? null : s.level;
        return l == null ? Action.ALLOW : l.action();
    }

    /** The evidence of the account's last decision, or null for an account never seen. */
    public Evidence evidence(String account) {
        State s = states.get(account);
        if (s == null) return null;
        synchronized (s) {
            return s.evidence;
        }
    }

    @Override
    public String describe() {
        return "guard policy (" + policy.thresholds().size() + " features over the last " + policy.window()
                + " requests of each account)";
    }

    private void add(State s, Request r) {
        int i = s.next;
        s.time[i] = r.timeMillis();
        s.logprobs[i] = r.logprobs() || r.topLogprobs() > 0;
        s.temp0[i] = r.temperature() == 0.0;
        s.n[i] = Math.max(1, r.n());
        String q = r.query();
        s.cot[i] = q != null && COT.matcher(q).find();
        long[] sig = q == null || q.isBlank() ? null : signature(q);
        boolean dup = false;
        if (sig != null) {
            for (int j = 0; j < s.size && !dup; j++) {
                int k = (i - 1 - j + s.time.length) % s.time.length;
                if (s.sig[k] != null && agreement(sig, s.sig[k]) >= Templates.SIMILARITY) dup = true;
            }
        }
        s.dup[i] = dup;
        s.sig[i] = sig;
        s.next = (i + 1) % s.time.length;
        if (s.size < s.time.length) s.size++;
    }

    private Evidence evidence(State s, long now) {
        int size = s.size;
        int lp = 0, t0 = 0, cot = 0, dup = 0, lastMinute = 0;
        long nSum = 0;
        long[] times = new long[size];
        for (int j = 0; j < size; j++) {
            if (s.logprobs[j]) lp++;
            if (s.temp0[j]) t0++;
            if (s.cot[j]) cot++;
            if (s.dup[j]) dup++;
            nSum += s.n[j];
            if (s.time[j] > now - MINUTE_MS) lastMinute++;
            times[j] = s.time[j];
        }
        Map<Feature, Double> values = new EnumMap<>(Feature.class);
        List<Feature> fired = new ArrayList<>();
        for (var e : policy.thresholds().entrySet()) {
            Feature f = e.getKey();
            double v = switch (f) {
                case LOGPROBS_SHARE -> lp / (double) size;
                case TEMPERATURE0_SHARE -> t0 / (double) size;
                case MEAN_N -> nSum / (double) size;
                case TEMPLATE_SHARE -> dup / (double) size;
                case COT_SHARE -> cot / (double) size;
                case RPM -> lastMinute;
                case TIMING_CV -> size < TIMING_MIN ? Double.NaN : interArrivalCv(times);
            };
            values.put(f, v);
            if (f.fires(v, e.getValue())) fired.add(f);
        }
        return new Evidence(size, values, fired);
    }

    /** Standard deviation over mean of the gaps between consecutive arrivals (1 for a Poisson process). */
    static double interArrivalCv(long[] times) {
        long[] t = times.clone();
        Arrays.sort(t);
        int m = t.length - 1;
        if (m < 2) return Double.NaN;
        double mean = (t[m] - t[0]) / (double) m;
        if (mean <= 0) return 0;    // all at once: as regular as it gets
        double ss = 0;
        for (int i = 1; i <= m; i++) {
            double d = t[i] - t[i - 1] - mean;
            ss += d * d;
        }
        return Math.sqrt(ss / (m - 1)) / mean;
    }

    /** MinHash of the skeleton's word 2-shingles, as {@code guard scan} builds them, with {@value #HASHES} values. */
    static long[] signature(String text) {
        return Templates.minhash(Templates.shingles(text), HASHES);
    }

    static double agreement(long[] a, long[] b) { return Templates.agreement(a, b); }
}
