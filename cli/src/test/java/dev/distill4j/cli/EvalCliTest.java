package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.eval.Fixtures;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill eval} as a user runs it: a child process over a real run, with the judge against the stub. */
class EvalCliTest {
    @TempDir Path tmp;

    @Test
    void evalWritesScorecardAndReportAndPrintsASummary() throws Exception {
        Path run = tmp.resolve("run");
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey("sk-judge").models("teacher-large");
             NDManager manager = NDManager.newBaseManager("PyTorch")) {
            // answers only authorised requests; the others get the stub's 401
            stub.onRequest(r -> !"Bearer sk-judge".equals(r.header("Authorization")) ? null : Fault.raw(200, "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,"
                    + "\"model\":\"teacher-large\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                    + "\"content\":\"TIE\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,"
                    + "\"completion_tokens\":1,\"total_tokens\":10}}"));
            Fixtures.student(run.resolve("student"), 5, manager);
            List<String> ids = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            List<String> answers = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                ids.add("p" + i);
                texts.add("What is " + i + " times 3?");
                answers.add(Integer.toString(3 * i));
            }
            Fixtures.run(run, run.resolve("student"), Fixtures.prompts(ids, texts, answers), stub.baseUrl(), manager);

            // the run's key variable is EVAL_TEST_KEY_UNSET: the stub wants a key, so a missing key fails clearly
            var noKey = DistillProcess.run(Map.of(), tmp.resolve("logs-0"), "eval", "--run", run.toString(),
                    "--eval-fraction", "0.5", "--token-source", "teacher", "--judge", "--quiet");
            assertThat(noKey.exitCode()).as(noKey.toString()).isEqualTo(1);
            assertThat(noKey.stderr()).contains("distill eval: error:").contains("EVAL_TEST_KEY_UNSET")
                    .doesNotContain("\tat ");

            var r = DistillProcess.run(Map.of("EVAL_TEST_KEY_UNSET", "sk-judge"), tmp.resolve("logs-1"), "eval",
                    "--run", run.toString(), "--eval-fraction", "0.5", "--token-source", "teacher", "--judge",
                    "--price-in", "0.15", "--price-out", "0.6", "--max-new-tokens", "12");
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout()).contains("eval complete").contains("top-1 agreement 1.0000")
                    .contains("chrF 100.0").contains("judge           win 0  tie").contains("report.html");
            JsonNode card = Json.MAPPER.readTree(Files.readString(run.resolve("eval/scorecard.json")));
            assertThat(card.at("/judge/tie").asInt()).isEqualTo(card.at("/judge/comparisons").asInt()).isPositive();
            assertThat(card.at("/efficiency/teacher_price_out_per_mtok").asDouble()).isEqualTo(0.6);
            assertThat(stub.lastRequest().header("Authorization")).isEqualTo("Bearer sk-judge");
            assertThat(Files.readString(run.resolve("eval/report.html"))).contains("<svg");
        }
    }

    @Test
    void missingRunIsOneLine() throws Exception {
        var r = DistillProcess.run(Map.of(), tmp.resolve("logs"), "eval", "--run", tmp.resolve("nope").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr().strip()).startsWith("distill eval: error: no run at").doesNotContain("\n");
    }
}
