package dev.distill4j.prompts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill4j.core.Prompt;
import dev.distill4j.core.io.PromptReader;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.Teachers;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The synthesis loop over real HTTP: an OpenAI-format stub "teacher" whose replies depend only on the request text
 * (so a rerun's replies equal the first run's, whatever order the concurrent requests take), the real harvester and
 * run store, and the real bge-small-en-v1.5 for near-duplicates.
 */
class PromptSynthesizerTest {
    /** What the stub's teacher writes from: varied tasks, plus traps for every filter. */
    private static final List<String> BANK = List.of(
            "Explain how a refrigerator moves heat out of its inside.",
            "Write a limerick about a cat who learns to code.",
            "Convert 72 degrees Fahrenheit to Celsius and show the formula.",
            "List four causes of the First World War and rank them by importance.",
            "Summarise the plot of Hamlet in three sentences.",
            "What is the difference between a virus and a bacterium?",
            "Draft a polite email asking a landlord to fix a leaking tap.",
            "Give a recipe for vegetarian chili that serves six.",
            "Why do leaves change colour in autumn?",
            "Write a Python function that checks whether a string is a palindrome.",
            "Plan a three-day itinerary for a first visit to Lisbon.",
            "How does compound interest work? Use an example with 5% a year.",
            "Classify these animals as mammals or reptiles: gecko, whale, bat, turtle.",
            "Translate 'the library opens at nine' into Spanish and German.",
            "What are the main arguments for and against a four-day work week?",
            "Describe the water cycle to a ten-year-old.",
            "Write a short SQL query that finds the five newest orders.",
            "Suggest names for a bakery that specialises in sourdough.",
            "How many seconds are there in a leap year?",
            "Explain what a black hole's event horizon is.",
            "I'm sorry, but I can't help with that.",
            "Short.",
            "Write a limerick about a cat who learns to code!");

    private static EmbeddingModel bge;
    private static OpenAiStub stub;

    @BeforeAll
    static void start() throws Exception {
        bge = OnnxEmbeddingModel.load("bge-small-en-v1.5");
        stub = OpenAiStub.start().models("gpt-4o-mini").writer(PromptSynthesizerTest::write);
    }

    @AfterAll
    static void stop() {
        stub.close();
        bge.close();
    }

    /** The stub teacher: five bank items picked by the request's hash for a list request; a rewrite for evol. */
    static String write(String request) {
        int h = request.hashCode() & 0x7fffffff;
        if (request.contains("Given prompt:")) {
            String parent = request.substring(request.indexOf("Given prompt:\n") + 14).strip();
            return h % 3 == 0 ? "#Rewritten Prompt#: " + parent : "\"" + parent + " Answer in exactly "
                    + (3 + h % 5) + " bullet points, citing one source for each.\"";
        }
        Matcher m = Pattern.compile("from 1\\. to (\\d+)\\.").matcher(request);
        int n = m.find() ? Integer.parseInt(m.group(1)) : 5;
        StringBuilder b = new StringBuilder("Here are the new prompts:\n");
        for (int i = 0; i < n; i++) b.append(i + 1).append(". ").append(BANK.get((h + i * 7) % BANK.size())).append('\n');
        return b.toString();
    }

    private static Teacher teacher() {
        TeacherSampling s = new TeacherSampling(1.0, null, 512, false, null, List.of(), 0, null);
        return Teachers.create(new TeacherConfig("openai", "chat", URI.create(stub.baseUrl()), "gpt-4o-mini",
                "OPENAI_API_KEY", "sk-test", s, Duration.ofSeconds(10), Map.of()));
    }

    private static List<Prompt> seeds() {
        List<Prompt> out = new ArrayList<>();
        String[] s = {"What is the capital of Australia?", "Write a haiku about the sea.",
                "Explain how a refrigerator moves heat out of its inside.", "Sort these numbers: 5, 2, 9, 1."};
        for (int i = 0; i < s.length; i++) out.add(new Prompt("seed-" + i, s[i], null, null, null, 0));
        return out;
    }

    private static PromptSynthesizer.Result run(Path dir, int target, SynthesisMethod method, Budget budget)
            throws Exception {
        try (Teacher t = teacher(); RunStore store = RunStore.open(dir.resolve("work"))) {
            var options = new PromptSynthesizer.Options(target, method, List.of("cooking", "astronomy"), 3, 5, 4, 20,
                    7, 4);
            PromptPool pool = new PromptPool(bge, 0.95);
            var s = new PromptSynthesizer(t, store, dir.resolve("work"), pool, new PromptFilter(10, 400), options,
                    new RateLimiter(0, 0), budget, new Backoff(2));
            return s.run(seeds(), dir.resolve("out.jsonl"), PromptSynthesizer.Listener.NONE);
        }
    }

    private static List<Prompt> read(Path file) throws Exception {
        List<Prompt> out = new ArrayList<>();
        try (PromptReader r = PromptReader.open(file)) {
            while (r.hasNext()) out.add(((PromptReader.Ok) r.next()).prompt());
        }
        return out;
    }

