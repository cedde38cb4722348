package dev.distill4j.guard.scan;

import dev.distill4j.guard.stats.Tails;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.Vectors;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Ranks accounts and linked account clusters of a request log by evidence of a distillation (extraction) campaign:
 * distribution shift of their queries against benign traffic ({@link Mmd}), behaviour (volume, timing, sampling
 * parameters, template reuse, topic breadth, the order of a topic sweep ({@link Sweep}), chain-of-thought
 * elicitation by phrase or by meaning ({@link ReasoningRequests}), one instruction reworded per request
 * ({@link Paraphrases})) and linking (shared templates, client
 * networks, timing), each feature reported with its value, threshold and whether it fired.
 *
 * <p>An entity (account or cluster) is flagged when it matches another provider's {@link Indicators}
 * ({@code indicator_match}, see {@link #indicatorMatch}), or when it made at least {@link Options#minRequests}
 * requests and
 * <ol>
 *   <li>it <em>significantly</em> collects what distillation trains on: the share of its requests that ask for
 *       logprobs or for reasoning passes an exact binomial test against {@link #SIGNAL_SHARE} at
 *       {@link #HARVEST_ALPHA} ({@code training_signal_share}, {@link Tails#binomialUpper}), or {@code mean_n} fires;</li>
 *   <li>a {@link #COVERAGE} feature fires (systematically generated prompts);</li>
 *   <li>at least {@link Options#minBehaviours} features fire ({@code mmd2} counting as one, temperature 0 not counted:
 *       {@link #NOT_COUNTED}; {@code template_share} and {@code affix_template_share}, two detectors of one fixed
 *       template, counting once: {@link #TEMPLATE});</li>
 *   <li>and when the coverage evidence is no more than a fixed template over a narrow subject (no
 *       {@link #GENERATION} feature: no topic sweep, no reworded instruction, no stream over many keys) — what
 *       every support bot, evaluation harness and classification pipeline looks like — both {@link #TRACES}
 *       features fire (soft labels and reasoning traces) and the instructions are not mostly transformations of
 *       supplied text ({@code transformation_share}).</li>
 * </ol>
 * Automation alone — a support bot's template at temperature 0, an evaluation script's bursts with logprobs — fires
 * several features, and a benign user's queries on their own few subjects shift the embedding distribution as far
 * as a one-topic campaign does (docs/guard.md, "Flagging and ranking"; measured by bench/guard/traffic.sh). With a
 * baseline, {@code mmd2} fires only above both the permutation threshold and the largest shift of a baseline
 * account ({@link Baseline#accountThreshold}). The score that orders the ranking is
 * {@code 1·[MMD fired] + 2·[indicator matched] + min(3, max MMD² / threshold) + (features fired)}.
 */
public final class Scanner {
    /** Scan settings; {@link #defaults()} are the CLI's defaults. */
    public record Options(int window, double fpr, int permutations, int minWindow, int minRequests,
                          int minBehaviours, int poolSize, long seed) {
        public static Options defaults() { return new Options(500, 0.001, 0, 20, 10, 3, 2000, 42); }

        /** Permutations actually run: as given, or enough that the threshold's quantile has 10 null values above it. */
        public int permutationsUsed() {
            return permutations > 0 ? permutations : (int) Math.max(1000, Math.ceil(10 / fpr));
        }
    }

    /** One feature's evidence: its value, the threshold it is compared with ({@code >=} or {@code <=}) and whether it fired. */
    public record Feature(String name, double value, String comparison, double threshold, boolean fired, String note) {}

    /** An MMD window: its first and last request times, size, statistic, threshold and p-value. */
    public record Window(java.time.Instant from, java.time.Instant to, int size, double mmd2, double threshold,
                        double pValue, boolean fired) {}

    /** A ranked account or cluster. */
    public record Entity(String kind, String name, List<String> accounts, List<String> links, int requests,
                         double score, boolean flagged, List<Feature> features, List<Window> windows,
                         List<String> topTemplates) {
        public List<Feature> fired() { return features.stream().filter(Feature::fired).toList(); }
    }

    /** Everything scan.json and scan.html show. */
    public record Report(Options options, int records, int embedded, List<LogReader.Malformed> malformed,
                         int accounts, String baseline, int poolSize, double sigma,
                         List<Mmd.Calibration> calibrations, List<Entity> ranked,
                         Map<String, List<java.time.Instant>> times) {
        public boolean anyFlagged() { return ranked.stream().anyMatch(Entity::flagged); }
    }

    // behavioural thresholds (documented in docs/guard.md)
    static final double PEAK_RPM = 30;
    static final double REGULAR_CV = 0.25;
    static final double BURSTY_CV = 4;
    static final double LOGPROBS_SHARE = 0.3;
    static final double TEMP0_SHARE = 0.8;
    static final double MEAN_N = 4;
    static final double TEMPLATE_SHARE = 0.5;
    static final double AFFIX_SHARE = 0.8;
    static final double NARROW_SPREAD = 0.6;
    static final double COT_SHARE = 0.3;
    /** Paraphrased instructions ({@link Paraphrases}): share of an entity's queries at which the feature fires. */
    static final double PARAPHRASE_SHARE = 0.5;
    /**
     * Queries an account needs before {@code instruction_paraphrase_share} can fire: in a few queries every wording
     * is new even for a person with habits (three favourite phrasings repeat only after several questions).
     */
    static final int PARAPHRASE_MIN_QUERIES = 20;
    /** Topic sweep: permutation p-value of the order test ({@link Sweep}) at or below which it fires. */
    static final double SWEEP_P = 1e-3;
    /** Permutations the sweep test may run (it stops early for accounts whose order is unremarkable). */
    static final int SWEEP_PERMUTATIONS = 20_000;
    /**
     * The two kinds of teacher output distillation trains on beyond the text: soft labels (logprobs over a
     * generation) and reasoning traces (chain-of-thought elicitation). A fixed template that asks for both, and is no
     * transformation of supplied text, is flagged without a {@link #GENERATION} feature. Several samples per prompt
     * ({@code mean_n}) counted as a third kind until session 13: the fresh split's self-consistency voters (n = 5 with
     * reasoning) and semantic-entropy estimators (n = 10 with logprobs) are what 2026 clients do to measure
     * uncertainty, and were flagged so in 168 and 149 of its 1,000 benign windows. Temperature 0 is none of them:
     * it is the default of most automation (support bots, evaluation scripts), so it supports a flag but does not
     * make one.
     */
    static final Set<String> TRACES = Set.of("logprobs_share", "cot_elicitation_share");
    /**
     * The harvest evidence a flag needs ({@code training_signal_share}): the share of an entity's requests that
     * collect a training signal — ask for logprobs/top_logprobs or for a reasoning trace — must be significantly
     * above this rate: k of n is evidence when the exact one-sided binomial P(X ≥ k | n, 0.3) ≤ {@link #HARVEST_ALPHA}
     * ({@link Tails#binomialUpper}). A client whose habit is 0.3 or less (a support bot asking for logprobs on a fifth of its
     * requests) reaches an observed share of 0.3 by chance in a small window; it does not pass this test. The share
     * features ({@code logprobs_share}, {@code cot_elicitation_share}) still fire at an observed 0.3 and count toward
     * {@link Options#minBehaviours}. One test of the union rather than one per feature: a campaign that asks for
     * logprobs on half its requests and for reasoning on a third of them collects a signal on most of them.
     */
    static final double SIGNAL_SHARE = 0.3;
    /** Level of the {@link #SIGNAL_SHARE} test. */
    static final double HARVEST_ALPHA = 0.01;
    /**
     * Coverage that only a generator of prompts leaves: the order of a sweep through material, one instruction
     * reworded per request, one template's stream divided over many keys. A fixed template over one subject
     * (template, affix, narrow spread, shift) is also what every support bot, evaluation harness and classification
     * pipeline sends.
     */
    static final Set<String> GENERATION = Set.of("topic_sweep", "instruction_paraphrase_share", "key_spread");
    /**
     * {@code key_spread}: a linked cluster's most used template sent by at least this many accounts, none of them
     * sending {@link #KEY_SPREAD_LARGEST} of it or more — one prompt stream divided over many keys (a hydra), which
     * neither one bot nor a few applications that happen to share a framework's default prompt look like.
     */
    static final int KEY_SPREAD_ACCOUNTS = 10;
    /** ... and none of them sending this share of it or more (a cluster carried by one big account is that account). */
    static final double KEY_SPREAD_LARGEST = 0.25;
    /** Two detectors of one fact, a fixed prompt template (MinHash groups, shared affixes): they count once. */
    static final Set<String> TEMPLATE = Set.of("template_share", "affix_template_share");
    /** Features of systematic coverage: a prompt template, a narrow topic sweep, a shift away from benign traffic. */
    static final Set<String> COVERAGE = Set.of("template_share", "affix_template_share", "topic_spread", "mmd2",
            "topic_sweep", "instruction_paraphrase_share", "key_spread");
    /**
     * Features that raise the score but do not count toward {@link Options#minBehaviours}: greedy decoding is the
     * default of most programmatic clients (evaluation loops, bots), so on its own it says "a script", not "a
     * harvester"; counted, it made every developer who asks for logprobs two features away from a flag.
     */
    static final Set<String> NOT_COUNTED = Set.of("temperature0_share", "training_signal_share",
            "transformation_share");
    /**
     * Replies of fewer tokens are a scored label, a yes/no or a short answer: logprobs on them are a confidence
     * score, not the per-token distributions over a generation that top-k distillation trains on. A request whose
     * reply length is not logged (0) counts as long.
     */
    static final int LONG_REPLY = 16;
    /** Queries of an account through one instruction before the order test uses their centred embeddings. */
    static final int CENTER_MIN = 8;
    /** Share of an entity's queries with a transformation instruction ({@link Asks}) at which it processes documents. */
    static final double TRANSFORMATION_SHARE = 0.5;
    /** Template linking: the template is at least this share of each linked account's queries. */
    static final double LINK_TEMPLATE_SHARE = 0.3;
    /** Accounts that must share a template before those with a single instance of it are linked by it. */
    static final int LINK_SINGLE_ACCOUNTS = 3;
    /** Timing linking: cosine similarity of per-minute request counts. */
    static final double LINK_TIMING_COSINE = 0.9;
    static final int LINK_TIMING_MIN_MINUTES = 5;

    public static final Pattern COT = Pattern.compile("(?i)step[- ]by[- ]step|show (your|all|the|me your) (work|reasoning|"
            + "steps|thinking)|explain your reasoning|reason(ing)? (it )?(out|through)|think (it )?through|"
            + "chain[- ]of[- ]thought|walk me through|before (giving|answering)|(full|detailed|complete) "
            + "(reasoning|derivation|solution)|justify each step|let'?s think");

    private final EmbeddingModel embedder;
    private final Options o;
    private final List<Indicators> indicators;
    private volatile ReasoningRequests reasoning;
    private volatile Asks asks;

    public Scanner(EmbeddingModel embedder, Options options) {
        this(embedder, options, List.of());
    }

    /** A scanner that also matches entities against other providers' indicator files ({@code --indicators}). */
    public Scanner(EmbeddingModel embedder, Options options, List<Indicators> indicators) {
        this.embedder = embedder;
        this.o = options;
        this.indicators = List.copyOf(indicators);
    }

    /**
     * Scans {@code log}; {@code baseline} (may be null) is known-benign traffic, else every account is compared
     * with the traffic of the others.
     */
    public Report scan(LogReader.Result log, LogReader.Result baseline) {
        return scanAgainst(log, baseline == null ? null : baseline(baseline));
    }

    /**
     * A known-benign baseline prepared once: its stratified pool of query embeddings, the {@link Mmd} over it (whose
     * permutation thresholds are cached per window size) and its topic spread. Scanning many logs against one
     * baseline (a cron job's daily scans, the evaluation harness's windows) reuses it instead of re-embedding and
     * re-calibrating each time.
     */
    public record Baseline(float[][] pool, Mmd mmd, double spread, String name, double[] accountShifts,
                           Map<String, Integer> df, int texts, ReasoningRequests reasoning) {
        /**
         * The largest MMD² of a baseline account's own queries against the rest of the baseline (NaN when no
         * baseline account has a window's minimum of queries): how far an ordinary user's traffic sits from
         * everyone's. Benign users ask about their own few subjects, so their shift is far above what the
         * permutation null (queries drawn independently from the pool) allows; a scanned entity's shift counts as
         * evidence only above both.
         */
        public double accountThreshold() {
            return accountShifts.length == 0 ? Double.NaN : accountShifts[accountShifts.length - 1];
        }
    }

    /** Prepares {@code baseline} (known-benign traffic) for {@link #scanAgainst}. */
    public Baseline baseline(LogReader.Result baseline) {
        SplittableRandom rnd = new SplittableRandom(o.seed());
        List<LogRecord> b = baseline.records().stream().filter(r -> r.query() != null).toList();
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < b.size(); i++) groups.computeIfAbsent(b.get(i).account(), a -> new ArrayList<>()).add(i);
        int[] pick = stratified(new ArrayList<>(groups.values()), rnd);
        float[][] pool = embed(java.util.Arrays.stream(pick).mapToObj(i -> b.get(i).query()).toList());
        Mmd mmd = pool.length >= 2 * o.minWindow() ? new Mmd(pool, o.fpr(), o.permutationsUsed(), o.seed()) : null;
        // account-level null: each baseline account with a window's minimum of queries against the pool less its own
        List<Double> shifts = new ArrayList<>();
        if (mmd != null) {
            Map<Integer, List<Integer>> poolOf = new HashMap<>();
            List<String> names = new ArrayList<>(groups.keySet());
            Map<String, Integer> gi = new HashMap<>();
            for (int g = 0; g < names.size(); g++) gi.put(names.get(g), g);
            for (int q = 0; q < pick.length; q++) {
                poolOf.computeIfAbsent(gi.get(b.get(pick[q]).account()), x -> new ArrayList<>()).add(q);
            }
            for (int g = 0; g < names.size(); g++) {
                List<Integer> mine = groups.get(names.get(g));
                int m = Math.min(Math.min(o.window(), mmd.maxWindow()), mine.size());
                if (m < o.minWindow()) continue;
                float[][] w = embed(mine.subList(0, m).stream().map(i -> b.get(i).query()).toList());
                int[] ex = poolOf.getOrDefault(g, List.of()).stream().mapToInt(Integer::intValue).toArray();
                shifts.add(mmd.statistic(w, ex));
            }
        }
        double[] acc = shifts.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        ReasoningRequests reasons = reasoning().calibrate(b.stream().map(LogRecord::query).toList(),
                ReasoningRequests.CALIBRATION_RATE);
        return new Baseline(pool, mmd, spread(pool), String.format(Locale.ROOT, "--baseline (%d records, %d accounts; "
                + "account-level MMD² threshold %s from the %d with >= %d queries; reasoning-request margin %.4f)",
                baseline.records().size(), groups.size(), acc.length == 0 ? "none" : String.format(Locale.ROOT, "%.4f",
                        acc[acc.length - 1]), acc.length, o.minWindow(), reasons.threshold()), acc,
                Sweep.documentFrequencies(b.stream().map(LogRecord::query).toList()),
                (int) b.stream().map(LogRecord::query).distinct().count(), reasons);
    }

    /** Scans {@code log} against a prepared baseline (null: every account against the others' traffic). */
    public Report scanAgainst(LogReader.Result log, Baseline baseline) {
        List<LogRecord> recs = log.records();
        List<String> accounts = new ArrayList<>(new java.util.TreeSet<>(recs.stream().map(LogRecord::account).toList()));
        Map<String, Integer> accountIdx = new HashMap<>();
        for (int i = 0; i < accounts.size(); i++) accountIdx.put(accounts.get(i), i);
        List<List<Integer>> byAccount = new ArrayList<>();
        for (int i = 0; i < accounts.size(); i++) byAccount.add(new ArrayList<>());
        for (int i = 0; i < recs.size(); i++) byAccount.get(accountIdx.get(recs.get(i).account())).add(i);

        int[] template = Templates.group(recs.stream().map(LogRecord::query).toList());
        float[][] emb = embed(recs.stream().map(LogRecord::query).toList());
        ReasoningRequests reasons = baseline == null ? reasoning() : baseline.reasoning();
        ReasoningRequests.Match[] cot = reasons.match(recs.stream().map(LogRecord::query).toList());
        // each query's instruction without its content (and without reasoning requests), for the paraphrase feature
        List<String> wrappers = recs.stream().map(r -> Paraphrases.wrapper(r.query(), reasons::isReasoning)).toList();
        List<String> distinctWrappers = Paraphrases.distinct(wrappers);
        Map<String, float[]> wrapperVectors = Paraphrases.index(distinctWrappers, embed(distinctWrappers));
        // word vectors for the sweep test, idf over this log's queries (and the baseline's, when given)
        List<String> texts = new ArrayList<>(recs.stream().map(LogRecord::query).toList());
        Map<String, Integer> df = Sweep.documentFrequencies(texts);
        int docs = (int) texts.stream().filter(t -> t != null).distinct().count();
        if (baseline != null) {
            baseline.df().forEach((w, c) -> df.merge(w, c, Integer::sum));
            docs += baseline.texts();
        }
        // each query's content: what its account's template leaves free (Affixes), else its longest sentence
        Affixes.Split[] split = new Affixes.Split[recs.size()];
        for (List<Integer> idx : byAccount) {
            Affixes.Split[] s = Affixes.split(idx.stream().map(i -> recs.get(i).query()).toList());
            for (int j = 0; j < s.length; j++) split[idx.get(j)] = s[j];
        }
        Map<String, Double>[] words = new Map[recs.size()];
        for (int i = 0; i < words.length; i++) {
            words[i] = recs.get(i).query() == null ? null : Sweep.tfidf(split[i] != null ? split[i].content()
                    : ReasoningRequests.content(recs.get(i).query()), df, docs);
        }
        // the sweep's embedding of a templated query: its embedding less the mean of its account's queries through
        // the same instruction, so that what remains is what the slot adds (the fixed words weigh the same in all)
        float[][] sweepEmb = centered(byAccount, split, emb);
        // the later turns of a conversation an account already started (chat applications, agents): read through
        // its first turn only, by the harvest gate and the order test (Conversations; an account's records are in
        // time order, as the log's are)
        boolean[] continuation = new boolean[recs.size()];
        for (List<Integer> idx : byAccount) {
            boolean[] c = Conversations.continuations(idx.stream().map(i -> recs.get(i).query()).toList());
            for (int j = 0; j < c.length; j++) continuation[idx.get(j)] = c[j];
        }
        // what each templated query asks: a transformation of its content, or an open request (Asks)
        double[] askMargin = asks().margins(java.util.Arrays.stream(split).map(x -> x == null ? null
                : x.instruction()).toList());
        boolean[] transformation = new boolean[recs.size()];
        for (int i = 0; i < transformation.length; i++) transformation[i] = askMargin[i] >= Asks.MARGIN;
        long[][] sig = new long[recs.size()][];
        if (!indicators.isEmpty()) {
            for (int i = 0; i < sig.length; i++) if (recs.get(i).query() != null) sig[i] = Templates.signature(recs.get(i).query());
        }

        // linking
        UnionFind uf = new UnionFind(accounts.size());
        Map<Integer, Set<String>> why = new HashMap<>();
        linkByTemplate(byAccount, template, uf, why, accounts);
        linkByNetwork(recs, byAccount, uf, why, accounts);
        linkByTiming(recs, byAccount, uf, why, accounts);

        // baseline pool, each linked group (or baseline account) capped at an equal share
        float[][] pool;
        int[] poolOwner; // record index in the scanned log, or -1
        String baselineName;
        Mmd mmd;
        double poolSpread;
        double accountThreshold = Double.NaN;
        if (baseline != null) {
            accountThreshold = baseline.accountThreshold();
            pool = baseline.pool();
            poolOwner = new int[pool.length];
            java.util.Arrays.fill(poolOwner, -1);
            baselineName = baseline.name();
            mmd = baseline.mmd();
            poolSpread = baseline.spread();
        } else {
            SplittableRandom rnd = new SplittableRandom(o.seed());
            Map<Integer, List<Integer>> groups = new TreeMap<>();
            for (int i = 0; i < recs.size(); i++) {
                if (emb[i] != null) groups.computeIfAbsent(uf.find(accountIdx.get(recs.get(i).account())),
                        g -> new ArrayList<>()).add(i);
            }
            poolOwner = stratified(new ArrayList<>(groups.values()), rnd);
            pool = new float[poolOwner.length][];
            for (int i = 0; i < poolOwner.length; i++) pool[i] = emb[poolOwner[i]];
            baselineName = "the other accounts' traffic (" + groups.size() + " linked groups, equal shares)";
            mmd = pool.length >= 2 * o.minWindow() ? new Mmd(pool, o.fpr(), o.permutationsUsed(), o.seed()) : null;
            poolSpread = spread(pool);
        }

        // entities: every account, and every linked cluster of two or more
        List<Entity> entities = new ArrayList<>();
        Map<Integer, List<Integer>> clusters = new TreeMap<>();
        for (int a = 0; a < accounts.size(); a++) clusters.computeIfAbsent(uf.find(a), r -> new ArrayList<>()).add(a);
        for (int a = 0; a < accounts.size(); a++) {
            entities.add(entity("account", accounts.get(a), List.of(accounts.get(a)), List.of(), byAccount.get(a),
                    recs, template, emb, cot, reasons.threshold(), wrappers, wrapperVectors, words, sig, mmd, poolOwner,
                    poolSpread, accountThreshold, transformation, sweepEmb, continuation));
        }
        int c = 0;
        for (var e : clusters.entrySet()) {
            if (e.getValue().size() < 2) continue;
            List<String> members = e.getValue().stream().map(accounts::get).toList();
            List<Integer> idx = new ArrayList<>();
            for (int a : e.getValue()) idx.addAll(byAccount.get(a));
            idx.sort(Comparator.comparing(i -> recs.get(i).time()));
            Set<String> links = new LinkedHashSet<>();
            for (int a : e.getValue()) links.addAll(why.getOrDefault(a, Set.of()));
            entities.add(entity("cluster", "cluster-" + (++c), members, List.copyOf(links), idx, recs, template,
                    emb, cot, reasons.threshold(), wrappers, wrapperVectors, words, sig, mmd, poolOwner, poolSpread,
                    accountThreshold, transformation, sweepEmb, continuation));
        }
        entities.sort(Comparator.comparing(Entity::flagged).thenComparingDouble(Entity::score).reversed()
                .thenComparing(Entity::name));

        List<Mmd.Calibration> cal = new ArrayList<>();
        if (mmd != null) {
            Set<Integer> sizes = new java.util.TreeSet<>();
            for (Entity e : entities) for (Window w : e.windows()) sizes.add(w.size());
            for (int m : sizes) cal.add(mmd.calibration(m));
        }
        Map<String, List<java.time.Instant>> times = new LinkedHashMap<>();
        Set<String> shown = new java.util.HashSet<>();
        for (Entity e : entities) {
            if (times.size() >= 6) break;
            // an account of a cluster already drawn adds a line that says nothing new
            if (e.kind().equals("account") && shown.contains(e.accounts().get(0))) continue;
            shown.addAll(e.accounts());
            List<java.time.Instant> t = new ArrayList<>();
            for (LogRecord r : recs) if (e.accounts().contains(r.account())) t.add(r.time());
            times.put(e.name(), t);
        }
        int embedded = 0;
        for (float[] v : emb) if (v != null) embedded++;
        return new Report(o, recs.size(), embedded, log.malformed(), accounts.size(), baselineName, pool.length,
                mmd == null ? Double.NaN : mmd.sigma(), cal, List.copyOf(entities), times);
    }

    private Entity entity(String kind, String name, List<String> accounts, List<String> links, List<Integer> idx,
                          List<LogRecord> recs, int[] template, float[][] emb, ReasoningRequests.Match[] cot,
                          double cotThreshold, List<String> wrappers, Map<String, float[]> wrapperVectors,
                          Map<String, Double>[] words, long[][] sig, Mmd mmd,
                          int[] poolOwner, double poolSpread, double accountThreshold, boolean[] transformation,
                          float[][] sweepEmb, boolean[] continuation) {
        List<Feature> f = new ArrayList<>();
        int n = idx.size();
        // volume and timing
        Map<Long, Integer> perMinute = new HashMap<>();
        for (int i : idx) perMinute.merge(recs.get(i).time().getEpochSecond() / 60, 1, Integer::sum);
        int peak = perMinute.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        f.add(new Feature("peak_requests_per_minute", peak, ">=", PEAK_RPM, peak >= PEAK_RPM, "volume"));
        double cv = interArrivalCv(idx, recs);
        boolean timed = n >= 20 && !Double.isNaN(cv);
        f.add(new Feature("regular_timing_cv", cv, "<=", REGULAR_CV, timed && cv <= REGULAR_CV,
                "coefficient of variation of inter-arrival times; a script's fixed pace is near 0, people near 1+"));
        f.add(new Feature("burstiness_cv", cv, ">=", BURSTY_CV, timed && cv >= BURSTY_CV,
                "inter-arrival CV far above 1: bursts of many requests"));
        double lp = share(idx, i -> softLabels(recs.get(i)));
        f.add(new Feature("logprobs_share", lp, ">=", LOGPROBS_SHARE, lp >= LOGPROBS_SHARE, String.format(Locale.ROOT,
                "requests asking for logprobs/top_logprobs over a generation of >= %d tokens or of unlogged length "
                        + "(soft labels for distillation; a scored label's few tokens are not)", LONG_REPLY)));
        double t0 = share(idx, i -> recs.get(i).temperature() <= 0.01);
        f.add(new Feature("temperature0_share", t0, ">=", TEMP0_SHARE, t0 >= TEMP0_SHARE, "greedy decoding"));
        double meanN = idx.stream().mapToInt(i -> recs.get(i).n()).average().orElse(1);
        f.add(new Feature("mean_n", meanN, ">=", MEAN_N, meanN >= MEAN_N, "completions per request"));
        List<Integer> withText = idx.stream().filter(i -> recs.get(i).query() != null).toList();
        double tpl = withText.isEmpty() ? 0 : withText.stream().filter(i -> template[i] >= 0).count()
                / (double) withText.size();
        f.add(new Feature("template_share", tpl, ">=", TEMPLATE_SHARE, tpl >= TEMPLATE_SHARE,
                "queries that are instances of a prompt template (near-duplicates differing in slots)"));
        // a cluster's main template split thinly over many keys: one prompt stream divided to stay small per account
        Map<Integer, Map<String, Integer>> byTemplate = new HashMap<>();
        for (int i : withText) {
            if (template[i] >= 0) byTemplate.computeIfAbsent(template[i], t -> new HashMap<>())
                    .merge(recs.get(i).account(), 1, Integer::sum);
        }
        Map<String, Integer> main = byTemplate.values().stream().max(Comparator.comparingInt(
                (Map<String, Integer> m) -> m.values().stream().mapToInt(Integer::intValue).sum())).orElse(Map.of());
        int mainTotal = main.values().stream().mapToInt(Integer::intValue).sum();
        double largest = mainTotal == 0 ? 1 : main.values().stream().mapToInt(Integer::intValue).max().orElse(0)
                / (double) mainTotal;
        f.add(new Feature("key_spread", main.size(), ">=", KEY_SPREAD_ACCOUNTS, kind.equals("cluster")
                && main.size() >= KEY_SPREAD_ACCOUNTS && largest < KEY_SPREAD_LARGEST, String.format(Locale.ROOT,
                "accounts sending the entity's most used template (%d queries), the largest of them %.0f %% of it; "
                        + "fires for a cluster when >= %d accounts share it and none sends %.0f %% or more",
                mainTotal, 100 * largest, KEY_SPREAD_ACCOUNTS, 100 * KEY_SPREAD_LARGEST)));
        double affix = Templates.affixShare(withText.stream().map(i -> recs.get(i).query()).toList());
        boolean affixFired = withText.size() >= o.minRequests() && affix >= AFFIX_SHARE;
        f.add(new Feature("affix_template_share", affix, ">=", AFFIX_SHARE, affixFired, "queries sent through the entity's one or two fixed instructions (same first "
                + "or last " + Templates.AFFIX_TOKENS + " words around a slot)"));
        double cots = withText.isEmpty() ? 0 : withText.stream().filter(i -> cot[i].reasoning()).count()
                / (double) withText.size();
        f.add(new Feature("cot_elicitation_share", cots, ">=", COT_SHARE, cots >= COT_SHARE, String.format(Locale.ROOT,
                "queries asking for step-by-step reasoning (phrase list, or an instruction sentence nearer to a "
                        + "reasoning request than to an ordinary instruction by a cosine margin >= %.3f)",
                cotThreshold)));
        // the harvest gate: requests that collect a training signal (soft labels or a reasoning trace), tested
        // only a prompt the entity sends for the first time: a rerun of the same prompt adds no new training pair;
        // and a conversation counts through its first turn (its later turns are built from it)
        Set<String> sent = new java.util.HashSet<>();
        int signal = 0;
        for (int i : idx) {
            String q = recs.get(i).query();
            boolean fresh = q == null || (sent.add(q) && !continuation[i]);
            if (fresh && (softLabels(recs.get(i)) || (q != null && cot[i].reasoning()))) signal++;
        }
        double signalShare = n == 0 ? 0 : signal / (double) n;
        double signalP = Tails.binomialUpper(signal, n, SIGNAL_SHARE).value();
        f.add(new Feature("training_signal_share", signalShare, ">= (significantly)", SIGNAL_SHARE,
                signalShare >= SIGNAL_SHARE && signalP <= HARVEST_ALPHA, String.format(Locale.ROOT, "first-sent "
                        + "prompts asking for logprobs over a generation or for reasoning: %d of %d requests; exact binomial P(X >= %d | %d, %.2f) = %.3g, "
                        + "fires at <= %s (the harvest evidence a flag needs; not counted among its features)",
                        signal, n, signal, n, SIGNAL_SHARE, signalP, HARVEST_ALPHA)));
        double para = Paraphrases.share(withText.stream().map(wrappers::get).toList(), wrapperVectors);
        // an account only: in a cluster, different people's wordings are different by nature (users behind one NAT);
        // and with enough queries that a habit would have repeated its wording
        f.add(new Feature("instruction_paraphrase_share", para, ">=", PARAPHRASE_SHARE, kind.equals("account")
                && withText.size() >= PARAPHRASE_MIN_QUERIES && !affixFired && para >= PARAPHRASE_SHARE,
                String.format(Locale.ROOT, "queries that reword one instruction (wrappers at cosine >= %.2f) without "
                        + "ever repeating its wording; an account of >= %d queries without an affix template",
                        Paraphrases.SIMILAR, PARAPHRASE_MIN_QUERIES)));
        List<float[]> vs = withText.stream().map(i -> emb[i]).filter(v -> v != null).toList();
        double sp = vs.size() >= 2 ? spread(vs.toArray(float[][]::new)) : Double.NaN;
        double spThr = NARROW_SPREAD * poolSpread;
        f.add(new Feature("topic_spread", sp, "<=", spThr, vs.size() >= 10 && sp <= spThr,
                "embedding spread (1 - |mean|², unbiased); a topic sweep is narrower than general traffic ("
                        + NARROW_SPREAD + " x the baseline's " + String.format(Locale.ROOT, "%.3f", poolSpread)
                        + ")"));
        Map<String, List<Sweep.Item>> perAccount = new LinkedHashMap<>();
        // the order of the material an entity asks open questions about: a transformation's text is processed,
        // not asked about, so those queries stay out of the order test
        for (int i : withText) {
            // (and a conversation's later turns: each contains the one before, alike by construction)
            if (transformation[i] || continuation[i]) continue;
            perAccount.computeIfAbsent(recs.get(i).account(), a -> new ArrayList<>()).add(new Sweep.Item(sweepEmb[i],
                    words[i]));
        }
        Sweep.Result sw = Sweep.test(new ArrayList<>(perAccount.values()), 2 * o.window(), SWEEP_PERMUTATIONS,
                o.seed() ^ name.hashCode());
        f.add(new Feature("topic_sweep", sw.p(), "<=", SWEEP_P, n >= o.minRequests() && sw.p() <= SWEEP_P,
                String.format(Locale.ROOT, "permutation p-value of the query order: consecutive queries (of one "
                        + "account) are %.3f more alike in cosine than any two (%d pairs, %d permutations); a sweep "
                        + "walks its material in order", sw.d(), sw.pairs(), sw.permutations())));
        double transform = withText.isEmpty() ? 0 : withText.stream().filter(i -> transformation[i]).count()
                / (double) withText.size();
        f.add(new Feature("transformation_share", transform, ">=", TRANSFORMATION_SHARE,
                transform >= TRANSFORMATION_SHARE, String.format(Locale.ROOT, "queries whose fixed instruction asks "
                        + "to transform or judge the text it supplies (translate, rewrite, summarise, classify, "
                        + "extract) rather than for an explanation (margin >= %.2f); fired, the order of the material "
                        + "is document processing and topic_sweep is no generation evidence (not counted)",
                        Asks.MARGIN)));
        int behaviours = (int) f.stream().filter(Feature::fired).count();

        // distribution shift
        List<Window> windows = new ArrayList<>();
        if (mmd != null) {
            List<Integer> e = withText.stream().filter(i -> emb[i] != null).toList();
            int m = Math.min(Math.min(o.window(), mmd.maxWindow()), e.size());
            if (m >= o.minWindow()) {
                Set<Integer> mine = new java.util.HashSet<>(e);
                // the pool positions holding this entity's own queries: it is compared with the others' traffic
                List<Integer> ex = new ArrayList<>();
                for (int q = 0; q < poolOwner.length; q++) if (poolOwner[q] >= 0 && mine.contains(poolOwner[q])) ex.add(q);
                int[] exclude = ex.stream().mapToInt(Integer::intValue).toArray();
                Mmd.Calibration cal = mmd.calibration(m);
                List<Integer> starts = new ArrayList<>();
                for (int s = 0; s + m <= e.size(); s += m) starts.add(s);
                if (e.size() % m != 0) starts.add(e.size() - m);
                for (int s : starts) {
                    float[][] w = new float[m][];
                    for (int j = 0; j < m; j++) w[j] = emb[e.get(s + j)];
                    double stat = mmd.statistic(w, exclude);
                    double thr = Double.isNaN(accountThreshold) ? cal.threshold()
                            : Math.max(cal.threshold(), accountThreshold);
                    windows.add(new Window(recs.get(e.get(s)).time(), recs.get(e.get(s + m - 1)).time(), m, stat,
                            thr, mmd.pValue(m, stat), stat > thr));
                }
            }
        }
        Window worst = windows.stream().max(Comparator.comparingDouble(Window::mmd2)).orElse(null);
        boolean mmdFired = worst != null && worst.fired();
        if (worst != null) {
            f.add(0, new Feature("mmd2", worst.mmd2(), ">", worst.threshold(), mmdFired, String.format(Locale.ROOT,
                    "largest over %d window(s) of %d queries; empirical p = %.2g", windows.size(), worst.size(),
                    worst.pValue())));
        }
        Feature ind = indicators.isEmpty() ? null : indicatorMatch(withText, emb, sig);
        if (ind != null) f.add(0, ind);
        boolean indFired = ind != null && ind.fired();
        behaviours += mmdFired ? 1 : 0;
        Set<String> fired = new java.util.HashSet<>();
        for (Feature x : f) if (x.fired()) fired.add(x.name());
        // a sweep through text that the prompts transform is what a document-processing job does (a translation
        // batch, an extraction pipeline, an evaluation set grouped by document): shown, but no evidence of a harvest
        if (fired.contains("transformation_share") && fired.remove("topic_sweep")) behaviours--;
        // harvest evidence must be significant: a share near its threshold is what a client with that habit sends
        boolean harvests = fired.contains("training_signal_share") || fired.contains("mean_n");
        long traces = fired.stream().filter(TRACES::contains).count();
        boolean covers = fired.stream().anyMatch(COVERAGE::contains);
        // temperature 0 is every script's default: it raises the score but is not one of the features a flag counts;
        // a fixed template seen by both template detectors is one fact
        int counted = behaviours - (int) fired.stream().filter(NOT_COUNTED::contains).count()
                - (fired.containsAll(TEMPLATE) ? 1 : 0);
        // a fixed template over one subject is every bot's and harness's shape: without a sweep or reworded
        // instructions, ask for both soft labels and reasoning traces, about text it does not merely transform (a
        // judge that reasons before a verdict and reads its logprobs transforms the text it is given)
        boolean generated = fired.stream().anyMatch(GENERATION::contains);
        boolean flagged = indFired || (harvests && covers && counted >= o.minBehaviours()
                && (generated || (traces == TRACES.size() && !fired.contains("transformation_share")))
                && n >= o.minRequests());
        double ratio = worst == null || worst.threshold() <= 0 ? 0 : Math.max(0, worst.mmd2() / worst.threshold());
        double score = (mmdFired ? 1 : 0) + (indFired ? 2 : 0) + Math.min(3, ratio) + behaviours;

        Map<Integer, Integer> tcount = new HashMap<>();
        for (int i : withText) if (template[i] >= 0) tcount.merge(template[i], 1, Integer::sum);
        List<String> top = tcount.entrySet().stream().sorted(Map.Entry.<Integer, Integer>comparingByValue().reversed())
                .limit(3).map(en -> {
                    String ex = withText.stream().filter(i -> template[i] == en.getKey()).findFirst()
                            .map(i -> recs.get(i).query()).orElse("");
                    return "template " + en.getKey() + " (" + en.getValue() + " queries), e.g. "
                            + (ex.length() > 160 ? ex.substring(0, 157) + "..." : ex);
                }).toList();
        return new Entity(kind, name, accounts, links, n, score, flagged, List.copyOf(f), List.copyOf(windows), top);
    }

    /**
     * The best match of an entity's queries against the indicators: a template match when at least
     * {@value Templates#MIN_GROUP} of its queries, and at least {@value #LINK_TEMPLATE_SHARE} of them, agree with one
     * indicator template's MinHash signature at {@link Templates#SIMILARITY} or more (the same test that groups
     * templates within one log); a centroid match when at least the indicator's calibration subset of its queries
     * have a unit-mean embedding whose cosine to the indicator's centroid reaches the indicator's calibrated
     * {@code match_cosine} (only when the file's embedder is this scan's). Returns the fired match, else the closest
     * miss, as one feature naming the indicator.
     */
    private Feature indicatorMatch(List<Integer> withText, float[][] emb, long[][] sig) {
        Feature best = null;
        double bestRatio = Double.NEGATIVE_INFINITY;
        for (Indicators file : indicators) {
            String from = file.source() == null ? "" : " from " + file.source();
            boolean sameSpace = file.embedder().equals(embedder.name()) && file.dimension() == embedder.dimension();
            for (Indicators.Indicator ind : file.list()) {
                for (int t = 0; t < ind.templates().size(); t++) {
                    long[] fp = ind.templates().get(t).minhash();
                    int hits = 0;
                    double top = 0;
                    for (int i : withText) {
                        double a = Templates.agreement(sig[i], fp);
                        top = Math.max(top, a);
                        if (a >= Templates.SIMILARITY) hits++;
                    }
                    boolean fired = hits >= Templates.MIN_GROUP && hits >= LINK_TEMPLATE_SHARE * withText.size();
                    double ratio = top / Templates.SIMILARITY + (fired ? 10 : 0);
                    if (ratio > bestRatio) {
                        bestRatio = ratio;
                        best = new Feature("indicator_match", top, ">=", Templates.SIMILARITY, fired, String.format(
                                Locale.ROOT, "indicator %s%s, template %d: %d of %d queries agree with its MinHash "
                                        + "fingerprint at >= %.2f (best %.2f)", ind.id(), from, t + 1, hits,
                                withText.size(), Templates.SIMILARITY, top));
                    }
                }
                if (!sameSpace || ind.centroid() == null || Double.isNaN(ind.matchCosine())) continue;
                List<float[]> vs = withText.stream().map(i -> emb[i]).filter(v -> v != null).toList();
                int k = ind.calibration() == null ? Indicators.CAL_SUBSET : ind.calibration().subset();
                if (vs.size() < Math.max(2, k)) continue;
                double cos = Indicators.cosine(Indicators.unitMean(vs.toArray(float[][]::new)), ind.centroid());
                boolean fired = cos >= ind.matchCosine();
                // distance below the threshold in units of the room left above it, comparable with template ratios
                double ratio = (1 - ind.matchCosine()) / Math.max(1e-9, 1 - cos) + (fired ? 10 : 0);
                if (ratio > bestRatio) {
                    bestRatio = ratio;
                    best = new Feature("indicator_match", cos, ">=", ind.matchCosine(), fired, String.format(
                            Locale.ROOT, "indicator %s%s: cosine %.4f of the query centroid (%d queries) to its "
                                    + "centroid in %s space, calibrated match at >= %.4f", ind.id(), from, cos,
                            vs.size(), file.embedder(), ind.matchCosine()));
                }
            }
        }
        return best;
    }

    private void linkByTemplate(List<List<Integer>> byAccount, int[] template, UnionFind uf,
                                Map<Integer, Set<String>> why, List<String> accounts) {
        Map<Integer, List<Integer>> users = new HashMap<>();
        Map<Integer, List<Integer>> single = new TreeMap<>();
        for (int a = 0; a < byAccount.size(); a++) {
            Map<Integer, Integer> count = new HashMap<>();
            for (int i : byAccount.get(a)) if (template[i] >= 0) count.merge(template[i], 1, Integer::sum);
            int n = byAccount.get(a).size();
            for (var e : count.entrySet()) {
                if (e.getValue() >= 2 && e.getValue() >= LINK_TEMPLATE_SHARE * n) {
                    users.computeIfAbsent(e.getKey(), t -> new ArrayList<>()).add(a);
                } else if (e.getValue() >= 0.5 * n) {
                    single.computeIfAbsent(e.getKey(), t -> new ArrayList<>()).add(a);
                }
            }
        }
        // an account with a single instance of a template is linked by it only when that template is most of its
        // traffic and at least LINK_SINGLE_ACCOUNTS accounts share it: a hydra sending one or two requests per key
        for (var e : single.entrySet()) {
            List<Integer> all = users.getOrDefault(e.getKey(), List.of());
            if (all.size() + e.getValue().size() >= LINK_SINGLE_ACCOUNTS) {
                users.computeIfAbsent(e.getKey(), t -> new ArrayList<>()).addAll(e.getValue());
            }
        }
        for (var e : new TreeMap<>(users).entrySet()) {
            List<Integer> as = e.getValue();
            for (int j = 1; j < as.size(); j++) {
                uf.union(as.get(0), as.get(j));
            }
            if (as.size() > 1) {
                for (int a : as) why.computeIfAbsent(a, x -> new LinkedHashSet<>()).add("shared template " + e.getKey()
                        + " (" + as.size() + " accounts)");
            }
        }
    }

    private void linkByNetwork(List<LogRecord> recs, List<List<Integer>> byAccount, UnionFind uf,
                               Map<Integer, Set<String>> why, List<String> accounts) {
        Map<String, Set<Integer>> users = new TreeMap<>();
        for (int a = 0; a < byAccount.size(); a++) {
            for (int i : byAccount.get(a)) {
                String net = network(recs.get(i).client());
                if (net != null) users.computeIfAbsent(net, x -> new java.util.TreeSet<>()).add(a);
            }
        }
        for (var e : users.entrySet()) {
            List<Integer> as = new ArrayList<>(e.getValue());
            if (as.size() < 2) continue;
            for (int j = 1; j < as.size(); j++) uf.union(as.get(0), as.get(j));
            for (int a : as) why.computeIfAbsent(a, x -> new LinkedHashSet<>()).add("shared client network "
                    + e.getKey() + " (" + as.size() + " accounts)");
        }
    }

    /**
     * Timing: accounts with at least {@value #LINK_TIMING_MIN_MINUTES} active minutes each whose per-minute request
     * counts have cosine similarity at least {@value #LINK_TIMING_COSINE} (one script driving several keys).
     */
    private void linkByTiming(List<LogRecord> recs, List<List<Integer>> byAccount, UnionFind uf,
                              Map<Integer, Set<String>> why, List<String> accounts) {
        List<Map<Long, Integer>> minutes = new ArrayList<>();
        Map<Long, List<Integer>> active = new HashMap<>();
        for (int a = 0; a < byAccount.size(); a++) {
            Map<Long, Integer> m = new HashMap<>();
            for (int i : byAccount.get(a)) m.merge(recs.get(i).time().getEpochSecond() / 60, 1, Integer::sum);
            minutes.add(m);
            if (m.size() >= LINK_TIMING_MIN_MINUTES) for (long t : m.keySet()) active.computeIfAbsent(t, x -> new ArrayList<>()).add(a);
        }
        Set<Long> tried = new java.util.HashSet<>();
        for (List<Integer> as : active.values()) {
            for (int x = 0; x < as.size(); x++) {
                for (int y = x + 1; y < as.size(); y++) {
                    int a = as.get(x), b = as.get(y);
                    if (!tried.add(((long) a << 32) | b)) continue;
                    double cos = cosine(minutes.get(a), minutes.get(b));
                    if (cos >= LINK_TIMING_COSINE) {
                        uf.union(a, b);
                        // one line per cluster, not per pair: a hydra of 20 has 190 pairs
                        String r = String.format(Locale.ROOT, "correlated timing (per-minute cosine >= %.2f)",
                                LINK_TIMING_COSINE);
                        why.computeIfAbsent(a, k -> new LinkedHashSet<>()).add(r);
                        why.computeIfAbsent(b, k -> new LinkedHashSet<>()).add(r);
                    }
                }
            }
        }
    }

    /** An IPv4 client's /24 or an IPv6 client's /48; null for loopback or unknown addresses (not evidence). */
    static String network(String client) {
        if (client == null || client.isBlank()) return null;
        String c = client.strip();
        if (!c.matches("[0-9a-fA-F:.\\[\\]]+")) return null; // a host name or placeholder: not an address
        try {
            byte[] b = InetAddress.getByName(c.replace("[", "").replace("]", "")).getAddress();
            InetAddress addr = InetAddress.getByAddress(b);
            if (addr.isLoopbackAddress() || addr.isAnyLocalAddress()) return null;
            if (b.length == 4) return String.format(Locale.ROOT, "%d.%d.%d.0/24", b[0] & 255, b[1] & 255, b[2] & 255);
            return String.format(Locale.ROOT, "%02x%02x:%02x%02x:%02x%02x::/48", b[0], b[1], b[2], b[3], b[4], b[5]);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static double cosine(Map<Long, Integer> a, Map<Long, Integer> b) {
        double dot = 0, na = 0, nb = 0;
        for (var e : a.entrySet()) {
            na += (double) e.getValue() * e.getValue();
            Integer v = b.get(e.getKey());
            if (v != null) dot += (double) e.getValue() * v;
        }
        for (int v : b.values()) nb += (double) v * v;
        return dot / Math.sqrt(na * nb);
    }

    private static double interArrivalCv(List<Integer> idx, List<LogRecord> recs) {
        if (idx.size() < 3) return Double.NaN;
        double[] gaps = new double[idx.size() - 1];
        for (int j = 1; j < idx.size(); j++) {
            gaps[j - 1] = (recs.get(idx.get(j)).time().toEpochMilli() - recs.get(idx.get(j - 1)).time().toEpochMilli())
                    / 1000.0;
        }
        double mean = java.util.Arrays.stream(gaps).average().orElse(0);
        if (mean <= 0) return Double.NaN;
        double var = java.util.Arrays.stream(gaps).map(g -> (g - mean) * (g - mean)).sum() / (gaps.length - 1);
        return Math.sqrt(var) / mean;
    }

    private static double share(List<Integer> idx, java.util.function.IntPredicate p) {
        return idx.isEmpty() ? 0 : idx.stream().filter(p::test).count() / (double) idx.size();
    }

    /** Unbiased spread of unit vectors: (m/(m-1))·(1 − |mean|²), the mean squared distance to the mean. */
    static double spread(float[][] v) {
        int m = v.length;
        if (m < 2) return Double.NaN;
        double[] mean = new double[v[0].length];
        for (float[] x : v) for (int i = 0; i < x.length; i++) mean[i] += x[i] / (double) m;
        double sq = 0;
        for (double x : mean) sq += x * x;
        return m / (m - 1.0) * (1 - sq);
    }

    /**
     * A sample of up to about {@link Options#poolSize} items in which each group contributes at most
     * min(poolSize / groups, max(minWindow, median group size)).
     */
    private int[] stratified(List<List<Integer>> groups, SplittableRandom rnd) {
        // Each group's share is capped at the median group size (at least a window's minimum): a campaign that
        // sends most of the traffic, alone or through many linked accounts, must not become the "benign" baseline.
        int[] sizes = groups.stream().mapToInt(List::size).sorted().toArray();
        int median = sizes.length == 0 ? 0 : sizes[sizes.length / 2];
        int cap = Math.max(1, Math.min((int) Math.ceil(o.poolSize() / (double) Math.max(1, groups.size())),
                Math.max(o.minWindow(), median)));
        List<Integer> out = new ArrayList<>();
        for (List<Integer> g : groups) {
            List<Integer> copy = new ArrayList<>(g);
            for (int i = 0; i < Math.min(cap, copy.size()); i++) {
                int j = i + rnd.nextInt(copy.size() - i);
                java.util.Collections.swap(copy, i, j);
                out.add(copy.get(i));
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Each query's embedding for the order test: for a query whose account sends at least {@value #CENTER_MIN}
     * queries through the same instruction ({@link Affixes}), its embedding minus the mean of those queries'
     * embeddings, renormalised — what the slot adds to the fixed words; else its embedding. Centring within an
     * instruction does not depend on the order of the queries, so the permutation test stays exact; it needs a group
     * of some size because centred members of a group of g are correlated by about −1/(g − 1) among themselves.
     */
    static float[][] centered(List<List<Integer>> byAccount, Affixes.Split[] split, float[][] emb) {
        float[][] out = emb.clone();
        for (List<Integer> idx : byAccount) {
            Map<String, List<Integer>> byInstruction = new HashMap<>();
            for (int i : idx) {
                if (split[i] != null && emb[i] != null) {
                    byInstruction.computeIfAbsent(split[i].instruction(), k -> new ArrayList<>()).add(i);
                }
            }
            for (List<Integer> g : byInstruction.values()) {
                if (g.size() < CENTER_MIN) continue;
                int d = emb[g.get(0)].length;
                double[] mean = new double[d];
                for (int i : g) for (int k = 0; k < d; k++) mean[k] += emb[i][k] / (double) g.size();
                for (int i : g) {
                    float[] v = new float[d];
                    for (int k = 0; k < d; k++) v[k] = (float) (emb[i][k] - mean[k]);
                    if (Vectors.dot(v, v) <= 1e-12) continue; // all alike: nothing but the instruction
                    out[i] = Vectors.normalize(v);
                }
            }
        }
        return out;
    }

    /** Logprobs asked over a generation: a reply of at least {@link #LONG_REPLY} tokens, or of unlogged length. */
    static boolean softLabels(LogRecord r) {
        return (r.logprobs() || r.topLogprobs() > 0) && (r.completionTokens() <= 0 || r.completionTokens() >= LONG_REPLY);
    }

    private Asks asks() {
        Asks a = asks;
        if (a == null) {
            synchronized (this) {
                if (asks == null) asks = new Asks(embedder);
                a = asks;
            }
        }
        return a;
    }

    private ReasoningRequests reasoning() {
        ReasoningRequests r = reasoning;
        if (r == null) {
            synchronized (this) {
                if (reasoning == null) reasoning = new ReasoningRequests(embedder, ReasoningRequests.DEFAULT_THRESHOLD);
                r = reasoning;
            }
        }
        return r;
    }

    /** Embeds the distinct non-null texts once each, in batches; null stays null. */
    private float[][] embed(List<String> texts) {
        Map<String, Integer> distinct = new LinkedHashMap<>();
        for (String t : texts) if (t != null && !t.isBlank()) distinct.putIfAbsent(t, distinct.size());
        List<String> uniq = new ArrayList<>(distinct.keySet());
        float[][] vecs = new float[uniq.size()][];
        for (int s = 0; s < uniq.size(); s += 64) {
            float[][] b = embedder.embed(uniq.subList(s, Math.min(uniq.size(), s + 64)));
            System.arraycopy(b, 0, vecs, s, b.length);
        }
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < out.length; i++) {
            String t = texts.get(i);
            out[i] = t == null || t.isBlank() ? null : vecs[distinct.get(t)];
        }
        return out;
    }
}
