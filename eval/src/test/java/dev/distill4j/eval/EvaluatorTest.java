package dev.distill4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import dev.distill4j.train.data.EvalSplit;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on real parts: a tiny random student, a run store whose TOP_K samples that same model generated (so it
 * matches its "teacher" perfectly), a second student from another seed, and the judge over an OpenAI wire stub.
 */
class EvaluatorTest {
    private static final String SCRIPT = "<script>alert('x')</script> & more";
    private static NDManager manager;

    /** Built once: the tests only read the run (and each rewrites its eval/ folder). */
    @TempDir static Path tmp;
    static OpenAiStub stub;
    static Path run;
    static Path same;
    static List<String> ids;
    static Set<String> held;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager("PyTorch");
        stub = OpenAiStub.start().models("teacher-large");
        run = tmp.resolve("run");
        same = Fixtures.student(run.resolve("student"), 11, manager);     // the default --student
        ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) ids.add("q" + i);
        held = new EvalSplit(0.5).heldOut(ids);
        String scriptId = ids.stream().filter(held::contains).findFirst().orElseThrow();
        List<String> texts = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        for (String id : ids) {
            int i = Integer.parseInt(id.substring(1));
            texts.add(id.equals(scriptId) ? SCRIPT : "Question " + i + ": what is " + i + " plus " + i + "?");
            answers.add(i % 2 == 0 ? Integer.toString(2 * i) : null);
        }
        List<Prompt> prompts = Fixtures.prompts(ids, texts, answers);
        Fixtures.run(run, same, prompts, stub.baseUrl(), manager);
        Files.write(run.resolve("metrics.jsonl"), List.of(
                "{\"step\": 1, \"loss\": 5.0, \"ce\": 5.0, \"kd\": 0.1, \"lr\": 0.001, \"tokens_per_s\": 100}",
                "{\"step\": 2, \"loss\": 4.0, \"ce\": 4.0, \"kd\": 0.1, \"lr\": 0.001, \"tokens_per_s\": 100}",
                "{\"step\": 2, \"eval_loss\": 4.5, \"eval_top1_agreement\": 0.2, \"eval_kl\": 1.5}",
                "{\"step\": 3, \"loss\": 3.5}", "{\"step\": 4, \"eval_lo"));
    }

    @BeforeEach
    void resetStub() {
        stub.clearFaults();
        stub.resetRecords();
    }

    @AfterAll
    static void tearDown() {
        stub.close();
        manager.close();
    }

    private static String reply(String content) {
        return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"teacher-large\","
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + Json.write(content)
                + "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":1,"
                + "\"total_tokens\":51}}";
    }

    private Evaluator.Builder evaluator() {
        return Evaluator.builder().setRun(run).optEvalFraction(0.5).optTokenSource(TokenSource.TEACHER)
                .optPrices(1.0, 2.0);
    }

    @Test
    void studentThatIsItsTeacherScoresPerfectly() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        stub.onRequest(r -> Fault.raw(200, reply(seen.getAndIncrement() == 0 ? "**Tie.**" : "A")));
        Scorecard card = evaluator().optJudge(true).optSeed(42).build().run();

        int n = held.size();
        assertThat(card.split().source()).isEqualTo("held-out");
        assertThat(card.split().promptIds()).containsExactlyInAnyOrderElementsOf(held);
        var tf = card.teacherForced();
        assertThat(tf.examples()).isEqualTo(n);
        assertThat(tf.positions()).isEqualTo((long) n * Fixtures.ANSWER_TOKENS);
        assertThat(tf.top1Agreement()).isEqualTo(1.0);
        assertThat(tf.klPositions()).isEqualTo(tf.positions());
        assertThat(tf.kl()).isBetween(-1e-4, 1e-4);
        assertThat(tf.perplexity()).isGreaterThan(1.0);
        var g = card.generation();
        assertThat(g.exactMatch()).isEqualTo(1.0);
        assertThat(g.chrf()).isCloseTo(100.0, within(1e-9));
        assertThat(g.rougeLF1()).isEqualTo(1.0);
        assertThat(g.studentMeanTokens()).isEqualTo(Fixtures.ANSWER_TOKENS);
        long withAnswer = held.stream().filter(id -> Integer.parseInt(id.substring(1)) % 2 == 0).count();
        // the random model's answers have no "Answer:" line: graded wrong on both sides (EvaluatorAccuracyTest
        // checks the grading itself on answers whose grades are known)
        assertThat(withAnswer).isPositive();
        assertThat(card.taskAccuracy().prompts()).isEqualTo(withAnswer);
        assertThat(card.taskAccuracy().student()).isZero();
        assertThat(card.taskAccuracy().teacher()).isZero();

        // judge: the first reply is a tie, then always "A": a win exactly when the student was shown first
        Random order = new Random(42);
        int win = 0;
        int loss = 0;
        for (int i = 0; i < n; i++) {
            boolean studentFirst = order.nextBoolean();
            if (i == 0) continue;
            if (studentFirst) win++;
            else loss++;
        }
        var j = card.judge();
        assertThat(j.tie()).isEqualTo(1);
        assertThat(j.win()).isEqualTo(win);
        assertThat(j.loss()).isEqualTo(loss);
        assertThat(j.invalid()).isZero();
        assertThat(stub.requests()).hasSize(n);
        JsonNode body = stub.requests().getFirst().json();
        assertThat(body.get("model").asText()).isEqualTo("teacher-large");
        assertThat(body.get("temperature").asDouble()).isZero();
        String judgePrompt = body.get("messages").get(0).get("content").asText();
        assertThat(judgePrompt).contains("[Answer A]").contains("[Answer B]").contains("{\"winner\": \"A\"");

        // efficiency
        var e = card.efficiency();
        assertThat(e.student().parameters()).isEqualTo(dev.distill4j.model.io.Checkpoint.parameterCount(Fixtures.config()));
        assertThat(e.student().folderBytes()).isGreaterThan(e.student().weightBytes());
        assertThat(e.student().decodeTokensPerS()).isPositive();
        assertThat(e.student().prefillTokensPerS()).isPositive();
        assertThat(e.student().latencyP95Ms()).isGreaterThanOrEqualTo(e.student().latencyP50Ms());
        assertThat(e.teacherPriceInPerMtok()).isEqualTo(1.0);
        assertThat(e.teacher().latencyMeanMs()).isBetween(100.0, 200.0);
        long in = e.teacher().promptTokens();
        long out = e.teacher().completionTokens();
        assertThat(out).isEqualTo((long) n * Fixtures.ANSWER_TOKENS);
        assertThat(e.teacherCostPerMtok()).isCloseTo((in * 1.0 + out * 2.0) / (in + out), within(1e-9));

        // files
        JsonNode json = Json.MAPPER.readTree(Files.readString(run.resolve("eval/scorecard.json")));
        assertThat(json.at("/teacher_forced/top1_agreement").asDouble()).isEqualTo(1.0);
        assertThat(json.at("/generation/chrf").asDouble()).isCloseTo(100.0, within(1e-9));
        assertThat(json.at("/parameters/token_source").asText()).isEqualTo("teacher");
        assertThat(json.at("/split/prompt_ids").size()).isEqualTo(n);
        assertThat(json.at("/judge/win").asInt()).isEqualTo(win);
        assertThat(json.at("/efficiency/student/decode_tokens_per_s").asDouble()).isPositive();
        assertThat(json.at("/prompts").size()).isEqualTo(n);
        assertThat(json.at("/prompts/0/student").isNull()).isTrue();     // texts only in "worst"
        assertThat(json.at("/worst/0/student").asText()).isNotEmpty();
        String html = Files.readString(run.resolve("eval/report.html"));
        assertThat(countOf(html, "<svg")).isEqualTo(3);                 // loss, agreement, bars
        assertThat(html).doesNotContain("<script").doesNotContain("src=").doesNotContain("href=\"http");
        assertThat(html).contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more");
        try (var files = Files.list(run.resolve("eval"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("scorecard.json",
                    "report.html");
        }
    }

    @Test
    void anotherStudentAgreesLess() throws Exception {
        Path other = Fixtures.student(tmp.resolve("student-b"), 99, manager);
        Scorecard card = evaluator().optStudent(other).optLimit(3).build().run();
        assertThat(card.split().promptIds()).hasSize(Math.min(3, held.size()));
        assertThat(card.teacherForced().top1Agreement()).isLessThan(0.6);
        assertThat(card.teacherForced().kl()).isGreaterThan(0.05);
        assertThat(card.generation().chrf()).isLessThan(100.0);
        assertThat(card.generation().exactMatch()).isLessThan(1.0);
        assertThat(card.judge()).isNull();
        assertThat(card.worst().getFirst().chrf()).isLessThanOrEqualTo(card.worst().getLast().chrf());
        assertThat(stub.requests()).isEmpty();
    }

    @Test
    void promptsFileLooksUpAnswersByIdAndFlagsTrainingPrompts() throws Exception {
        String trained = ids.stream().filter(id -> !held.contains(id)).findFirst().orElseThrow();
        String heldId = held.iterator().next();
        Path file = tmp.resolve("eval-prompts.jsonl");
        Files.write(file, List.of("{\"id\": \"" + trained + "\", \"prompt\": \"x\"}",
                "{\"id\": \"" + heldId + "\", \"prompt\": \"y\"}"));
        Scorecard card = evaluator().optPrompts(file).optStudent(same).build().run();
        assertThat(card.split().source()).isEqualTo("prompts-file");
        assertThat(card.split().promptIds()).containsExactly(trained, heldId);
        assertThat(card.split().inTrainingSplit()).isEqualTo(1);
        assertThat(card.teacherForced().top1Agreement()).isEqualTo(1.0);

        Files.write(file, List.of("{\"id\": \"nope\", \"prompt\": \"x\"}"));
        assertThatThrownBy(() -> evaluator().optPrompts(file).build().run())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no done teacher answer").hasMessageContaining("'nope'");
    }

    @Test
    void chatStudentAndLocalTeacherTiming() throws Exception {
        Path chatRun = tmp.resolve("chat-run");
        Path chat = Fixtures.student(chatRun.resolve("student"), 21, manager, true);
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            prompts.add(new Prompt("c" + i, null, List.of(dev.distill4j.core.Message.user("Hello " + i + "?")),
                    null, "chat.jsonl", i + 1));
        }
        Fixtures.run(chatRun, chat, prompts, stub.baseUrl(), manager);
        Scorecard card = Evaluator.builder().setRun(chatRun).optEvalFraction(0.5).optTeacherModel(chat).build().run();
        // the chat template renders the prompt: the student answers exactly as it did as the teacher
        assertThat(card.generation().chrf()).isCloseTo(100.0, within(1e-9));
        assertThat(card.teacherForced().positions()).isPositive();
        assertThat(card.teacherForced().kl()).isNotNull();
        var local = card.efficiency().localTeacher();
        assertThat(local.dir()).isEqualTo(chat.toString());
        assertThat(local.requests()).isEqualTo(card.split().promptIds().size());
        assertThat(local.decodeTokensPerS()).isPositive();
        assertThat(Files.readString(chatRun.resolve("eval/report.html"))).contains("No training curve");
    }

    @Test
    void clearErrors() {
        assertThatThrownBy(() -> Evaluator.builder().setRun(tmp.resolve("missing")).build().run())
                .hasMessageContaining("no run at").hasMessageContaining("distill harvest");
        assertThatThrownBy(() -> Evaluator.builder().setRun(run).optStudent(tmp.resolve("none")).build().run())
                .hasMessageContaining("no model folder");
    }

    private static int countOf(String s, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(s);
        int c = 0;
        while (m.find()) c++;
        return c;
    }
}
