package dev.distill4j.guard.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.guard.bench.TrafficSim.Attack;
import dev.distill4j.guard.bench.TrafficSim.Doc;
import dev.distill4j.guard.bench.TrafficSim.Query;
import dev.distill4j.guard.bench.TrafficSim.Role;
import dev.distill4j.guard.bench.TrafficSim.Split;
import dev.distill4j.guard.bench.TrafficSim.User;
import dev.distill4j.guard.scan.LogReader;
import dev.distill4j.guard.scan.LogRecord;
import dev.distill4j.guard.scan.ScanWriter;
import dev.distill4j.guard.scan.Scanner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The extraction-campaign detection benchmark of docs/benchmarks.md ("guard: extraction-campaign detection"): scans
 * windows of simulated API traffic ({@link TrafficSim}) with {@link Scanner} against a known-benign baseline and
 * reports, per campaign and attacker share, the true-positive rate (the window's scan flags an entity holding an
 * attacker account), the false-positive rate over benign-only windows (any entity flagged), the detection delay
 * (attacker queries until the scan of the traffic so far flags it) and whether a hydra's accounts come out as one
 * cluster.
 *
 * <pre>
 *   Traffic CORPUS OUT_DIR CACHE_DIR [dev|eval|test|holdout|blind|fresh] [BENIGN_WINDOWS=1000] [ATTACK_WINDOWS=100] [DELAY_WINDOWS=20]
 * </pre>
 *
 * {@code dev} evaluates on the dev users and the dev campaign templates (what the scanner was tuned on); {@code eval}
 * on other users, documents and templates (held out in sessions 6 and 7; its results were reported, so it is seen
 * since); {@code test} on the held-out split of session 8: users, documents ({@code -Dtraffic.testCorpus=FILE},
 * default {@code corpus-test.txt} beside CORPUS), phrasings and campaign texts of its own ({@link TrafficSim});
 * {@code holdout} on the held-out split of session 9: a third corpus ({@code -Dtraffic.holdoutCorpus=FILE}, default
 * {@code corpus-holdout.txt} beside CORPUS), users with phrasings of their own, benign automated clients (evaluation
 * harnesses, support bots, classification pipelines, batch jobs, RAG clients) and campaign texts of its own;
 * {@code blind} on the held-out split of session 10: a fourth corpus ({@code -Dtraffic.blindCorpus=FILE}, default
 * {@code corpus-blind.txt} beside CORPUS), users with phrasings of their own and replies of varied length, automated
 * clients of kinds no earlier split has (code completion, extraction to JSON, moderation, summarisation, agents) and
 * the earlier kinds with new settings, and campaign texts of its own; {@code fresh} on the split of session 13, written
 * by a helper that had not read the scanner: a fifth corpus ({@code -Dtraffic.freshCorpus=FILE}, default
 * {@code corpus-fresh.txt} beside CORPUS), users with phrasings of their own, 30 automated clients of what API
 * customers ran in 2026 (chat apps, tutors, graders, rerankers, autocompletion, calibration studies, synthetic-data
 * pipelines, document QA, evaluation harnesses, self-consistency samplers, agents, batch jobs) and campaigns with
 * texts and settings of their own. With
 * {@code -Dtraffic.warmOnly=true} the run only embeds the split's prompts into the cache and stops before any scan. All
 * scan against the same baseline: a separate population's traffic on documents of its own. Windows hold {@value #WINDOW} queries; benign windows span two hours,
 * or three days for a quarter of them (the low-and-slow campaign's span). Embeddings are cached in
 * {@code CACHE_DIR/bge-small.bin}.
 */
public final class Traffic {
    static final int WINDOW = 500;
    static final long HOURS2 = 2 * 3600_000L;
    static final long DAYS3 = 3 * 24 * 3600_000L;
    static final double[] SHARES = {0.05, 0.10, 0.25};

    public static void main(String[] args) throws Exception {
        Path corpus = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Path cache = Path.of(args[2]);
        Split split = args.length <= 3 ? Split.DEV : switch (args[3]) {
            case "dev" -> Split.DEV;
            case "eval" -> Split.EVAL;
            case "test" -> Split.TEST;
            case "holdout" -> Split.HOLDOUT;
            case "blind" -> Split.BLIND;
            case "fresh" -> Split.FRESH;
            default -> throw new IllegalArgumentException("split must be dev, eval, test, holdout, blind or fresh, "
                    + "not " + args[3]);
        };
        String splitName = split.name().toLowerCase(Locale.ROOT);
        int benignWindows = args.length > 4 ? Integer.parseInt(args[4]) : 1000;
        int attackWindows = args.length > 5 ? Integer.parseInt(args[5]) : 100;
        int delayWindows = args.length > 6 ? Integer.parseInt(args[6]) : 20;
        int threads = Integer.getInteger("threads", 2);
        long t0 = System.nanoTime();

        List<List<Doc>> docs = TrafficSim.documents(corpus);
        if (split == Split.TEST) {
            Path testCorpus = Path.of(System.getProperty("traffic.testCorpus",
                    corpus.resolveSibling("corpus-test.txt").toString()));
            List<List<Doc>> test = TrafficSim.testDocuments(testCorpus);
            docs.set(Role.TEST.ordinal(), test.get(Role.TEST.ordinal()));
            docs.set(Role.ATTACK_TEST.ordinal(), test.get(Role.ATTACK_TEST.ordinal()));
        }
        if (split == Split.HOLDOUT) {
            Path holdoutCorpus = Path.of(System.getProperty("traffic.holdoutCorpus",
                    corpus.resolveSibling("corpus-holdout.txt").toString()));
            List<List<Doc>> held = TrafficSim.holdoutDocuments(holdoutCorpus);
            docs.set(Role.HOLDOUT.ordinal(), held.get(Role.HOLDOUT.ordinal()));
            docs.set(Role.ATTACK_HOLDOUT.ordinal(), held.get(Role.ATTACK_HOLDOUT.ordinal()));
        }
        if (split == Split.BLIND) {
            Path blindCorpus = Path.of(System.getProperty("traffic.blindCorpus",
                    corpus.resolveSibling("corpus-blind.txt").toString()));
            List<List<Doc>> blind = TrafficSim.blindDocuments(blindCorpus);
            docs.set(Role.BLIND.ordinal(), blind.get(Role.BLIND.ordinal()));
            docs.set(Role.ATTACK_BLIND.ordinal(), blind.get(Role.ATTACK_BLIND.ordinal()));
        }
        if (split == Split.FRESH) {
            Path freshCorpus = Path.of(System.getProperty("traffic.freshCorpus",
                    corpus.resolveSibling("corpus-fresh.txt").toString()));
            List<List<Doc>> fresh = TrafficSim.freshDocuments(freshCorpus);
            docs.set(Role.FRESH.ordinal(), fresh.get(Role.FRESH.ordinal()));
            docs.set(Role.ATTACK_FRESH.ordinal(), fresh.get(Role.ATTACK_FRESH.ordinal()));
        }
        for (Role r : Role.values()) System.err.printf("%-12s %5d documents%n", r, docs.get(r.ordinal()).size());
        List<User> basePop = TrafficSim.population("base", docs.get(Role.BASELINE.ordinal()), 250, 101);
        List<User> pop = switch (split) {
            case DEV -> TrafficSim.population("dev", docs.get(Role.DEV.ordinal()), 200, 202);
            case EVAL -> TrafficSim.population("user", docs.get(Role.EVAL.ordinal()), 300, 303);
            case TEST -> TrafficSim.population("test", docs.get(Role.TEST.ordinal()), 300, 606,
                    concat(TrafficSim.ASK, TrafficSim.ASK_TEST), concat(TrafficSim.COT, TrafficSim.COT_TEST),
                    TrafficSim.BOT);
            case HOLDOUT -> {
                // 250 people and 25 automated clients (5 of each kind)
                List<User> people = new ArrayList<>(TrafficSim.population("hold", docs.get(Role.HOLDOUT.ordinal()),
                        250, 808, concat(TrafficSim.ASK, TrafficSim.ASK_HOLDOUT),
                        concat(TrafficSim.COT, TrafficSim.COT_HOLDOUT), TrafficSim.BOT_HOLDOUT));
                people.addAll(TrafficSim.automatedClients("hold", docs.get(Role.HOLDOUT.ordinal()), 5, 909));
                yield people;
            }
            case BLIND -> {
                // 250 people (replies of varied length) and 30 automated clients (TrafficSim.blindClients)
                List<User> people = new ArrayList<>(TrafficSim.population("blind", docs.get(Role.BLIND.ordinal()),
                        250, 1212, concat(TrafficSim.ASK, TrafficSim.ASK_BLIND),
                        concat(TrafficSim.COT, TrafficSim.COT_BLIND), TrafficSim.BOT_BLIND, true));
                people.addAll(TrafficSim.blindClients("blind", docs.get(Role.BLIND.ordinal()), 1313));
                yield people;
            }
            case FRESH -> {
                // 250 people (replies of varied length) and 30 automated clients (TrafficSim.freshClients)
                List<User> people = new ArrayList<>(TrafficSim.population("fresh", docs.get(Role.FRESH.ordinal()),
                        250, 1616, concat(TrafficSim.ASK, TrafficSim.ASK_FRESH),
                        concat(TrafficSim.COT, TrafficSim.COT_FRESH), TrafficSim.BOT_FRESH, true));
                people.addAll(TrafficSim.freshClients("fresh", docs.get(Role.FRESH.ordinal()), 1717));
                yield people;
            }
        };
        List<Doc> attackDocs = docs.get((switch (split) {
            case DEV -> Role.ATTACK_DEV;
            case EVAL -> Role.ATTACK_EVAL;
            case TEST -> Role.ATTACK_TEST;
            case HOLDOUT -> Role.ATTACK_HOLDOUT;
            case BLIND -> Role.ATTACK_BLIND;
            case FRESH -> Role.ATTACK_FRESH;
        }).ordinal());
        Map<Attack, List<String>> campaigns = new EnumMap<>(Attack.class);
        SplittableRandom ar = new SplittableRandom(switch (split) {
            case DEV -> 404;
            case EVAL -> 505;
            case TEST -> 707;
            case HOLDOUT -> 1010;
            case BLIND -> 1414;
            case FRESH -> 1818;
        });
        for (Attack a : Attack.values()) campaigns.put(a, TrafficSim.attackTexts(a, split, attackDocs, 250, ar));
        Map<String, Long> kinds = new TreeMap<>();
        for (User u : pop) kinds.merge(u.kind().name(), 1L, Long::sum);
        Map<String, Long> perNet = new TreeMap<>();
        for (User u : pop) perNet.merge(u.network(), 1L, Long::sum);
        System.err.printf("population: %d users %s; %d users share %d NAT /24s%n", pop.size(), kinds,
                perNet.values().stream().filter(c -> c > 1).mapToLong(Long::longValue).sum(),
                perNet.values().stream().filter(c -> c > 1).count());

        // the baseline: 2,500 queries of the baseline population over a day
        List<Query> baseQ = TrafficSim.benign(basePop, 2500, 24 * 3600_000L, new SplittableRandom(9));
        LogReader.Result baseLog = result(baseQ);

        EmbeddingCache emb = new EmbeddingCache(cache.resolve("bge-small.bin"), "bge-small-en-v1.5", 384, () -> {
            try {
                return EmbeddingModels.teacher("bge-small-en-v1.5");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        System.err.printf("embedding cache: %d vectors%n", emb.size());
        List<String> all = new ArrayList<>();
        for (User u : pop) all.addAll(u.history());
        for (List<String> c : campaigns.values()) all.addAll(c);
        if (Boolean.getBoolean("traffic.warmOnly")) { // show what the split's clients and campaigns send
            for (User u : pop) {
                if (u.auto() != null) System.err.printf("%s %s%n  e.g. %s%n", u.name(), u.auto(),
                        u.history().get(0).replace("\n", "\\n"));
            }
            campaigns.forEach((k, v) -> System.err.printf("%s e.g. %s%n", k, v.get(0).replace("\n", "\\n")));
        }
        emb.warm(all);
        if (Boolean.getBoolean("traffic.warmOnly")) {
            emb.save();
            emb.close();
            System.err.printf("embedded %d prompts of the %s split; nothing scanned (-Dtraffic.warmOnly)%n", all.size(),
                    splitName);
            return;
        }

        Scanner.Options opts = Scanner.Options.defaults();
        Scanner scanner = new Scanner(emb, opts);
        Scanner.Baseline baseline = scanner.baseline(baseLog);
        emb.save();
        System.err.printf("baseline: %s, pool %d, sigma %.4f, account-level MMD² threshold %.5f, permutation "
                + "threshold at 20/50/100 queries %.5f/%.5f/%.5f (%.0f s)%n", baseline.name(), baseline.pool().length,
                baseline.mmd().sigma(), baseline.accountThreshold(), baseline.mmd().calibration(20).threshold(),
                baseline.mmd().calibration(50).threshold(), baseline.mmd().calibration(100).threshold(),
                (System.nanoTime() - t0) / 1e9);

        ForkJoinPool fj = new ForkJoinPool(threads);
        ObjectNode report = Json.object();
        report.put("split", splitName);
        report.put("window", WINDOW);
        report.put("population", pop.size());
        report.put("baseline", baseline.name());

        // benign-only windows
        long tb = System.nanoTime();
        List<WindowResult> benign = fj.submit(() -> IntStream.range(0, benignWindows).parallel().mapToObj(w -> {
            SplittableRandom rnd = new SplittableRandom(1_000_000L * (split.ordinal() + 1) + w);
            long span = w % 4 == 3 ? DAYS3 : HOURS2;
            List<Query> q = TrafficSim.benign(pop, WINDOW, span, rnd);
            return judge(scanner.scanAgainst(result(q), baseline), q, null);
        }).toList()).get();
        long fp = benign.stream().filter(r -> r.falseFlags() > 0).count();
        System.out.printf(Locale.ROOT, "benign windows: %d, with a false flag: %d (FPR %.4f, 95%% upper %.4f); "
                + "%.0f s%n", benign.size(), fp, fp / (double) benign.size(), upper95(fp, benign.size()),
                (System.nanoTime() - tb) / 1e9);
        Map<String, Integer> why = new TreeMap<>();
        for (WindowResult r : benign) for (String s : r.falseReasons()) why.merge(s, 1, Integer::sum);
        why.forEach((k, v) -> System.out.printf("  false flag: %-70s %d%n", k, v));
        System.out.println("  benign accounts' MMD²: " + quantiles(benign.stream().flatMap(r -> r.benignMmd().stream())
                .toList()));
        ObjectNode b = report.putObject("benign");
        b.put("windows", benign.size());
        b.put("windows_flagged", fp);
        b.put("fpr", fp / (double) benign.size());
        b.put("fpr_upper95", upper95(fp, benign.size()));
        b.put("accounts_scanned", benign.stream().mapToInt(WindowResult::accounts).sum());
        b.put("accounts_flagged", benign.stream().mapToInt(WindowResult::falseFlags).sum());
        ObjectNode bw = b.putObject("false_flag_reasons");
        why.forEach(bw::put);

        // attack windows
        ArrayNode attacks = report.putArray("attacks");
        for (Attack a : Attack.values()) {
            for (double share : SHARES) {
                long ta = System.nanoTime();
                int k = (int) Math.round(share * WINDOW);
                long span = a == Attack.LOW_AND_SLOW ? DAYS3 : HOURS2;
                List<WindowResult> rs = fj.submit(() -> IntStream.range(0, attackWindows).parallel().mapToObj(w -> {
                    SplittableRandom rnd = new SplittableRandom((7L + split.ordinal()) * 1_000_003L + a.ordinal() * 10_007L
                            + (long) (share * 1000) * 101 + w);
                    List<Query> q = new ArrayList<>(TrafficSim.benign(pop, WINDOW - k, span, rnd));
                    q.addAll(TrafficSim.attack(a, split, campaigns.get(a), k, span, rnd, "w" + w));
                    return judge(scanner.scanAgainst(result(q), baseline), q, a);
                }).toList()).get();
                long tp = rs.stream().filter(WindowResult::detected).count();
                long oneCluster = rs.stream().filter(WindowResult::oneCluster).count();
                long pure = rs.stream().filter(WindowResult::pureCluster).count();
                int falseFlags = rs.stream().mapToInt(WindowResult::falseFlags).sum();
                System.out.printf(Locale.ROOT, "%-13s share %4.0f%% (%3d queries): TPR %.3f (%d/%d)%s, benign "
                        + "accounts flagged beside it: %d; %.0f s%n", a, share * 100, k, tp / (double) rs.size(), tp,
                        rs.size(), a == Attack.HYDRA ? String.format(Locale.ROOT, ", one cluster %d/%d (pure %d)",
                                oneCluster, rs.size(), pure) : "", falseFlags, (System.nanoTime() - ta) / 1e9);
                System.out.println("  attacker accounts' MMD²: " + quantiles(rs.stream()
                        .flatMap(r -> r.attackMmd().stream()).toList()));
                Map<String, Integer> fired = new TreeMap<>();
                for (WindowResult r : rs) for (String s : r.attackEvidence()) fired.merge(s, 1, Integer::sum);
                if (tp < rs.size()) {
                    Map<String, Integer> missed = new TreeMap<>();
                    for (WindowResult r : rs) if (!r.detected()) for (String s : r.attackEvidence()) missed.merge(s, 1, Integer::sum);
                    System.out.println("  missed windows' best attacker entity fired: " + missed);
                }
                ObjectNode o = attacks.addObject();
                o.put("attack", a.name().toLowerCase(Locale.ROOT));
                o.put("share", share);
                o.put("attack_queries", k);
                o.put("windows", rs.size());
                o.put("detected", tp);
                o.put("tpr", tp / (double) rs.size());
                o.put("tpr_lower95", lower95(tp, rs.size()));
                if (a == Attack.HYDRA) {
                    o.put("one_cluster", oneCluster);
                    o.put("one_cluster_pure", pure);
                }
                o.put("benign_accounts_flagged", falseFlags);
                ObjectNode fo = o.putObject("evidence");
                fired.forEach(fo::put);
            }
        }

        // detection delay: scans of the traffic so far, every 5 attacker queries, at a 10 % share
        ArrayNode delays = report.putArray("delay");
        for (Attack a : Attack.values()) {
            int k = (int) Math.round(0.10 * WINDOW);
            long span = a == Attack.LOW_AND_SLOW ? DAYS3 : HOURS2;
            List<int[]> d = fj.submit(() -> IntStream.range(0, delayWindows).parallel().mapToObj(w -> {
                SplittableRandom rnd = new SplittableRandom((17L + split.ordinal()) * 1_000_003L + a.ordinal() * 10_007L + w);
                List<Query> q = new ArrayList<>(TrafficSim.benign(pop, WINDOW - k, span, rnd));
                q.addAll(TrafficSim.attack(a, split, campaigns.get(a), k, span, rnd, "d" + w));
                q.sort(Comparator.comparingLong(Query::millis));
                int seen = 0;
                for (int i = 0; i < q.size(); i++) {
                    if (!q.get(i).attack()) continue;
                    seen++;
                    if (seen % 5 != 0 && seen != k) continue;
                    List<Query> prefix = q.subList(0, i + 1);
                    if (judge(scanner.scanAgainst(result(prefix), baseline), prefix, a).detected()) {
                        return new int[] {seen, i + 1};
                    }
                }
                return new int[] {-1, -1};
            }).toList()).get();
            int[] att = d.stream().filter(x -> x[0] > 0).mapToInt(x -> x[0]).sorted().toArray();
            int[] tot = d.stream().filter(x -> x[0] > 0).mapToInt(x -> x[1]).sorted().toArray();
            ObjectNode o = delays.addObject();
            o.put("attack", a.name().toLowerCase(Locale.ROOT));
            o.put("windows", d.size());
            o.put("detected", att.length);
            o.put("median_attack_queries", att.length == 0 ? -1 : att[att.length / 2]);
            o.put("max_attack_queries", att.length == 0 ? -1 : att[att.length - 1]);
            o.put("median_total_queries", tot.length == 0 ? -1 : tot[tot.length / 2]);
            System.out.printf(Locale.ROOT, "delay %-13s detected %d/%d by %d attacker queries (median; max %d), "
                    + "%d queries of all traffic%n", a, att.length, d.size(), att.length == 0 ? -1 : att[att.length / 2],
                    att.length == 0 ? -1 : att[att.length - 1], tot.length == 0 ? -1 : tot[tot.length / 2]);
        }
        // -Dtraffic.html=DIR: scan.json and scan.html of one window holding the hydra and the paraphrasing campaign at
        // 10 % each, to look at (bench/guard/scan-html.sh renders it)
        String html = System.getProperty("traffic.html");
        if (html != null) {
            SplittableRandom rnd = new SplittableRandom(99);
            List<Query> q = new ArrayList<>(TrafficSim.benign(pop, WINDOW - 100, HOURS2, rnd));
            q.addAll(TrafficSim.attack(Attack.HYDRA, split, campaigns.get(Attack.HYDRA), 50, HOURS2, rnd, "html"));
            q.addAll(TrafficSim.attack(Attack.PARAPHRASE, split, campaigns.get(Attack.PARAPHRASE), 50, HOURS2, rnd,
                    "html"));
            ScanWriter.write(scanner.scanAgainst(result(q), baseline), Path.of(html));
            System.out.println("wrote " + Path.of(html).resolve("scan.html"));
        }
        emb.close();
        if (DUMP_FILE != null) java.nio.file.Files.write(Path.of(DUMP_FILE), DUMP);
        report.put("seconds", Math.round((System.nanoTime() - t0) / 1e9));
        if (benignWindows == 0 && attackWindows == 0 && delayWindows == 0) return; // a report-only run (scan-html.sh)
        java.nio.file.Files.createDirectories(out);
        AtomicFiles.writeString(out.resolve("traffic-" + splitName + ".json"),
                Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(report));
        System.out.printf("wrote %s (%.0f s)%n", out.resolve("traffic-" + splitName + ".json"),
                (System.nanoTime() - t0) / 1e9);
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** What one window's scan says about the campaign (if any) and about the benign accounts. */
    record WindowResult(int accounts, boolean detected, int falseFlags, List<String> falseReasons,
                        List<String> attackEvidence, boolean oneCluster, boolean pureCluster, List<Double> attackMmd,
                        List<Double> benignMmd) {}

    /** Quantiles (0, 50, 90, 99, 100 %) of a list, for the diagnostics line. */
    static String quantiles(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (a.length == 0) return "none";
        return String.format(Locale.ROOT, "n=%d min %.4f med %.4f p90 %.4f p99 %.4f max %.4f", a.length, a[0],
                a[a.length / 2], a[(int) (a.length * 0.9)], a[(int) (a.length * 0.99)], a[a.length - 1]);
    }

    /** With {@code -Dtraffic.dump=FILE}: one line per scanned entity of at least 10 requests, every feature's value. */
    static final java.util.Queue<String> DUMP = new java.util.concurrent.ConcurrentLinkedQueue<>();
    static final String DUMP_FILE = System.getProperty("traffic.dump");

    static WindowResult judge(Scanner.Report rep, List<Query> q, Attack attack) {
        if (DUMP_FILE != null) {
            Set<String> att = new java.util.HashSet<>();
            for (Query x : q) if (x.attack()) att.add(x.account());
            for (Scanner.Entity e : rep.ranked()) {
                if (e.requests() < 10) continue;
                StringBuilder sb = new StringBuilder();
                sb.append(attack == null ? "BENIGN" : attack.name()).append('\t').append(q.size()).append('\t')
                        .append(e.kind()).append('\t').append(e.name()).append('\t')
                        .append(e.accounts().stream().anyMatch(att::contains)).append('\t').append(e.requests())
                        .append('\t').append(e.flagged());
                for (Scanner.Feature f : e.features()) {
                    sb.append('\t').append(f.name()).append('=').append(String.format(Locale.ROOT, "%.5g", f.value()))
                            .append(f.fired() ? "*" : "");
                }
                DUMP.add(sb.toString());
            }
        }
        Set<String> attackers = new java.util.TreeSet<>();
        for (Query x : q) if (x.attack()) attackers.add(x.account());
        boolean detected = false;
        int falseFlags = 0;
        List<String> reasons = new ArrayList<>();
        List<String> evidence = List.of();
        double bestScore = Double.NEGATIVE_INFINITY;
        boolean one = false, pure = false;
        List<Double> am = new ArrayList<>(), bm = new ArrayList<>();
        for (Scanner.Entity e : rep.ranked()) {
            boolean hasAttacker = e.accounts().stream().anyMatch(attackers::contains);
            double mmd = e.windows().stream().mapToDouble(Scanner.Window::mmd2).max().orElse(Double.NaN);
            if (!Double.isNaN(mmd) && e.kind().equals("account")) (hasAttacker ? am : bm).add(mmd);
            if (hasAttacker) {
                if (e.flagged()) detected = true;
                if (e.score() > bestScore || (e.flagged() && !detected)) {
                    bestScore = e.score();
                    evidence = e.fired().stream().map(f -> e.kind() + ":" + f.name()).toList();
                }
                if (e.accounts().containsAll(attackers)) {
                    one = true;
                    if (attackers.containsAll(e.accounts())) pure = true;
                }
            } else if (e.flagged()) {
                if (e.kind().equals("account")) falseFlags++;
                reasons.add(e.kind() + (e.kind().equals("account") ? " " + e.name() : "") + " "
                        + e.fired().stream().map(Scanner.Feature::name).sorted().toList());
            }
        }
        if (attackers.size() == 1) one = pure = true;
        return new WindowResult(rep.accounts(), detected, falseFlags + (reasons.isEmpty() || falseFlags > 0 ? 0 : 1),
                reasons, evidence, one, pure, am, bm);
    }

    static LogReader.Result result(List<Query> q) {
        List<LogRecord> recs = new ArrayList<>(q.size());
        for (Query x : q) recs.add(x.record());
        recs.sort(Comparator.comparing(LogRecord::time));
        return new LogReader.Result(recs, List.of(), List.of());
    }

    /** The exact (Clopper-Pearson) one-sided 95 % upper bound of a rate with {@code k} of {@code n}. */
    static double upper95(long k, long n) {
        if (k >= n) return 1;
        double lo = k / (double) n, hi = 1;
        for (int it = 0; it < 60; it++) {
            double mid = (lo + hi) / 2;
            if (binomCdf(k, n, mid) > 0.05) lo = mid;
            else hi = mid;
        }
        return hi;
    }

    static double lower95(long k, long n) {
        return 1 - upper95(n - k, n);
    }

    static double binomCdf(long k, long n, double p) {
        double s = 0;
        for (long i = 0; i <= k; i++) s += Math.exp(logChoose(n, i) + i * Math.log(p) + (n - i) * Math.log1p(-p));
        return s;
    }

    static double logChoose(long n, long k) {
        double s = 0;
        for (long i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
        return s;
    }

    private Traffic() {}
}
