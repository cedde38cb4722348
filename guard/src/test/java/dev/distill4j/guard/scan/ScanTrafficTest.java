package dev.distill4j.guard.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A synthetic day of traffic: benign accounts ask diverse questions (sentences of the licence texts Debian installs),
 * one attacker sweeps a chemistry template with logprobs at temperature 0 on a fixed pace, and a hydra of 20 small
 * accounts shares another template and one client /24. Scanned with the real bge-small.
 */
class ScanTrafficTest {
    static EmbeddingModel bge;

    @BeforeAll
    static void load() throws IOException { bge = EmbeddingModels.teacher("bge-small-en-v1.5"); }

    @AfterAll
    static void close() { bge.close(); }

    static final Instant T0 = Instant.parse("2026-12-05T08:00:00Z");
    static final String[] TOPICS = {"esterification", "nucleophilic substitution", "the aldol reaction",
        "Grignard reagents", "Diels-Alder cycloaddition", "radical halogenation", "Friedel-Crafts acylation",
        "the Wittig reaction", "hydroboration", "ozonolysis", "epoxide opening", "Claisen condensation",
        "Michael addition", "SN1 solvolysis", "E2 elimination", "catalytic hydrogenation", "the Cannizzaro reaction",
        "Suzuki coupling", "Heck coupling", "the Mannich reaction"};
    static final String[] ASPECTS = {"its causes", "its main actors", "its economic side", "its consequences",
        "how historians judge it"};
    static final String[] ERAS = {"the Punic Wars", "the reign of Augustus", "the Gracchi reforms", "the fall of "
        + "Carthage", "the Year of the Four Emperors", "Hadrian's Wall", "the Crisis of the Third Century",
        "Diocletian's tetrarchy", "the Battle of Actium", "the Social War", "Sulla's dictatorship",
        "the Catiline conspiracy", "the building of the aqueducts", "Trajan's Dacian wars", "the Antonine Plague",
        "the founding of Constantinople", "the sack of Rome in 410", "the Senate under Tiberius",
        "the Roman legions' organisation", "the Edict of Milan", "Nero's fire", "the Jugurthine War",
        "the Second Triumvirate", "Marius' army reforms", "the Pax Romana"};

    /** Sentences of 8 to 30 words from the installed licence texts, shuffled. */
    static List<String> sentences(int n, long seed) throws IOException {
        Set<String> out = new java.util.LinkedHashSet<>();
        try (var files = Files.list(Path.of("/usr/share/common-licenses"))) {
            for (Path f : files.sorted().toList()) {
                if (Files.isRegularFile(f)) out.addAll(sentencesOf(f));
            }
        }
        List<String> l = new ArrayList<>(out);
        java.util.Collections.shuffle(l, new Random(seed));
        return l.subList(0, Math.min(n, l.size()));
    }

    /** A text file's sentences of 8 to 30 words with a lower-case letter, in order. */
    static List<String> sentencesOf(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        String text = Files.readString(file, StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        for (String s : text.split("(?<=[.?!])\\s+")) {
            int words = s.split(" ").length;
            if (words >= 8 && words <= 30 && s.matches(".*[a-z].*")) out.add(s.strip());
        }
        return out;
    }

    /** The GPL-3's sentences in order: a text a sweep walks. */
    static List<String> gplSentences() throws IOException {
        return sentencesOf(Path.of("/usr/share/common-licenses/GPL-3"));
    }

    /**
     * Scans {@code log} (sorted by time here) with {@code model} and the default options against a baseline of 200
     * persons' queries the day before, taken from {@code text} at {@code from} on.
     */
    static Scanner.Report scanAgainstPersons(EmbeddingModel model, List<LogRecord> log, List<String> text, int from) {
        log.sort(java.util.Comparator.comparing(LogRecord::time));
        List<LogRecord> base = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            base.add(rec(T0.minusSeconds(86_400 - 300L * i), "b" + (i % 8), "", text.get(from + i), 1.0, false));
        }
        return new Scanner(model, Scanner.Options.defaults()).scan(new LogReader.Result(log, List.of(), List.of()),
                new LogReader.Result(base, List.of(), List.of()));
    }

