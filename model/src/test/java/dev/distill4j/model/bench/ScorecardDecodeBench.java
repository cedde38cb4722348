package dev.distill4j.model.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.local.LocalModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo scorecard's decode speed of a student and its local teacher, measured as {@code distill eval} measures it
 * (not a test; bench/decode/run.sh runs it): each chat prompt rendered by the model's own template, one untimed
 * warm-up, then per prompt {@link LocalModel#generateTimed} greedy with the model's EOS ids, and decode tokens/s =
 * Σ (generated − 1) / Σ (total − prefill), eval's {@code Evaluator.Timings} formula. Both models decode the same
 * prompts; the figure the issue asks for is the student's tokens/s over the teacher's.
 */
public final class ScorecardDecodeBench {
    private ScorecardDecodeBench() {}

    /** Decode tokens/s of one model and what it generated. */
    record Rate(double tokensPerSecond, long generated, int requests) {}

    /**
     * Prints and returns student / teacher decode tokens/s over the first {@code limit} prompts of {@code prompts}
     * (JSONL with {@code messages}): the median over passes of the ratio within each pass (a pass runs the two models
     * back to back, so load changes hit both), repeated until settled ({@link Repeated}), at least {@code repeats}.
     */
    static double compare(Path student, Path teacher, Path prompts, int limit, int maxNew, int repeats)
            throws IOException {
        List<List<Message>> chats = read(prompts, limit);
        System.out.printf("scorecard decode (eval's formula: greedy, max %d new tokens, %d prompts of %s)%n", maxNew,
                chats.size(), prompts);
        try (LocalModel s = LocalModel.load(student); LocalModel t = LocalModel.load(teacher)) {
            System.out.printf("  student %s: %,d parameters, %s%n", student, s.parameterCount(), s.engineDescription());
            System.out.printf("  teacher %s: %,d parameters, %s%n", teacher, t.parameterCount(), t.engineDescription());
            Rate[] last = new Rate[2];
            rate(s, chats, maxNew);   // warm-up passes
            rate(t, chats, maxNew);
            Repeated.Series[] r = Repeated.until(() -> {
                last[0] = rate(s, chats, maxNew);
                last[1] = rate(t, chats, maxNew);
                double a = last[0].tokensPerSecond(), b = last[1].tokensPerSecond();
                return new double[] {a, b, a / b};
            }, repeats, 8 * repeats, DecodeBench.SPREAD);
            double ratio = r[2].median();
            System.out.printf("  student decode %,8.0f tokens/s  (%,d tokens in %d requests): %s%n", r[0].median(),
                    last[0].generated(), last[0].requests(), r[0].describe("%,.0f"));
            System.out.printf("  teacher decode %,8.0f tokens/s  (%,d tokens in %d requests): %s%n", r[1].median(),
                    last[1].generated(), last[1].requests(), r[1].describe("%,.0f"));
            System.out.printf("  student / teacher: %.2fx  for %.1fx fewer parameters  (per back-to-back pass: %s)%n",
                    ratio, (double) t.parameterCount() / s.parameterCount(), r[2].describe("%.2f"));
            return ratio;
        }
    }

    /** One pass: a warm-up, then every prompt timed as eval times it. */
    static Rate rate(LocalModel m, List<List<Message>> chats, int maxNew) {
        SamplingParams greedy = SamplingParams.greedy(maxNew);
        m.generateTimed(m.encodeChat(chats.getFirst()), SamplingParams.greedy(2));
        long decodeTokens = 0, decodeNanos = 0, generated = 0;
        for (List<Message> chat : chats) {
            int[] ids = m.encodeChat(chat);
            LocalModel.Timed t = m.generateTimed(ids, greedy);
            int n = t.generation().tokenIds().length;
            generated += n;
            if (n > 1) {
                decodeTokens += n - 1;
                decodeNanos += Math.max(1, t.totalNanos() - t.prefillNanos());
            }
        }
        return new Rate(decodeTokens * 1e9 / decodeNanos, generated, chats.size());
    }

    static List<List<Message>> read(Path prompts, int limit) throws IOException {
        List<List<Message>> out = new ArrayList<>();
        for (String line : Files.readAllLines(prompts)) {
            if (line.isBlank()) continue;
            JsonNode messages = Json.parse(line).path("messages");
            if (!messages.isArray()) throw new IOException(prompts + ": a line without \"messages\": " + line);
            List<Message> chat = new ArrayList<>();
            for (JsonNode m : messages) chat.add(new Message(m.path("role").asText(), m.path("content").asText()));
            out.add(chat);
            if (out.size() == limit) break;
        }
        if (out.isEmpty()) throw new IOException(prompts + " holds no prompts");
        return out;
    }

    /** {@code ScorecardDecodeBench STUDENT TEACHER PROMPTS.jsonl [limit] [repeats]}. */
    public static void main(String[] args) throws IOException {
        compare(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : 60,
                96, args.length > 4 ? Integer.parseInt(args[4]) : 3);
    }
}
