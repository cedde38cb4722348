package dev.distill4j.embed;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    private record Topic(String[] subjects, String[] verbs, String[] objects, String[] settings) {}

    // Small hand-written vocabularies per domain, so sentences of one topic share meaning and differ from others
    private static final Topic[] TOPICS = {
        new Topic(new String[] {"the chef", "my grandmother", "a young cook", "the baker", "our neighbour"},
                new String[] {"bakes", "roasts", "seasons", "slices", "simmers"},
                new String[] {"fresh bread", "a pot of soup", "the vegetables", "a lemon cake", "garlic and onions"},
                new String[] {"in the kitchen", "before dinner", "for the family", "on a cold evening", "with olive oil"}),
        new Topic(new String[] {"the striker", "the goalkeeper", "our team", "the young midfielder", "the coach"},
                new String[] {"scores", "defends", "passes", "celebrates", "trains for"},
                new String[] {"the final match", "a late goal", "the penalty kick", "the league title", "the ball"},
                new String[] {"in the stadium", "after half time", "during the tournament", "in front of the fans", "on a wet pitch"}),
        new Topic(new String[] {"the developer", "our backend service", "the compiler", "a junior programmer", "the database"},
                new String[] {"refactors", "compiles", "indexes", "debugs", "deploys"},
                new String[] {"the source code", "a slow query", "the new release", "memory leaks", "the unit tests"},
                new String[] {"on the server", "before the deadline", "in production", "with a profiler", "after the code review"}),
        new Topic(new String[] {"the doctor", "a nurse", "the surgeon", "the patient", "the pharmacist"},
                new String[] {"examines", "treats", "prescribes", "monitors", "recovers from"},
                new String[] {"a high fever", "the broken arm", "the infection", "blood pressure", "the medication"},
                new String[] {"at the hospital", "in the clinic", "after surgery", "during the night shift", "in the emergency room"}),
        new Topic(new String[] {"the investor", "the central bank", "a small company", "the accountant", "the market"},
                new String[] {"buys", "sells", "audits", "raises", "forecasts"},
                new String[] {"shares", "interest rates", "the quarterly profit", "government bonds", "the budget"},
                new String[] {"on the stock exchange", "this fiscal year", "despite inflation", "after the report", "in the financial district"}),
        new Topic(new String[] {"the hiker", "a fox", "the park ranger", "a flock of birds", "the botanist"},
                new String[] {"climbs", "watches", "explores", "protects", "crosses"},
                new String[] {"the mountain trail", "the old forest", "a quiet river", "the wild flowers", "the valley"},
                new String[] {"at sunrise", "in early spring", "under heavy rain", "near the lake", "through the snow"}),
        new Topic(new String[] {"the pianist", "the orchestra", "a street guitarist", "the choir", "the composer"},
                new String[] {"plays", "rehearses", "performs", "records", "writes"},
                new String[] {"a slow melody", "the symphony", "a jazz song", "the opening chord", "an old ballad"},
                new String[] {"in the concert hall", "for the audience", "late at night", "at the festival", "in the studio"}),
        new Topic(new String[] {"the pilot", "the train driver", "a tourist", "the ferry captain", "the cyclist"},
                new String[] {"travels to", "departs from", "arrives at", "navigates", "books a ticket to"},
                new String[] {"the airport", "the central station", "a small island", "the harbour", "the capital city"},
                new String[] {"on time", "after a long delay", "with heavy luggage", "during the holidays", "before sunrise"}),
    };

    /** {@code n} distinct templated sentences over eight topics; the same seed gives the same set. */
    public static List<String> synthetic(int n, long seed) {
        Random rnd = new Random(seed);
        Set<String> out = new LinkedHashSet<>();
        int max = TOPICS.length * 5 * 5 * 5 * 5;
        if (n > max) throw new IllegalArgumentException("the generated corpus has at most " + max + " sentences, asked for " + n);
        while (out.size() < n) {
            Topic t = TOPICS[out.size() % TOPICS.length];
            String s = pick(rnd, t.subjects()) + " " + pick(rnd, t.verbs()) + " " + pick(rnd, t.objects()) + " "
                    + pick(rnd, t.settings()) + ".";
            out.add(Character.toUpperCase(s.charAt(0)) + s.substring(1));
        }
        return new ArrayList<>(out);
    }

    private static String pick(Random r, String[] xs) { return xs[r.nextInt(xs.length)]; }
}