    static ObjectNode serveRecord(Instant t, String account, String client, String query, double temp,
                                  boolean logprobs, int n) {
        ObjectNode o = Json.object();
        o.put("time", t.toString());
        o.put("request_id", "req-" + Math.abs(query.hashCode()));
        o.put("account", account);
        o.put("client", client);
        o.put("endpoint", "/v1/chat/completions");
        o.put("model", "teacher");
        o.put("status", 200);
        o.put("latency_ms", 120);
        ObjectNode p = o.putObject("params");
        p.put("temperature", temp);
        p.put("top_p", 1.0);
        p.put("n", n);
        p.put("max_tokens", 256);
        p.put("logprobs", logprobs);
        if (logprobs) p.put("top_logprobs", 5);
        else p.putNull("top_logprobs");
        p.putNull("seed");
        p.put("stream", false);
        o.put("prompt_tokens", 40);
        o.put("completion_tokens", 100);
        o.put("prompt_sha256", "00");
        o.putArray("messages").addObject().put("role", "user").put("content", query);
        return o;
    }

    static ObjectNode gatewayRecord(Instant t, String user, String ip, String query, double temp) {
        ObjectNode o = Json.object();
        o.put("timestamp", t.getEpochSecond());
        o.put("user", user);
        o.put("ip", ip);
        ObjectNode req = o.putObject("request");
        req.put("model", "gpt-4o-mini");
        req.put("temperature", temp);
        var msgs = req.putArray("messages");
        msgs.addObject().put("role", "system").put("content", "You are helpful.");
        msgs.addObject().put("role", "user").putArray("content").addObject().put("type", "text").put("text", query);
        o.putObject("response").putObject("usage").put("prompt_tokens", 30).put("completion_tokens", 80);
        return o;
    }

