package dev.distill4j.guard.scan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.embed.EmbeddingModel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * What a flagged extraction campaign looked like, in a form another provider can match against its own traffic
 * without learning any user's text: prompt-template fingerprints (MinHash signatures of hashed skeleton shingles),
 * the centroid and spread of the campaign's query embeddings, behavioural ranges, its time range and its number of
 * accounts. Written and read by {@link IndicatorFile}; matched by {@link Scanner} ({@code scan --indicators}).
 *
 * @param source   a free label for who made the file (e.g. the provider's name), or null
 * @param created  when the file was made
 * @param embedder the embedding model of the centroids, and its dimension
 * @param list     the indicators, one per exported campaign
 */
public record Indicators(String source, Instant created, String embedder, int dimension, List<Indicator> list) {
    /** The file's {@code format} field. */
    public static final String FORMAT = "distill4j.indicators";
    public static final int VERSION = 1;
    /**
     * Queries per random subset when calibrating a centroid's match threshold, the fewest a match needs, and the
     * fewest a campaign needs to have a centroid exported at all.
     */
    static final int CAL_SUBSET = 10;
    /** Random subsets drawn from each side during calibration. */
    static final int CAL_DRAWS = 1000;
    /** A template's core: the shingles present in at least this share of its instances. */
    static final double CORE_SHARE = 0.5;
    /** At most this many templates per indicator, the most used first. */
    static final int MAX_TEMPLATES = 8;
    /** The behavioural features (scan.json names) whose ranges an indicator carries. */
    static final List<String> BEHAVIOURS = List.of("peak_requests_per_minute", "regular_timing_cv",
            "logprobs_share", "temperature0_share", "mean_n", "template_share", "cot_elicitation_share");

    /**
     * One campaign.
     *
     * @param id         a content hash ({@code ind-} + 16 hex digits of SHA-256 over the fingerprints and centroid);
     *                   never an account or cluster name
     * @param kind       {@code account} or {@code cluster}
     * @param accounts   how many accounts it used
     * @param requests   how many requests it made
     * @param templates  the fingerprints of its prompt templates, the most used first
     * @param centroid   the unit-length mean direction of its query embeddings ({@code dimension} values), or null
     *                   when it had fewer than {@value #CAL_SUBSET} queries
     * @param spread     the unbiased spread of its embeddings, (m/(m−1))·(1 − |mean|²)
     * @param matchCosine the calibrated cosine at or above which an entity's query centroid matches, or NaN when it
     *                   could not be calibrated (then only templates match)
     * @param calibration how {@code matchCosine} was chosen
     * @param behaviour  per behavioural feature, the campaign's value and the range over its accounts
     */
    public record Indicator(String id, String kind, int accounts, int requests, Instant firstSeen, Instant lastSeen,
                            List<Template> templates, float[] centroid, double spread, double matchCosine,
                            Calibration calibration, Map<String, Range> behaviour) {}

    /** A prompt template's fingerprint: the MinHash signature of its core shingle set, and how many queries used it. */
    public record Template(long[] minhash, int queries) {}

    /**
     * How the centroid threshold was calibrated: the cosine to the centroid of the mean of {@code subset} random
     * queries, drawn {@code draws} times from benign traffic (its maximum is the threshold: an empirical false-match
     * rate below 1/draws per entity) and from the campaign itself ({@code campaignRecall}: the share at or above it).
     */
    public record Calibration(int subset, int draws, int benignQueries, double benignMax, double campaignRecall) {}

    /** A behavioural feature: the campaign's value and its minimum and maximum over the campaign's accounts. */
    public record Range(double value, double min, double max) {}

    /** A campaign to export: a scan entity's kind, its accounts, and its behavioural feature values. */
    public record Subject(String kind, String name, boolean flagged, List<String> accounts,
                          Map<String, Double> behaviour) {
        static Subject of(Scanner.Entity e) {
            Map<String, Double> b = new LinkedHashMap<>();
            for (Scanner.Feature f : e.features()) b.putIfAbsent(f.name(), f.value());
            return new Subject(e.kind(), e.name(), e.flagged(), e.accounts(), b);
        }
    }

    /** The entities of a scan, in its ranking order. */
    public static List<Subject> subjects(Scanner.Report report) {
        return report.ranked().stream().map(Subject::of).toList();
    }

    /**
     * The entities of a {@code scan.json} file ({@link ScanWriter#json}), in its ranking order.
     *
     * @throws IllegalArgumentException when the JSON is not a scan report
     */
    public static List<Subject> subjects(JsonNode scanJson) {
        JsonNode ranked = scanJson.get("ranked");
        if (ranked == null || !ranked.isArray()) throw new IllegalArgumentException("not a scan.json: no \"ranked\" list");
        List<Subject> out = new ArrayList<>();
        for (JsonNode e : ranked) {
            if (!e.path("name").isTextual() || !e.path("accounts").isArray()) {
                throw new IllegalArgumentException("not a scan.json: ranked entry without name or accounts");
            }
            List<String> acc = new ArrayList<>();
            e.get("accounts").forEach(a -> acc.add(a.asText()));
            Map<String, Double> b = new LinkedHashMap<>();
            for (JsonNode f : e.path("evidence")) {
                b.putIfAbsent(f.path("feature").asText(), f.path("value").isNumber() ? f.get("value").asDouble()
                        : Double.NaN);
            }
            out.add(new Subject(e.path("kind").asText("account"), e.get("name").asText(),
                    e.path("flagged").asBoolean(false), acc, b));
        }
        return out;
    }

    /**
     * Builds indicators for {@code chosen} from the log they were found in. The benign side of each centroid's
     * calibration is the queries of the accounts in no flagged entity of {@code all}.
     */
    public static Indicators export(LogReader.Result log, List<Subject> all, List<Subject> chosen,
                                    EmbeddingModel embedder, String source, long seed) {
        Set<String> suspect = new HashSet<>();
        for (Subject s : all) if (s.flagged()) suspect.addAll(s.accounts());
        Map<String, Subject> accountSubjects = new HashMap<>();
        for (Subject s : all) if (s.kind().equals("account")) accountSubjects.put(s.name(), s);

        List<String> benignText = log.records().stream().filter(r -> !suspect.contains(r.account()))
                .map(LogRecord::query).filter(q -> q != null && !q.isBlank()).distinct().toList();
        float[][] benign = embed(embedder, benignText);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Indicator> out = new ArrayList<>();
        for (Subject s : chosen) {
            Set<String> members = new HashSet<>(s.accounts());
            List<LogRecord> recs = log.records().stream().filter(r -> members.contains(r.account()))
                    .sorted(Comparator.comparing(LogRecord::time)).toList();
            if (recs.isEmpty()) {
                throw new IllegalArgumentException(s.kind() + " " + s.name() + " has no requests in the log");
            }
            List<String> text = recs.stream().map(LogRecord::query).filter(q -> q != null && !q.isBlank()).toList();
            List<Template> templates = templates(text);
            float[][] emb = embed(embedder, text);
            float[] centroid = null;
            double spread = Double.NaN, match = Double.NaN;
            Calibration cal = null;
            // no centroid of fewer than CAL_SUBSET queries: the mean of a handful says too much about each of them
            if (emb.length >= CAL_SUBSET) {
                centroid = unitMean(emb);
                spread = Scanner.spread(emb);
                int k = CAL_SUBSET;
                if (benign.length >= k) {
                    double[] b = subsetCosines(benign, centroid, k, rnd);
                    double max = Arrays.stream(b).max().orElse(Double.NaN);
                    double[] c = subsetCosines(emb, centroid, k, rnd);
                    double recall = Arrays.stream(c).filter(x -> x >= max).count() / (double) c.length;
                    match = max;
                    cal = new Calibration(k, CAL_DRAWS, benign.length, max, recall);
                }
            }
            Map<String, Range> behaviour = new LinkedHashMap<>();
            double minutes = Math.max(1, (recs.getLast().time().toEpochMilli() - recs.getFirst().time().toEpochMilli())
                    / 60000.0);
            behaviour.put("requests_per_minute", new Range(recs.size() / minutes, Double.NaN, Double.NaN));
            for (String name : BEHAVIOURS) {
                double lo = Double.NaN, hi = Double.NaN;
                for (String a : s.accounts()) {
                    Subject as = accountSubjects.get(a);
                    Double v = as == null ? null : as.behaviour().get(name);
                    if (v == null || v.isNaN()) continue;
                    lo = Double.isNaN(lo) ? v : Math.min(lo, v);
                    hi = Double.isNaN(hi) ? v : Math.max(hi, v);
                }
                behaviour.put(name, new Range(s.behaviour().getOrDefault(name, Double.NaN), lo, hi));
            }
            out.add(new Indicator(id(templates, centroid), s.kind(), s.accounts().size(), recs.size(),
                    recs.getFirst().time(), recs.getLast().time(), templates, centroid, spread, match, cal,
                    behaviour));
        }
        return new Indicators(source, Instant.now(), embedder.name(), embedder.dimension(), List.copyOf(out));
    }

    /**
     * The campaign's templates: its queries grouped by {@link Templates#group}; each group's core is the set of
     * shingles present in at least {@value #CORE_SHARE} of its instances, so the slot fillers (one query's own
     * words) drop out and only the wording every instance shares is fingerprinted.
     */
    static List<Template> templates(List<String> text) {
        int[] ids = Templates.group(text);
        Map<Integer, List<Set<Long>>> groups = new LinkedHashMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] >= 0) groups.computeIfAbsent(ids[i], k -> new ArrayList<>()).add(Templates.shingles(text.get(i)));
        }
        List<Template> out = new ArrayList<>();
        for (List<Set<Long>> g : groups.values()) {
            Map<Long, Integer> count = new HashMap<>();
            for (Set<Long> s : g) for (long x : s) count.merge(x, 1, Integer::sum);
            Set<Long> core = new java.util.TreeSet<>();
            for (var e : count.entrySet()) if (e.getValue() >= CORE_SHARE * g.size()) core.add(e.getKey());
            if (!core.isEmpty()) out.add(new Template(Templates.minhash(core), g.size()));
        }
        out.sort(Comparator.comparingInt(Template::queries).reversed());
        return List.copyOf(out.subList(0, Math.min(MAX_TEMPLATES, out.size())));
    }

    /** Cosine to {@code centroid} of the unit mean of {@value #CAL_DRAWS} random {@code k}-subsets of {@code v}. */
    private static double[] subsetCosines(float[][] v, float[] centroid, int k, SplittableRandom rnd) {
        double[] out = new double[CAL_DRAWS];
        int[] idx = new int[v.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        float[][] pick = new float[k][];
        for (int d = 0; d < CAL_DRAWS; d++) {
            for (int i = 0; i < k; i++) {
                int j = i + rnd.nextInt(idx.length - i);
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
                pick[i] = v[idx[i]];
            }
            out[d] = cosine(unitMean(pick), centroid);
        }
        return out;
    }

    /** The mean of the vectors, scaled to unit length (the zero vector stays zero). */
    static float[] unitMean(float[][] v) {
        double[] m = new double[v[0].length];
        for (float[] x : v) for (int i = 0; i < x.length; i++) m[i] += x[i];
        double norm = 0;
        for (double x : m) norm += x * x;
        norm = Math.sqrt(norm);
        float[] out = new float[m.length];
        if (norm > 0) for (int i = 0; i < m.length; i++) out[i] = (float) (m[i] / norm);
        return out;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    private static float[][] embed(EmbeddingModel embedder, List<String> text) {
        float[][] out = new float[text.size()][];
        for (int s = 0; s < text.size(); s += 64) {
            float[][] b = embedder.embed(text.subList(s, Math.min(text.size(), s + 64)));
            System.arraycopy(b, 0, out, s, b.length);
        }
        return out;
    }

    private static String id(List<Template> templates, float[] centroid) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Template t : templates) for (long x : t.minhash()) md.update(Long.toString(x).getBytes(StandardCharsets.US_ASCII));
            if (centroid != null) md.update(Arrays.toString(centroid).getBytes(StandardCharsets.US_ASCII));
            return "ind-" + HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
