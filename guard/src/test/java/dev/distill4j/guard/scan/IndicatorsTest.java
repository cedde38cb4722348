package dev.distill4j.guard.scan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Indicator sharing: provider A scans its traffic ({@link ScanTrafficTest}'s attacker and hydra), exports the flagged
 * campaigns; provider B sees the same chemistry campaign from two new accounts at a volume too low to be flagged on
 * its own, and flags them with A's file while its benign accounts stay unflagged.
 */
class IndicatorsTest {
    static EmbeddingModel bge;

    static EmbeddingModel model;

    @BeforeAll
    static void load() throws IOException {
        model = EmbeddingModels.teacher("bge-small-en-v1.5");
        bge = new Cached(model);
    }

    @AfterAll
    static void close() { model.close(); }

    /**
     * The real bge-small, each distinct text embedded once: both providers' logs share their benign sentences, and
     * the test scans and exports them several times (this keeps it under half a minute on two shared cores).
     */
    record Cached(EmbeddingModel inner, java.util.Map<String, float[]> cache) implements EmbeddingModel {
        Cached(EmbeddingModel inner) { this(inner, new java.util.concurrent.ConcurrentHashMap<>()); }

        @Override
        public float[][] embed(List<String> texts) {
            List<String> missing = texts.stream().filter(t -> !cache.containsKey(t)).distinct().toList();
            if (!missing.isEmpty()) {
                float[][] v = inner.embed(missing);
                for (int i = 0; i < v.length; i++) cache.put(missing.get(i), v[i]);
            }
            return texts.stream().map(cache::get).toArray(float[][]::new);
        }

        @Override
        public int dimension() { return inner.dimension(); }

        @Override
        public String name() { return inner.name(); }
    }

    /** The defaults with 1,000 permutations instead of 10,000: the test stays fast, the thresholds a bit noisier. */
    static final Scanner.Options OPTS;

    static {
        Scanner.Options d = Scanner.Options.defaults();
        OPTS = new Scanner.Options(d.window(), d.fpr(), 1000, d.minWindow(), d.minRequests(), d.minBehaviours(),
                d.poolSize(), d.seed());
    }

    /**
     * Provider B's log: benign traffic plus the chemistry template, 4 queries from each of two new accounts, and a
     * paraphraser asking 12 questions on the same chemistry topics in other words (a different template).
     */
    static void writeLowVolumeCampaign(Path dir) throws IOException {
        ScanTrafficTest.writeTraffic(dir, 12, 20, 0, false);
        List<String> lines = new ArrayList<>();
        int k = 0;
        for (String account : List.of("newcomer-a", "newcomer-b")) {
            for (int i = 0; i < 4; i++, k++) {
                String topic = ScanTrafficTest.TOPICS[(7 * k + 3) % ScanTrafficTest.TOPICS.length];
                String query = "Explain step by step how " + topic + " works in organic chemistry, variant " + (k + 40)
                        + ", and show your reasoning before giving the mechanism.";
                lines.add(Json.write(ScanTrafficTest.serveRecord(ScanTrafficTest.T0.plusSeconds(1800 + 397L * k),
                        account, "192.0.2." + (10 + k), query, 0.7, false, 1)));
            }
        }
        for (int i = 0; i < 12; i++) {
            String topic = ScanTrafficTest.TOPICS[(5 * i + 1) % ScanTrafficTest.TOPICS.length];
            String query = "What is the mechanism of " + topic + ", and which reagents and conditions does it need?";
            lines.add(Json.write(ScanTrafficTest.serveRecord(ScanTrafficTest.T0.plusSeconds(5000 + 613L * i * (1 + i % 3)),
                    "paraphraser", "100.70.3.9", query, 0.7, false, 1)));
        }
        Files.write(dir.resolve("requests-0002.jsonl"), lines);
    }

    @Test
    void exportedIndicatorsCarryNoUserTextAndFlagTheCampaignElsewhere(@TempDir Path tmp) throws Exception {
        // provider A
        Path logA = tmp.resolve("a");
        ScanTrafficTest.writeTraffic(logA, 12, 20, 60, true);
        LogReader.Result a = LogReader.read(logA);
        long t0 = System.nanoTime();
        Scanner.Report reportA = new Scanner(bge, OPTS).scan(a, null);
        System.out.printf("scan A %.1f s%n", (System.nanoTime() - t0) / 1e9);
        List<Indicators.Subject> all = Indicators.subjects(reportA);
        List<Indicators.Subject> flagged = all.stream().filter(Indicators.Subject::flagged).toList();
        assertTrue(flagged.stream().anyMatch(s -> s.name().equals("harvester")), flagged.toString());
        Indicators ind = Indicators.export(a, all, flagged, bge, "provider A", 42);
        System.out.printf("export %.1f s%n", (System.nanoTime() - t0) / 1e9);
        Path file = tmp.resolve("shared/indicators.json");
        IndicatorFile.write(ind, file);

        String text = Files.readString(file);
        for (LogRecord r : a.records()) {
            assertFalse(text.contains(r.account()), "account " + r.account() + " leaked");
            if (!r.client().isBlank()) assertFalse(text.contains(r.client()), "client address leaked");
            if (r.query() != null) assertFalse(text.contains(r.query()), "query text leaked");
        }
        for (String word : List.of("chemistry", "Explain", "esterification", "Roman", "essay", "step by step",
                "harvester", "hydra", "198.51.100", "45.33.12")) {
            assertFalse(text.contains(word), word + " leaked");
        }
        Indicators back = IndicatorFile.read(file);
        assertEquals(Indicators.FORMAT, Json.MAPPER.readTree(text).get("format").asText());
        assertEquals("bge-small-en-v1.5", back.embedder());
        assertEquals(384, back.dimension());
        assertEquals(ind.list().size(), back.list().size());
        Indicators.Indicator harvester = back.list().stream().filter(i -> i.accounts() == 1 && i.requests() == 60)
                .findFirst().orElseThrow();
        assertEquals(1, harvester.templates().size(), "one chemistry template");
        assertEquals(60, harvester.templates().get(0).queries());
        assertEquals(1.0, harvester.behaviour().get("logprobs_share").value());
        assertEquals(1.0, harvester.behaviour().get("temperature0_share").value());
        assertNotNull(harvester.centroid());
        assertTrue(harvester.matchCosine() > 0 && harvester.matchCosine() < 1, "calibrated: " + harvester.matchCosine());
        assertTrue(harvester.calibration().campaignRecall() > 0.9, "the campaign's own subsets match: "
                + harvester.calibration());
        for (int i = 0; i < ind.list().size(); i++) {
            Indicators.Indicator w = ind.list().get(i), r = back.list().get(i);
            assertEquals(w.id(), r.id());
            assertEquals(w.firstSeen(), r.firstSeen());
            for (int t = 0; t < w.templates().size(); t++) {
                assertArrayEquals(w.templates().get(t).minhash(), r.templates().get(t).minhash());
            }
            assertArrayEquals(w.centroid(), r.centroid(), 1e-6f);
        }
        assertTrue(back.list().stream().anyMatch(i -> i.kind().equals("cluster") && i.accounts() == 20),
                "the hydra is exported as one 20-account cluster");

        // provider B
        Path logB = tmp.resolve("b");
        writeLowVolumeCampaign(logB);
        LogReader.Result b = LogReader.read(logB);
        Scanner.Report alone = new Scanner(bge, OPTS).scan(b, null);
        assertFalse(alone.anyFlagged(), "the low-volume campaign alone is not flagged: " + alone.ranked().stream()
                .filter(Scanner.Entity::flagged).map(Scanner.Entity::name).toList());
        Scanner.Report withInd = new Scanner(bge, OPTS, List.of(back)).scan(b, null);
        for (String acc : List.of("newcomer-a", "newcomer-b")) {
            Scanner.Entity e = ScanTrafficTest.entity(withInd, acc);
            assertTrue(e.flagged(), acc + " is flagged by the shared indicator");
            Scanner.Feature f = e.fired().stream().filter(x -> x.name().equals("indicator_match")).findFirst()
                    .orElseThrow();
            assertTrue(f.note().contains(harvester.id()), f.note());
            assertTrue(f.value() >= f.threshold());
        }
        // the paraphrased campaign shares no template wording, but its queries sit at the indicator's centroid
        Scanner.Entity para = ScanTrafficTest.entity(withInd, "paraphraser");
        System.out.println("paraphraser: " + para.features().get(0));
        assertFalse(ScanTrafficTest.entity(alone, "paraphraser").flagged(), "the paraphraser alone is not flagged");
        assertTrue(para.flagged(), "the paraphraser matches the centroid: " + para.features().get(0));
        Scanner.Feature pf = para.fired().stream().filter(x -> x.name().equals("indicator_match")).findFirst()
                .orElseThrow();
        assertTrue(pf.note().contains("cosine") && pf.threshold() == harvester.matchCosine(), pf.note());
        for (int u = 0; u < 12; u++) {
            Scanner.Entity e = ScanTrafficTest.entity(withInd, "user" + u);
            System.out.println("user" + u + ": " + e.features().get(0));
            assertFalse(e.flagged(), "user" + u + " stays benign: " + e.fired());
        }
        // the ranking puts the matched campaign first
        assertTrue(withInd.ranked().get(0).accounts().stream().allMatch(x -> x.startsWith("newcomer")
                || x.equals("paraphraser")));
    }

    @Test
    void malformedIndicatorFilesGiveClearErrors(@TempDir Path tmp) throws Exception {
        ObjectNode good = Json.object();
        good.put("format", Indicators.FORMAT);
        good.put("version", 1);
        good.putObject("fingerprint").put("minhash_values", Templates.HASHES);
        good.putObject("embedder").put("name", "bge-small-en-v1.5").put("dimension", 3);
        ObjectNode ind = good.putArray("indicators").addObject();
        ind.put("id", "ind-0123456789abcdef");
        ArrayNode mh = ind.putArray("templates").addObject().put("queries", 5).putArray("minhash");
        for (long v : Templates.signature("explain <n> things step by step")) mh.add(java.util.HexFormat.of().toHexDigits(v));
        ind.putArray("centroid").add(1).add(0).add(0);
        ind.put("match_cosine", 0.9);
        Path ok = tmp.resolve("ok.json");
        Files.writeString(ok, Json.write(good));
        assertEquals(1, IndicatorFile.read(ok).list().size());

        bad(tmp, good, o -> o.put("format", "something-else"), "\"format\"");
        bad(tmp, good, o -> o.put("version", 2), "\"version\" 2 is not supported");
        bad(tmp, good, o -> o.remove("indicators"), "\"indicators\" must be a list");
        bad(tmp, good, o -> ((ArrayNode) o.at("/indicators/0/templates/0/minhash")).remove(0),
                "indicators[0].templates[0].minhash must be a list of 64");
        bad(tmp, good, o -> ((ArrayNode) o.at("/indicators/0/templates/0/minhash")).set(3, "xyz"),
                "indicators[0].templates[0].minhash[3] is not 16 hex digits");
        bad(tmp, good, o -> ((ArrayNode) o.at("/indicators/0/centroid")).add(0), "centroid has 4 values");
        bad(tmp, good, o -> ((ObjectNode) o.at("/indicators/0")).put("match_cosine", 3), "match_cosine must be in");
        bad(tmp, good, o -> ((ObjectNode) o.at("/embedder")).remove("name"), "embedder.name is missing");
        Path notJson = tmp.resolve("broken.json");
        Files.writeString(notJson, "{\"format\": ");
        var e = assertThrows(IllegalArgumentException.class, () -> IndicatorFile.read(notJson));
        assertTrue(e.getMessage().startsWith(notJson + ": not JSON"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IndicatorFile.read(tmp.resolve("absent.json")));
        assertTrue(e.getMessage().contains("no such indicator file"), e.getMessage());
    }

    private static void bad(Path tmp, ObjectNode good, Consumer<ObjectNode> edit, String expected) throws IOException {
        ObjectNode copy = good.deepCopy();
        edit.accept(copy);
        Path f = tmp.resolve("bad.json");
        Files.writeString(f, Json.write(copy));
        var e = assertThrows(IllegalArgumentException.class, () -> IndicatorFile.read(f));
        assertTrue(e.getMessage().startsWith(f + ": ") && e.getMessage().contains(expected), e.getMessage());
    }
}