    @Test
    void selfInstructKeepsDistinctPromptsThatHarvestCanReadAndAResumeBuysNothingAgain(@TempDir Path dir)
            throws Exception {
        stub.resetRecords();
        PromptSynthesizer.Result r = run(dir, 10, SynthesisMethod.SELF_INSTRUCT, Budget.unlimited());
        assertEquals(PromptSynthesizer.Stop.TARGET_REACHED, r.stop());
        List<Prompt> out = read(dir.resolve("out.jsonl"));
        assertEquals(10, out.size());
        Set<String> texts = new HashSet<>();
        for (int i = 0; i < out.size(); i++) {
            Prompt p = out.get(i);
            assertEquals(String.format("syn-%06d", i + 1), p.id());
            assertTrue(texts.add(MetaPrompts.normalize(p.text())), "duplicate kept: " + p.text());
            assertFalse(p.text().startsWith("I'm sorry") || p.text().equals("Short."), p.text());
            assertEquals("self-instruct", p.metadata().get("synthetic").asText());
            assertTrue(p.metadata().get("topic").asText().matches("cooking|astronomy"));
            assertEquals(3, p.metadata().get("parents").size());
        }
        // the seed the bank repeats is never kept, nor the limerick's punctuation twin
        assertFalse(texts.contains(MetaPrompts.normalize("Explain how a refrigerator moves heat out of its inside.")));
        assertTrue(r.rejections().getOrDefault(Rejection.DUPLICATE, 0L) > 0, r.rejections().toString());
        assertTrue(r.rejections().getOrDefault(Rejection.REFUSAL, 0L) + r.rejections().getOrDefault(Rejection.TOO_SHORT, 0L) > 0);

        long asked = stub.requestCount();
        String first = Files.readString(dir.resolve("out.jsonl"));
        PromptSynthesizer.Result again = run(dir, 10, SynthesisMethod.SELF_INSTRUCT, Budget.unlimited());
        assertEquals(asked, stub.requestCount(), "a rerun asks the teacher nothing it was asked before");
        assertEquals(first, Files.readString(dir.resolve("out.jsonl")));
        assertEquals(PromptSynthesizer.Stop.TARGET_REACHED, again.stop());
        assertEquals(0, again.requests());

        run(dir, 14, SynthesisMethod.SELF_INSTRUCT, Budget.unlimited());
        assertEquals(14, read(dir.resolve("out.jsonl")).size());
        assertTrue(Files.readString(dir.resolve("out.jsonl")).startsWith(first), "a larger --n extends the file");
    }

    @Test
    void evolInstructRewritesAndDropsRewritesThatChangeNothing(@TempDir Path dir) throws Exception {
        PromptSynthesizer.Result r = run(dir, 6, SynthesisMethod.EVOL_INSTRUCT, Budget.unlimited());
        assertEquals(PromptSynthesizer.Stop.TARGET_REACHED, r.stop());
        for (Prompt p : read(dir.resolve("out.jsonl"))) {
            assertTrue(p.text().contains("bullet points"), p.text());
            assertEquals("evol-instruct", p.metadata().get("synthetic").asText());
            assertEquals(1, p.metadata().get("parents").size());
            assertTrue(p.metadata().has("operation"));
        }
        assertTrue(r.rejections().getOrDefault(Rejection.UNCHANGED, 0L) > 0, r.rejections().toString());
    }

    @Test
    void theBudgetStopsTheLoopWithWhatWasKeptSaved(@TempDir Path dir) throws Exception {
        // each request reserves ~(prompt bound + 512) tokens at $10/M: a few cents buys a handful of requests
        Budget budget = new Budget(10, 10, 0.03);
        PromptSynthesizer.Result r = run(dir, 500, SynthesisMethod.SELF_INSTRUCT, budget);
        assertEquals(PromptSynthesizer.Stop.BUDGET_REACHED, r.stop());
        assertTrue(budget.spentUsd() <= 0.03 + 1e-9, "spent " + budget.spentUsd());
        assertEquals(r.kept().size(), read(dir.resolve("out.jsonl")).size());
    }

    @Test
    void anOutputFileThatIsNotOursIsRefusedNotOverwritten(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("out.jsonl"), "{\"prompt\": \"my own data\"}\n");
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.distill4j.core.InvalidInputException.class,
                () -> run(dir, 3, SynthesisMethod.SELF_INSTRUCT, Budget.unlimited()));
        assertTrue(e.getMessage().contains("is not the output of 'distill prompts generate'"), e.getMessage());
        assertEquals("{\"prompt\": \"my own data\"}\n", Files.readString(dir.resolve("out.jsonl")));
    }

    @Test
    void nearDuplicatesByEmbeddingAreDroppedAndOthersKept() {
        PromptPool pool = new PromptPool(bge, 0.90);
        pool.addSeeds(List.of("How do I boil an egg?"));
        var verdicts = pool.offer(List.of("How can I boil an egg?", "Explain photosynthesis in plants.",
                "explain photosynthesis in plants"));
        assertEquals(Rejection.NEAR_DUPLICATE, verdicts.get(0).orElseThrow());
        assertTrue(verdicts.get(1).isEmpty());
        assertEquals(Rejection.DUPLICATE, verdicts.get(2).orElseThrow());
        assertEquals(List.of("Explain photosynthesis in plants."), pool.synthetic());
    }
}
