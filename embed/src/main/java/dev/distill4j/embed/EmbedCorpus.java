package dev.distill4j.embed;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/** Sentences to evaluate (or tune) an embedding student on: a user's file, or a generated offline set. */
public final class EmbedCorpus {
    private EmbedCorpus() {}

    /** Text lines, or JSONL whose objects carry {@code "text"} (a {@code .jsonl} name or a first line starting with '{'). */
    public static List<String> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("no corpus file at " + file);
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        boolean jsonl = file.getFileName().toString().endsWith(".jsonl")
                || lines.stream().filter(l -> !l.isBlank()).findFirst().map(l -> l.strip().startsWith("{")).orElse(false);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank()) continue;
            if (!jsonl) {
                out.add(l.strip());
                continue;
            }
            JsonNode n;
            try {
                n = Json.MAPPER.readTree(l);
            } catch (IOException e) {
                throw new IOException(file + " line " + (i + 1) + " is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
            }
            JsonNode t = n.get("text");
            if (t == null || !t.isTextual()) throw new IOException(file + " line " + (i + 1) + " has no \"text\" string");
            if (!t.asText().isBlank()) out.add(t.asText());
        }
        if (out.size() < 2) throw new IOException(file + " holds " + out.size() + " texts; at least 2 are needed");
        return out;
    }

    /**
     * One domain's phrases. The first {@link #CLASSIC} of each slot are the original evaluation vocabulary
     * ({@link #synthetic}); the rest widen the training grammar ({@link #training}).
     */
    private record Topic(String[] subjects, String[] verbs, String[] objects, String[] settings) {}

    private static final int CLASSIC = 5;

    // Hand-written vocabularies per domain, so sentences of one topic share meaning and differ from others
    private static final Topic[] TOPICS = {
        new Topic(new String[] {"the chef", "my grandmother", "a young cook", "the baker", "our neighbour",
                        "the head waiter", "a food critic", "my uncle", "the pastry student", "the farmer's wife"},
                new String[] {"bakes", "roasts", "seasons", "slices", "simmers",
                        "grills", "tastes", "stirs", "chops", "serves"},
                new String[] {"fresh bread", "a pot of soup", "the vegetables", "a lemon cake", "garlic and onions",
                        "a spicy curry", "the roast chicken", "homemade pasta", "a bowl of rice", "the apple pie"},
                new String[] {"in the kitchen", "before dinner", "for the family", "on a cold evening", "with olive oil",
                        "for the wedding feast", "over an open fire", "on a busy Saturday", "with too much salt", "at the village bakery"}),
        new Topic(new String[] {"the striker", "the goalkeeper", "our team", "the young midfielder", "the coach",
                        "the referee", "the team captain", "a substitute", "the winger", "the home side"},
                new String[] {"scores", "defends", "passes", "celebrates", "trains for",
                        "misses", "wins", "blocks", "prepares for", "loses"},
                new String[] {"the final match", "a late goal", "the penalty kick", "the league title", "the ball",
                        "the cup semi-final", "a free kick", "the derby", "a corner kick", "the away game"},
                new String[] {"in the stadium", "after half time", "during the tournament", "in front of the fans", "on a wet pitch",
                        "in extra time", "at the training ground", "before kick-off", "under the floodlights", "in the last minute"}),
        new Topic(new String[] {"the developer", "our backend service", "the compiler", "a junior programmer", "the database",
                        "the build server", "the security team", "a senior engineer", "the test suite", "the web browser"},
                new String[] {"refactors", "compiles", "indexes", "debugs", "deploys",
                        "caches", "rewrites", "reviews", "patches", "profiles"},
                new String[] {"the source code", "a slow query", "the new release", "memory leaks", "the unit tests",
                        "the login page", "a null pointer bug", "the network protocol", "the config file", "an old library"},
                new String[] {"on the server", "before the deadline", "in production", "with a profiler", "after the code review",
                        "in the cloud", "on a laptop", "during the sprint", "behind a firewall", "late on Friday"}),
        new Topic(new String[] {"the doctor", "a nurse", "the surgeon", "the patient", "the pharmacist",
                        "the paramedic", "a medical student", "the dentist", "the midwife", "the old man"},
                new String[] {"examines", "treats", "prescribes", "monitors", "recovers from",
                        "diagnoses", "suffers from", "vaccinates against", "bandages", "checks"},
                new String[] {"a high fever", "the broken arm", "the infection", "blood pressure", "the medication",
                        "a sore throat", "the heart rate", "a deep wound", "the flu", "an allergic reaction"},
                new String[] {"at the hospital", "in the clinic", "after surgery", "during the night shift", "in the emergency room",
                        "in the ambulance", "at the pharmacy", "before the operation", "in the waiting room", "on the children's ward"}),
        new Topic(new String[] {"the investor", "the central bank", "a small company", "the accountant", "the market",
                        "the finance minister", "a pension fund", "the trader", "the auditor", "a startup founder"},
                new String[] {"buys", "sells", "audits", "raises", "forecasts",
                        "lowers", "invests in", "borrows", "taxes", "reports"},
                new String[] {"shares", "interest rates", "the quarterly profit", "government bonds", "the budget",
                        "the annual revenue", "foreign currency", "a bank loan", "the dividend", "the national debt"},
                new String[] {"on the stock exchange", "this fiscal year", "despite inflation", "after the report", "in the financial district",
                        "before the recession", "at the shareholder meeting", "during the crisis", "to the tax office", "in the second quarter"}),
        new Topic(new String[] {"the hiker", "a fox", "the park ranger", "a flock of birds", "the botanist",
                        "a brown bear", "the mountain guide", "a family of deer", "the beekeeper", "the wildlife photographer"},
                new String[] {"climbs", "watches", "explores", "protects", "crosses",
                        "follows", "photographs", "studies", "hides in", "waits by"},
                new String[] {"the mountain trail", "the old forest", "a quiet river", "the wild flowers", "the valley",
                        "a frozen waterfall", "the rocky coast", "the pine trees", "a muddy path", "the green meadow"},
                new String[] {"at sunrise", "in early spring", "under heavy rain", "near the lake", "through the snow",
                        "in the autumn fog", "after the storm", "on a windy hill", "at dusk", "in the national park"}),
        new Topic(new String[] {"the pianist", "the orchestra", "a street guitarist", "the choir", "the composer",
                        "the drummer", "the young violinist", "the rock band", "the conductor", "a famous singer"},
                new String[] {"plays", "rehearses", "performs", "records", "writes",
                        "sings", "tunes", "practises", "arranges", "improvises"},
                new String[] {"a slow melody", "the symphony", "a jazz song", "the opening chord", "an old ballad",
                        "a folk tune", "the piano concerto", "the new album", "a love song", "the final chorus"},
                new String[] {"in the concert hall", "for the audience", "late at night", "at the festival", "in the studio",
                        "on the radio", "at the opera house", "in a small bar", "for the first time", "on the main stage"}),
        new Topic(new String[] {"the pilot", "the train driver", "a tourist", "the ferry captain", "the cyclist",
                        "the bus driver", "a backpacker", "the flight attendant", "a lost traveller", "the tour guide"},
                new String[] {"travels to", "departs from", "arrives at", "navigates", "books a ticket to",
                        "flies to", "drives past", "returns from", "sails to", "walks around"},
                new String[] {"the airport", "the central station", "a small island", "the harbour", "the capital city",
                        "the old town", "a mountain village", "the border crossing", "the seaside resort", "the night market"},
                new String[] {"on time", "after a long delay", "with heavy luggage", "during the holidays", "before sunrise",
                        "by night train", "without a map", "in the rush hour", "on a rainy morning", "for a business meeting"}),
    };

    /** The generator seed for training sentences: not the evaluation set's (42), and {@link #training} checks too. */
    public static final long TRAINING_SEED = 1042;
    public static final int DEFAULT_TRAINING_SENTENCES = 10_000;

    private static final String[] ADVERBS = {"often", "rarely", "quickly", "carefully", "always", "sometimes",
            "never", "proudly", "slowly", "happily"};
    private static final String[] REPORTERS = {"my friend", "the newspaper", "our teacher", "the radio host",
            "a witness", "the manager"};

    /**
     * {@code n} distinct templated sentences (subject verb object setting) over eight topics, from the classic
     * vocabulary: the default evaluation set. The same seed gives the same set.
     */
    public static List<String> synthetic(int n, long seed) {
        Random rnd = new Random(seed);
        Set<String> out = new LinkedHashSet<>();
        int max = TOPICS.length * CLASSIC * CLASSIC * CLASSIC * CLASSIC;
        if (n > max) throw new InvalidInputException("the generated corpus has at most " + max + " sentences, asked for " + n);
        while (out.size() < n) {
            Topic t = TOPICS[out.size() % TOPICS.length];
            out.add(capitalise(classic(rnd, t.subjects()) + " " + classic(rnd, t.verbs()) + " " + classic(rnd, t.objects())
                    + " " + classic(rnd, t.settings()) + "."));
        }
        return new ArrayList<>(out);
    }

    /**
     * {@code n} distinct generated sentences to train a student on, none of them in {@code exclude} (pass the
     * evaluation set so training and evaluation stay disjoint). A wider grammar than {@link #synthetic}: the full
     * vocabularies, eight sentence shapes (fronted settings, adverbs, coordination, relative and reported clauses),
     * and the second clause of two-clause sentences from a random topic one time in five, so a bag-of-tokens student
     * sees words in many combinations rather than one fixed frame.
     */
    public static List<String> training(int n, long seed, Collection<String> exclude) {
        Set<String> excluded = new HashSet<>(exclude);
        Random rnd = new Random(seed);
        Set<String> out = new LinkedHashSet<>();
        long attempts = 0;
        while (out.size() < n) {
            if (++attempts > 20L * n + 1000) {
                throw new IllegalStateException("could not generate " + n + " distinct training sentences outside the excluded set");
            }
            String s = capitalise(sentence(rnd, TOPICS[rnd.nextInt(TOPICS.length)]));
            if (!excluded.contains(s)) out.add(s);
        }
        return new ArrayList<>(out);
    }

    /** The texts of {@code training} that are not in {@code evaluation}; a user's files may share sentences. */
    public static List<String> withoutOverlap(List<String> training, Collection<String> evaluation) {
        Set<String> eval = new HashSet<>(evaluation);
        return training.stream().filter(s -> !eval.contains(s)).toList();
    }

    private static String sentence(Random r, Topic t) {
        String s = pick(r, t.subjects()), v = pick(r, t.verbs()), o = pick(r, t.objects()), x = pick(r, t.settings());
        return switch (r.nextInt(8)) {
            case 0 -> s + " " + v + " " + o + " " + x + ".";
            case 1 -> x + ", " + s + " " + v + " " + o + ".";
            case 2 -> s + " " + v + " " + o + ".";
            case 3 -> s + " " + pick(r, ADVERBS) + " " + v + " " + o + " " + x + ".";
            case 4 -> s + " " + v + " " + o + " and " + pick(r, t.objects()) + " " + x + ".";
            case 5 -> {
                Topic u = other(r, t);
                yield s + " " + v + " " + o + " while " + pick(r, u.subjects()) + " " + pick(r, u.verbs()) + " "
                        + pick(r, u.objects()) + ".";
            }
            case 6 -> "According to " + pick(r, REPORTERS) + ", " + s + " " + v + " " + o + " " + x + ".";
            default -> {
                Topic u = other(r, t);
                yield s + ", who " + v + " " + o + ", " + pick(r, u.verbs()) + " " + pick(r, u.objects()) + " "
                        + pick(r, u.settings()) + ".";
            }
        };
    }

    /** The same topic four times in five, otherwise a random one (possibly the same). */
    private static Topic other(Random r, Topic t) {
        return r.nextInt(5) == 0 ? TOPICS[r.nextInt(TOPICS.length)] : t;
    }

    private static String capitalise(String s) { return Character.toUpperCase(s.charAt(0)) + s.substring(1); }

    private static String classic(Random r, String[] xs) { return xs[r.nextInt(CLASSIC)]; }

    private static String pick(Random r, String[] xs) { return xs[r.nextInt(xs.length)]; }
}
