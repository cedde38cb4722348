package dev.distill4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Json;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.teacher.Teachers;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The judge against the OpenAI wire stub: order, mapping, retries, unparseable replies, fatal errors. */
class JudgeTest {
    private static String reply(String content) {
        return "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":" + Json.write(content) + "},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1,\"total_tokens\":10}}";
    }

    private static Teacher teacher(OpenAiStub stub) {
        return Teachers.create(new TeacherConfig("openai", "chat", URI.create(stub.baseUrl()), "m", "K", "k",
                new TeacherSampling(0.0, null, 16, false, 1L, List.of(), 0, null), Duration.ofSeconds(10), Map.of()));
    }

    @Test
    void picksTheAnswerTheJudgeNamesWhateverItsPosition() throws Exception {
        try (OpenAiStub stub = OpenAiStub.start(); Teacher t = teacher(stub)) {
            // the judge always prefers the answer "good", wherever it is shown
            stub.onRequest(r -> {
                String text = r.json().at("/messages/0/content").asText();
                return Fault.raw(200, reply(text.indexOf("good") < text.indexOf("[Answer B]") ? "A" : "B"));
            });
            Judge judge = new Judge(t, 7);
            Random order = new Random(7);
            for (int i = 0; i < 6; i++) {
                boolean studentFirst = order.nextBoolean();
                Judge.Outcome o = judge.compare("q?", "good", "bad");
                assertThat(o.studentFirst()).isEqualTo(studentFirst);
                assertThat(o.verdict()).isEqualTo(Judge.Verdict.WIN);
                assertThat(judge.compare("q?", "bad", "good").verdict()).isEqualTo(Judge.Verdict.LOSS);
                order.nextBoolean();
            }
        }
    }

    @Test
    void retriesServerErrorsAndMarksUnparseableRepliesInvalid() throws Exception {
        try (OpenAiStub stub = OpenAiStub.start(); Teacher t = teacher(stub)) {
            Judge judge = new Judge(t, 1, new Backoff(Duration.ofMillis(1), 2, Duration.ofMillis(5), 3, new Random(1)));
            stub.enqueue(Fault.status(503));
            stub.onRequest(r -> Fault.raw(200, reply("TIE")));
            assertThat(judge.compare("q", "a", "b").verdict()).isEqualTo(Judge.Verdict.TIE);
            assertThat(stub.requestCount()).isEqualTo(2);

            stub.clearFaults();
            stub.onRequest(r -> Fault.raw(200, reply("Both answers have merits; I cannot say.")));
            assertThat(judge.compare("q", "a", "b").verdict()).isEqualTo(Judge.Verdict.TIE);   // "both" = a tie
            stub.onRequest(r -> Fault.raw(200, reply("I cannot decide")));
            Judge.Outcome o = judge.compare("q", "a", "b");
            assertThat(o.verdict()).isEqualTo(Judge.Verdict.INVALID);
            assertThat(o.raw()).isEqualTo("I cannot decide");

            stub.clearFaults();
            stub.onRequest(r -> Fault.status(500));
            assertThat(judge.compare("q", "a", "b").verdict()).isEqualTo(Judge.Verdict.INVALID);  // retries used up
        }
    }

    @Test
    void badKeyStopsTheJudge() {
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey("right"); Teacher t = teacher(stub)) {
            assertThatThrownBy(() -> new Judge(t, 1).compare("q", "a", "b")).isInstanceOf(TeacherException.class)
                    .hasMessageContaining("$K");
        }
    }

    @Test
    void readsTheJsonVerdictAndItsReason() throws Exception {
        try (OpenAiStub stub = OpenAiStub.start(); Teacher t = teacher(stub)) {
            stub.onRequest(r -> {
                String text = r.json().at("/messages/0/content").asText();
                assertThat(text).contains("{\"winner\": \"A\"");
                String winner = text.indexOf("good") < text.indexOf("[Answer B]") ? "A" : "B";
                return Fault.raw(200, reply("```json\n{\"winner\": \"" + winner + "\", \"reason\": \"It is \\\"good\\\".\"}\n```"));
            });
            Judge judge = new Judge(t, 3);
            Judge.Outcome o = judge.compare("q?", "good", "bad");
            assertThat(o.verdict()).isEqualTo(Judge.Verdict.WIN);
            assertThat(o.reason()).isEqualTo("It is \"good\".");
            assertThat(judge.compare("q?", "bad", "good").verdict()).isEqualTo(Judge.Verdict.LOSS);
        }
    }

    @Test
    void parsesJsonVerdicts() {
        assertThat(Judge.parse("{\"winner\": \"B\", \"reason\": \"more complete\"}"))
                .isEqualTo(new Judge.Choice("B", "more complete"));
        assertThat(Judge.parse("{\"winner\":\"tie\",\"reason\":\"same\"}").winner()).isEqualTo("TIE");
        assertThat(Judge.parse("{\"reason\": \"A is wrong\", \"winner\": \"Answer B\"}").winner()).isEqualTo("B");
        assertThat(Judge.parse("<think>A or B? A.</think>{\"winner\": \"a\"}").winner()).isEqualTo("A");
        // cut by the token limit after the winner: still read
        assertThat(Judge.parse("{\"winner\": \"B\", \"reason\": \"Answer B explains the st")).isEqualTo(
                new Judge.Choice("B", null));
        // JSON that names neither is not guessed from the rest of the text
        assertThat(Judge.parse("{\"winner\": \"C\", \"reason\": \"B is close\"}")).isNull();
    }

    @Test
    void theFreeTextFallbackReadsTheVerdictNotTheArticle() {
        assertThat(Judge.parseFreeText("As a judge, I prefer B")).isEqualTo("B");
        assertThat(Judge.parseFreeText("Both are fine but B is slightly clearer.")).isEqualTo("B");
        assertThat(Judge.parseFreeText("Both are fine but B…")).isEqualTo("B");
        assertThat(Judge.parseFreeText("I prefer a concise style, so B.")).isEqualTo("B");
        assertThat(Judge.parseFreeText("A")).isEqualTo("A");
        assertThat(Judge.parseFreeText("**B**")).isEqualTo("B");
        assertThat(Judge.parseFreeText("Answer: A")).isEqualTo("A");
        assertThat(Judge.parseFreeText("Final verdict: [[B]]")).isEqualTo("B");
        assertThat(Judge.parseFreeText("[[C]]")).isEqualTo("TIE");
        assertThat(Judge.parseFreeText("TIE")).isEqualTo("TIE");
        assertThat(Judge.parseFreeText("A tie.")).isEqualTo("TIE");
        assertThat(Judge.parseFreeText("They are equally good.")).isEqualTo("TIE");
        assertThat(Judge.parseFreeText("The better answer is A, because B misses a step.")).isEqualTo("A");
        assertThat(Judge.parseFreeText("Answer A is more complete than B.")).isEqualTo("A");
        assertThat(Judge.parseFreeText("<think>B looks right</think> A")).isEqualTo("A");
        assertThat(Judge.parseFreeText("Both answers have merits.")).isEqualTo("TIE");
        assertThat(Judge.parseFreeText("A and B each get something wrong")).isNull();
        assertThat(Judge.parseFreeText("I cannot decide")).isNull();
        assertThat(Judge.parse("As a judge, I prefer B")).isEqualTo(new Judge.Choice("B", null));
    }
}