    /**
     * Writes the traffic: {@code benign} accounts of {@code perBenign} queries (the last third of them in the
     * gateway shape, gzipped), an attacker with {@code attack} queries if positive, a hydra of 20 × 5 if asked,
     * and two malformed lines.
     */
    static void writeTraffic(Path dir, int benign, int perBenign, int attack, boolean hydra) throws IOException {
        Files.createDirectories(dir);
        Random rnd = new Random(7);
        List<String> text = sentences(benign * perBenign, 11);
        List<String> native_ = new ArrayList<>();
        List<String> gateway = new ArrayList<>();
        int q = 0;
        for (int a = 0; a < benign; a++) {
            for (int i = 0; i < perBenign; i++) {
                Instant t = T0.plusSeconds(rnd.nextInt(8 * 3600));
                double temp = new double[] {0.2, 0.7, 1.0}[rnd.nextInt(3)];
                String client = "203.0." + a + "." + (10 + rnd.nextInt(3));
                if (a >= benign * 2 / 3) {
                    gateway.add(Json.write(gatewayRecord(t, "user" + a, client, text.get(q++), temp)));
                } else {
                    native_.add(Json.write(serveRecord(t, "user" + a, client, text.get(q++), temp,
                            rnd.nextInt(10) == 0, 1)));
                }
            }
        }
        for (int i = 0; i < attack; i++) {
            String topic = TOPICS[i % TOPICS.length];
            String query = "Explain step by step how " + topic + " works in organic chemistry, variant " + (i / 20)
                    + ", and show your reasoning before giving the mechanism.";
            native_.add(Json.write(serveRecord(T0.plusSeconds(3600 + 2L * i), "harvester", "198.51.100.7", query, 0.0,
                    true, 1)));
        }
        if (hydra) {
            int k = 0;
            for (int round = 0; round < 5; round++) {
                for (int a = 0; a < 20; a++) {
                    String era = ERAS[k % ERAS.length];
                    // a new prompt every time (the era's aspect changes by round): a hydra buys new answers
                    String query = "Write a detailed essay about " + era + " in Roman history, " + ASPECTS[round]
                            + "; think it through before answering.";
                    native_.add(Json.write(serveRecord(T0.plusSeconds(7200 + 3L * k++), "hydra" + a,
                            "45.33.12." + (20 + a), query, 0.0, true, 1)));
                }
            }
        }
        native_.add(2, "{\"time\": \"2026-12-05T09:00:00Z\", \"account\": ");
        native_.add("[1, 2, 3]");
        Files.write(dir.resolve("requests-0001.jsonl"), native_);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dir.resolve("gateway.jsonl.gz")))) {
            out.write((String.join("\n", gateway) + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void attackerAndHydraClusterAreFlaggedBenignAccountsAreNot(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("log");
        writeTraffic(log, 12, 20, 60, true);
        LogReader.Result read = LogReader.read(log);
        assertEquals(12 * 20 + 60 + 100, read.records().size());
        assertEquals(2, read.malformed().size(), read.malformed().toString());
        assertEquals("requests-0001.jsonl:3", read.malformed().get(0).source());
        assertEquals("requests-0001.jsonl:" + (12 * 20 * 2 / 3 + 60 + 100 + 2), read.malformed().get(1).source());
        // both shapes were read: gateway accounts (user8..user11) with their text, serve accounts with theirs
        assertTrue(read.records().stream().anyMatch(r -> r.account().equals("user11") && r.query() != null
                && r.client().startsWith("203.0.11.")));

        Scanner.Report report = new Scanner(bge, Scanner.Options.defaults()).scan(read, null);
        ScanWriter.write(report, tmp.resolve("scan"));
        for (Scanner.Entity e : report.ranked()) {
            System.out.printf("%-8s %-10s flagged=%s score=%.2f n=%d fired=%s %s%n", e.kind(), e.name(), e.flagged(),
                    e.score(), e.requests(), e.fired().stream().map(f -> f.name() + "=" + f.value()).toList(),
                    e.windows().isEmpty() ? "" : "mmd=" + e.windows().get(0).mmd2() + " thr=" + e.windows().get(0).threshold());
        }
        Scanner.Entity harvester = entity(report, "harvester");
        assertTrue(harvester.flagged(), "the attacker is flagged");
        assertTrue(harvester.fired().stream().anyMatch(f -> f.name().equals("mmd2")), "its queries shift the distribution");
        Scanner.Entity hydra = report.ranked().stream().filter(e -> e.kind().equals("cluster")
                && e.accounts().contains("hydra0")).findFirst().orElseThrow();
        assertEquals(20, hydra.accounts().size(), hydra.accounts().toString());
        assertTrue(hydra.flagged(), "the hydra is flagged as one cluster");
        for (int a = 0; a < 12; a++) assertFalse(entity(report, "user" + a).flagged(), "user" + a + " is benign");
        assertTrue(report.ranked().stream().noneMatch(e -> e.kind().equals("cluster")
                && e.accounts().stream().anyMatch(x -> x.startsWith("user")) && e.flagged()));
        // the most suspicious come first
        assertTrue(report.ranked().get(0).flagged());

        JsonNode json = Json.MAPPER.readTree(tmp.resolve("scan/scan.json").toFile());
        assertEquals(2, json.get("malformed").size());
        assertTrue(json.get("ranked").get(0).get("flagged").asBoolean());
        String html = Files.readString(tmp.resolve("scan/scan.html"));
        assertTrue(html.contains("<svg") && html.contains("harvester") && !html.contains("<script"));
    }

    /**
     * The hard benign cases of the flag rule: a support bot (one template, temperature 0) and an evaluation script
     * (varied prompts in bursts, temperature 0 with logprobs) each fire three or more features, but the bot
     * harvests nothing and the script's prompts show no systematic coverage, so neither is flagged; a hydra that
     * sends one request per key (different /24s, no shared timing) is still linked into one cluster by its template.
     */
    @Test
    void automationIsNotExtractionAndSingleRequestHydraKeysAreLinked() {
        List<String> text;
        try {
            text = sentences(400, 23);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<LogRecord> log = new ArrayList<>();
        Random rnd = new Random(3);
        int s = 0;
        for (int i = 0; i < 30; i++) {
            String[] w = text.get(s++).split(" ");
            String msg = String.join(" ", java.util.Arrays.copyOf(w, Math.min(w.length, 8)));
            log.add(rec(T0.plusSeconds(rnd.nextInt(3600)), "supportbot", "198.18.0.5", "You are the support "
                    + "assistant of Acme Hosting. A customer writes: \"" + msg + "\" Reply politely in at most three "
                    + "sentences and suggest the next step.", 0, false));
        }
        for (int i = 0; i < 30; i++) {
            long t = (i < 15 ? 600 : 2400) + 2L * (i % 15);
            log.add(rec(T0.plusSeconds(t), "evalscript", "198.18.1.9", text.get(s++), 0, true));
        }
        for (int a = 0; a < 6; a++) {
            log.add(rec(T0.plusSeconds(500L * a + 7), "key" + a, "45." + (10 + a) + ".3.4", "Think it through step "
                    + "by step and show all reasoning: " + ERAS[a] + ".", 0, true));
        }
        s = persons(log, 6, 8, text, s, rnd);
        Scanner.Report r = scanAgainstPersons(bge, log, text, s);
        Scanner.Entity bot = entity(r, "supportbot");
        assertTrue(bot.fired().size() >= 3, bot.fired().toString());
        assertFalse(bot.flagged(), bot.fired().toString());
        Scanner.Entity script = entity(r, "evalscript");
        assertTrue(script.fired().size() >= 3, script.fired().toString());
        assertFalse(script.flagged(), script.fired().toString());
        assertTrue(r.ranked().stream().noneMatch(Scanner.Entity::flagged), r.ranked().toString());
        Scanner.Entity hydra = r.ranked().stream().filter(e -> e.kind().equals("cluster")
                && e.accounts().contains("key0")).findFirst().orElseThrow();
        assertEquals(List.of("key0", "key1", "key2", "key3", "key4", "key5"), hydra.accounts());
    }

    /**
     * A campaign that rewords its instruction around every passage (a different opener, request and closing
     * sentence each time, none of them in the chain-of-thought phrase list) while it walks the GPL-3 text in order,
     * with logprobs on every other request: no template, no affix, no embedding shift — found by the order of its
     * passages ({@code topic_sweep}) and by its reasoning requests recognised by meaning. Persons asking about the
     * same licences in their own order, and an evaluation script with logprobs at temperature 0, stay unflagged.
     */
    @Test
    void aParaphrasingSweepIsFlaggedByItsOrderAndItsReasoningRequests() throws IOException {
        List<String> walk = gplSentences().subList(50, 90);
        String[] open = {"Hi.", "Good afternoon.", "", "One more from me.", "Hello again."};
        String[] ask = {"What does this passage say", "Help me understand this", "Interpret the following",
            "What is the meaning of this", "Clarify this clause"};
        String[] close = {"Show me how you arrive at the answer.", "Lay out your thinking before the conclusion.",
            "Go one step at a time.", "Be explicit about how you get there.", "Reason about it before you answer."};
        Random rnd = new Random(11);
        List<LogRecord> log = new ArrayList<>();
        for (int i = 0; i < walk.size(); i++) {
            String o = open[rnd.nextInt(open.length)];
            String q = (o.isEmpty() ? "" : o + " ") + ask[rnd.nextInt(ask.length)] + ": \"" + walk.get(i) + "\" "
                    + close[rnd.nextInt(close.length)];
            log.add(rec(T0.plusSeconds(40L * i + rnd.nextInt(30)), "rewriter", "192.0.2.7", q,
                    i % 3 == 0 ? 0 : 0.7, i % 2 == 0));
        }
        List<String> text = sentences(400, 29);
        int s = 0;
        String[] habit = {"What does this mean? ", "Can you explain this to me: ", "Summarize in one line: ",
            "Is this still true? ", ""};
        for (int u = 0; u < 8; u++) {
            for (int i = 0; i < 15; i++) {
                log.add(rec(T0.plusSeconds(rnd.nextInt(3600)), "person" + u, "203.0." + u + ".9",
                        habit[(u + i % 2) % habit.length] + text.get(s++), 0.8, u == 0 && i % 2 == 0));
            }
        }
        for (int i = 0; i < 30; i++) {
            log.add(rec(T0.plusSeconds((i < 15 ? 600 : 2400) + 2L * (i % 15)), "evalscript", "198.18.1.9",
                    text.get(s++), 0, true));
        }
        Scanner.Report r = scanAgainstPersons(bge, log, text, s);
        Scanner.Entity rewriter = entity(r, "rewriter");
        List<String> fired = rewriter.fired().stream().map(Scanner.Feature::name).toList();
        assertTrue(fired.contains("topic_sweep") && fired.contains("cot_elicitation_share"), fired.toString());
        assertFalse(fired.contains("template_share") || fired.contains("affix_template_share"), fired.toString());
        assertTrue(rewriter.flagged(), fired.toString());
        assertEquals("rewriter", r.ranked().get(0).name());
        for (Scanner.Entity e : r.ranked()) {
            if (!e.accounts().contains("rewriter")) assertFalse(e.flagged(), e.name() + " " + e.fired());
        }
    }

    /**
     * {@code instruction_paraphrase_share} with the real bge-small: an account that words one request ("explain this
     * passage") anew for every passage, in random order and without reasoning closers, fires it; a person who asks
     * as many questions through three habitual phrasings and a few others does not, and neither does a script that
     * sends every passage through one fixed instruction (a template: no rewording).
     */
    @Test
    void aReworderOfOneInstructionFiresTheParaphraseFeatureAHabitualAskerDoesNot() throws IOException {
        List<String> text = sentences(400, 31);
        String[] open = {"", "Hi.", "Hello,", "Quick one.", "Hey,", "Please:"};
        String[] ask = {"Explain this passage", "Help me understand this text", "What does this paragraph mean",
            "Clarify the following", "Break down this sentence", "Tell me what this is saying",
            "Make sense of this for me", "Interpret this passage", "Describe what this means",
            "Unpack this statement"};
        String[] habits = {"What does this mean? ", "Translate into German: ", "Is this correct? "};
        String[] others = {"Summarize in one line: ", "Give me three follow-up questions about this: ",
            "Turn this into a quiz question: ", "Rewrite this more clearly: ", "Fix the grammar and style: "};
        Random rnd = new Random(5);
        List<LogRecord> log = new ArrayList<>();
        int s = 0;
        for (int i = 0; i < 30; i++) {
            int combo = (i * 7) % 60; // 30 different (opener, ask) pairs
            String o = open[combo % open.length];
            log.add(rec(T0.plusSeconds(rnd.nextInt(7200)), "reworder", "192.0.2.8", (o.isEmpty() ? "" : o + " ")
                    + ask[combo / open.length] + ": \"" + text.get(s++) + "\"", 0.7, false));
            String h = rnd.nextDouble() < 0.7 ? habits[rnd.nextInt(habits.length)] : others[rnd.nextInt(others.length)];
            log.add(rec(T0.plusSeconds(rnd.nextInt(7200)), "habitual", "203.0.113.4", h + text.get(s++), 0.7, false));
            log.add(rec(T0.plusSeconds(rnd.nextInt(7200)), "fixed", "198.18.2.2", "Explain this passage to a "
                    + "student: \"" + text.get(s++) + "\"", 0.7, false));
        }
        Scanner.Report r = scanAgainstPersons(bge, log, text, s);
        Scanner.Feature reworder = feature(entity(r, "reworder"), "instruction_paraphrase_share");
        assertTrue(reworder.fired(), reworder.toString());
        Scanner.Feature habitual = feature(entity(r, "habitual"), "instruction_paraphrase_share");
        assertFalse(habitual.fired(), habitual.toString());
        Scanner.Feature fixed = feature(entity(r, "fixed"), "instruction_paraphrase_share");
        assertFalse(fixed.fired(), fixed.toString());
        // one wording, repeated: nothing reworded, except where a passage quoting something made the cut leave words
        // of the passage in the wrapper (2 of these 30)
        assertTrue(fixed.value() <= 0.1, fixed.toString());
    }

    static Scanner.Feature feature(Scanner.Entity e, String name) {
        return e.features().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }

    /**
     * Adds {@code people} persons ("person0", ...; one /24 each) asking {@code each} questions apiece, the sentences of
     * {@code text} from {@code from} on, at random times within the hour after T0, at temperature 0.8 without logprobs.
     * Returns the index of the next unused sentence.
     */
    static int persons(List<LogRecord> log, int people, int each, List<String> text, int from, Random rnd) {
        int s = from;
        for (int u = 0; u < people; u++) {
            for (int i = 0; i < each; i++) {
                log.add(rec(T0.plusSeconds(rnd.nextInt(3600)), "person" + u, "203.0." + u + ".9", text.get(s++),
                        0.8, false));
            }
        }
        return s;
    }

    static LogRecord rec(Instant t, String account, String client, String query, double temp, boolean logprobs) {
        return new LogRecord(t, account, client, "/v1/chat/completions", "m", 200, temp, 1, logprobs,
                logprobs ? 5 : 0, 30, 60, query, null, account);
    }

    @Test
    void readsTheGatewayShape() {
        LogRecord r = LogReader.parse("{\"timestamp\": \"2026-12-05T04:00:00+01:00\", \"user\": \"u\", \"ip\": "
                + "\"1.2.3.4\", \"request\": {\"model\": \"m\", \"prompt\": [\"hello there\"], \"logprobs\": 3, "
                + "\"n\": 4, \"temperature\": 0}, \"response\": {\"usage\": {\"prompt_tokens\": 2, "
                + "\"completion_tokens\": 9}}}", "x:1");
        assertEquals(Instant.parse("2026-12-05T03:00:00Z"), r.time());
        assertEquals("/v1/completions", r.endpoint());
        assertEquals("hello there", r.query());
        assertTrue(r.logprobs());
        assertEquals(3, r.topLogprobs());
        assertEquals(4, r.n());
        assertEquals(0.0, r.temperature());
        assertEquals(9, r.completionTokens());
    }

    @Test
    void templatesGroupSlotFilledQueriesOnly() {
        List<String> q = new ArrayList<>();
        for (String t : TOPICS) q.add("Explain step by step how " + t + " works in organic chemistry, and show your reasoning.");
        q.add("What is the capital of France?");
        q.add("How do I bake sourdough bread at home?");
        int[] ids = Templates.group(q);
        for (int i = 0; i < TOPICS.length; i++) assertEquals(ids[0], ids[i]);
        assertTrue(ids[0] >= 0);
        assertEquals(-1, ids[TOPICS.length]);
        assertEquals(-1, ids[TOPICS.length + 1]);
    }

    @Test
    void networksAreSlash24AndLoopbackIsNoEvidence() {
        assertEquals("45.33.12.0/24", Scanner.network("45.33.12.99"));
        assertEquals(null, Scanner.network("127.0.0.1"));
        assertEquals(null, Scanner.network("::1"));
        assertEquals("2001:0db8:0001::/48", Scanner.network("2001:db8:1:2::5"));
    }

    static Scanner.Entity entity(Scanner.Report r, String account) {
        return r.ranked().stream().filter(e -> e.kind().equals("account") && e.name().equals(account)).findFirst()
                .orElseThrow();
    }
}
