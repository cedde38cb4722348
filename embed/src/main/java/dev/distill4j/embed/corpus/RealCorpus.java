package dev.distill4j.embed.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The real-English corpus the embedding students train and are scored on by default: text nobody on the project
 * wrote, rendered from Debian documentation by {@code bench/embed/corpus.sh} into {@code DIR/docs/SOURCE/NAME.txt}
 * (one file per source document), then built here into two disjoint sentence sets:
 *
 * <pre>
 *   DIR/train.txt     training sentences, one a line, in a seeded shuffled order (take a prefix for a subset)
 *   DIR/eval.txt      evaluation sentences, likewise; the default scoring set is its first 1,000
 *   DIR/corpus.json   the report: sources, documents and sentences per split, what each filter dropped, the overlap check
 * </pre>
 *
 * <p><b>Building.</b> Documents are read in path order; each is cut into paragraphs and sentences and filtered
 * ({@link Sentences}); a sentence whose {@link Sentences#key} was seen before (exact duplicate) or that is a near
 * duplicate of a kept one ({@link NearDuplicates}, MinHash Jaccard ≥ 0.7 over word bigrams) is dropped. Manuals
 * repeat themselves (licence text, "see also" lines, the same sentence about another option), so this matters.
 *
 * <p><b>Split by document, not by sentence.</b> A document goes to evaluation when a seeded 64-bit hash of its path
 * falls in the evaluation share (10 %), so sentences of one manual page or chapter never sit on both sides; since
 * de-duplication runs over the whole corpus first, no evaluation sentence is an exact or near duplicate of a
 * training sentence either. Both are checked again after the split, independently of how the split was made, and
 * reported in corpus.json ({@code overlap.exact}, {@code overlap.near}); a non-zero count fails the build.
 *
 * <p>Same documents, same seed → the same files, byte for byte. {@link #BUILDER_VERSION} changes when the rules
 * change, so a corpus built by older rules is rebuilt on open.
 */
public final class RealCorpus {
    /** Bumped whenever splitting, filtering or de-duplication changes; a different stored version is rebuilt. */
    public static final int BUILDER_VERSION = 1;
    public static final long DEFAULT_SEED = 20261205L;
    public static final int DEFAULT_EVAL_PERCENT = 10;
    /** The environment variable naming the corpus folder (else {@link #defaultDir}'s cache location). */
    public static final String ENV = "DISTILL4J_EMBED_CORPUS";
    public static final String SCRIPT = "bench/embed/corpus.sh";

    private final Path dir;
    private final JsonNode manifest;
    private List<String> train, eval;

    private RealCorpus(Path dir, JsonNode manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    /** {@code $DISTILL4J_EMBED_CORPUS}, else {@code $XDG_CACHE_HOME/distill4j/embed-corpus} (or ~/.cache/…). */
    public static Path defaultDir() { return defaultDir(System.getenv()); }

    static Path defaultDir(Map<String, String> env) {
        String own = env.get(ENV);
        if (own != null && !own.isBlank()) return Path.of(own);
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("distill4j").resolve("embed-corpus");
    }

    /** Whether {@code dir} holds rendered documents or a built corpus. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve("corpus.json")) || Files.isDirectory(dir.resolve("docs"));
    }

    /** The default corpus ({@link #defaultDir}), built on first use; a clear error saying how to get it if absent. */
    public static RealCorpus openDefault() throws IOException { return open(defaultDir()); }

    /**
     * The corpus in {@code dir}: read as built, or built from {@code dir/docs} first when it was never built, was
     * built by other rules ({@link #BUILDER_VERSION}), or {@code rebuild} is set.
     */
    public static RealCorpus open(Path dir, boolean rebuild) throws IOException {
        Path manifestFile = dir.resolve("corpus.json");
        if (!rebuild && Files.isRegularFile(manifestFile) && Files.isRegularFile(dir.resolve("train.txt"))
                && Files.isRegularFile(dir.resolve("eval.txt"))) {
            JsonNode m = Json.MAPPER.readTree(manifestFile.toFile());
            if (m.path("builder_version").asInt() == BUILDER_VERSION || !Files.isDirectory(dir.resolve("docs"))) {
                return new RealCorpus(dir, m);
            }
        }
        if (!Files.isDirectory(dir.resolve("docs"))) throw absent(dir);
        return build(dir, DEFAULT_SEED, DEFAULT_EVAL_PERCENT, Sentences.Limits.DEFAULT);
    }

    public static RealCorpus open(Path dir) throws IOException { return open(dir, false); }

    /** The error for a missing corpus: what to run, and the alternative of one's own file. */
    public static InvalidInputException absent(Path dir) {
        return new InvalidInputException("no real-text corpus at " + dir + ": run " + SCRIPT + " (installs Debian "
                + "documentation packages and renders them there, about 2 minutes), set " + ENV + " to a built one, "
                + "or give your own sentences with --corpus/--train-corpus FILE");
    }

    /**
     * Builds train.txt, eval.txt and corpus.json from {@code dir/docs} (see the class comment); every file written
     * atomically.
     */
    public static RealCorpus build(Path dir, long seed, int evalPercent, Sentences.Limits limits) throws IOException {
        if (evalPercent < 1 || evalPercent > 50) throw new InvalidInputException("the evaluation share must be 1..50 %, got " + evalPercent);
        Path docs = dir.resolve("docs");
        List<Path> files;
        try (Stream<Path> s = Files.walk(docs)) {
            files = s.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(".txt")).sorted().toList();
        }
        if (files.isEmpty()) throw new InvalidInputException(docs + " holds no .txt documents: run " + SCRIPT);
        Set<String> exact = new HashSet<>();
        NearDuplicates near = new NearDuplicates(NearDuplicates.DEFAULT_THRESHOLD);
        List<String> train = new ArrayList<>(), eval = new ArrayList<>();
        TreeMap<String, long[]> sources = new TreeMap<>();   // source → {train docs, eval docs, train sentences, eval sentences}
        long candidates = 0, notProse = 0, exactDup = 0, nearDup = 0;
        for (Path f : files) {
            String docId = docs.relativize(f).toString().replace('\\', '/');
            String source = docId.contains("/") ? docId.substring(0, docId.indexOf('/')) : "(top)";
            boolean isEval = isEvaluationDocument(docId, seed, evalPercent);
            long[] counts = sources.computeIfAbsent(source, k -> new long[4]);
            counts[isEval ? 1 : 0]++;
            for (String para : Sentences.paragraphs(readText(f))) {
                for (String s : Sentences.split(para)) {
                    candidates++;
                    if (!Sentences.isProse(s, limits)) {
                        notProse++;
                        continue;
                    }
                    String key = Sentences.key(s);
                    if (!exact.add(key)) {
                        exactDup++;
                        continue;
                    }
                    if (!near.addIfNew(key)) {
                        nearDup++;
                        continue;
                    }
                    (isEval ? eval : train).add(s);
                    counts[isEval ? 3 : 2]++;
                }
            }
        }
        if (train.isEmpty() || eval.isEmpty()) {
            throw new InvalidInputException(docs + " gave " + train.size() + " training and " + eval.size()
                    + " evaluation sentences: too little prose; run " + SCRIPT + " again");
        }
        Overlap overlap = overlap(train, eval);
        if (overlap.exact() > 0 || overlap.near() > 0) {
            throw new IllegalStateException("the evaluation set shares " + overlap.exact() + " exact and "
                    + overlap.near() + " near duplicates with training: a bug in the builder");
        }
        shuffle(train, new Random(seed));
        shuffle(eval, new Random(seed + 1));

        ObjectNode m = Json.object();
        m.put("builder_version", BUILDER_VERSION);
        m.put("seed", seed);
        m.put("eval_percent", evalPercent);
        m.put("split", "by document (seeded hash of the document path)");
        ObjectNode lim = m.putObject("limits");
        lim.put("min_words", limits.minWords());
        lim.put("max_words", limits.maxWords());
        lim.put("max_chars", limits.maxChars());
        long trainDocs = 0, evalDocs = 0;
        ObjectNode src = m.putObject("sources");
        for (var e : sources.entrySet()) {
            long[] c = e.getValue();
            trainDocs += c[0];
            evalDocs += c[1];
            ObjectNode o = src.putObject(e.getKey());
            o.put("train_documents", c[0]);
            o.put("eval_documents", c[1]);
            o.put("train_sentences", c[2]);
            o.put("eval_sentences", c[3]);
        }
        ObjectNode d = m.putObject("documents");
        d.put("train", trainDocs);
        d.put("eval", evalDocs);
        ObjectNode s = m.putObject("sentences");
        s.put("train", train.size());
        s.put("eval", eval.size());
        ObjectNode dropped = m.putObject("dropped");
        dropped.put("candidates", candidates);
        dropped.put("not_prose_or_length", notProse);
        dropped.put("exact_duplicates", exactDup);
        dropped.put("near_duplicates", nearDup);
        ObjectNode ov = m.putObject("overlap");
        ov.put("exact", overlap.exact());
        ov.put("near", overlap.near());
        Path packages = docs.resolve("SOURCES");
        if (Files.isRegularFile(packages)) {
            var arr = m.putArray("packages");
            for (String l : Files.readAllLines(packages)) if (!l.isBlank()) arr.add(l.strip().replace('\t', ' '));
        }
        AtomicFiles.writeString(dir.resolve("train.txt"), String.join("\n", train) + "\n");
        AtomicFiles.writeString(dir.resolve("eval.txt"), String.join("\n", eval) + "\n");
        AtomicFiles.writeString(dir.resolve("corpus.json"), Json.writePretty(m));
        RealCorpus c = new RealCorpus(dir, m);
        c.train = List.copyOf(train);
        c.eval = List.copyOf(eval);
        return c;
    }

    /** Exact ({@link Sentences#key}) and near ({@link NearDuplicates}) overlaps of {@code eval} with {@code train}. */
    public record Overlap(int exact, int near) {}

    /** Counts, independently of how the sets were made, evaluation sentences that duplicate a training sentence. */
    public static Overlap overlap(List<String> train, List<String> eval) {
        Set<String> keys = new HashSet<>();
        NearDuplicates index = new NearDuplicates(NearDuplicates.DEFAULT_THRESHOLD);
        for (String t : train) {
            String k = Sentences.key(t);
            keys.add(k);
            index.addIfNew(k);
        }
        int exact = 0, near = 0;
        for (String e : eval) {
            String k = Sentences.key(e);
            if (keys.contains(k)) exact++;
            else if (index.contains(k)) near++;
        }
        return new Overlap(exact, near);
    }

    /** Whether document {@code docId} belongs to the evaluation side: a seeded hash of its path, mod 100. */
    static boolean isEvaluationDocument(String docId, long seed, int evalPercent) {
        long h = NearDuplicates.mix(seed);
        for (byte b : docId.getBytes(StandardCharsets.UTF_8)) h = NearDuplicates.mix(h ^ (b & 0xff));
        return Math.floorMod(h, 100) < evalPercent;
    }

    /** UTF-8, falling back to Latin-1 for the odd old manual page. */
    private static String readText(Path f) throws IOException {
        byte[] bytes = Files.readAllBytes(f);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }

    private static <T> void shuffle(List<T> xs, Random rnd) {
        for (int i = xs.size() - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            T t = xs.get(i);
            xs.set(i, xs.get(j));
            xs.set(j, t);
        }
    }

    public Path dir() { return dir; }

    public Path trainFile() { return dir.resolve("train.txt"); }

    public Path evalFile() { return dir.resolve("eval.txt"); }

    /** corpus.json: sources, counts, filters, the overlap check. */
    public JsonNode manifest() { return manifest; }

    /** The first {@code n} training sentences (all when {@code n} ≤ 0 or larger than the set); a seeded sample. */
    public synchronized List<String> train(int n) throws IOException {
        if (train == null) train = read(trainFile());
        return prefix(train, n);
    }

    /** The first {@code n} evaluation sentences (all when {@code n} ≤ 0 or larger); never in {@link #train}. */
    public synchronized List<String> evaluation(int n) throws IOException {
        if (eval == null) eval = read(evalFile());
        return prefix(eval, n);
    }

    public int trainSize() { return manifest.path("sentences").path("train").asInt(); }

    public int evalSize() { return manifest.path("sentences").path("eval").asInt(); }

    /** One line for humans: "118,402 training sentences (2,731 documents), 12,950 evaluation (301), no overlap". */
    public String summary() {
        JsonNode d = manifest.path("documents"), o = manifest.path("overlap");
        return String.format(java.util.Locale.ROOT, "%,d training sentences (%,d documents), %,d evaluation sentences "
                        + "(%,d other documents); overlap: %d exact, %d near", trainSize(), d.path("train").asLong(),
                evalSize(), d.path("eval").asLong(), o.path("exact").asInt(), o.path("near").asInt());
    }

    private static List<String> read(Path f) throws IOException {
        return Files.readAllLines(f, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    }

    private static List<String> prefix(List<String> xs, int n) {
        return n <= 0 || n >= xs.size() ? xs : xs.subList(0, n);
    }
}
