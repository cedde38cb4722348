package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.Json;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.serve.TinyModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill harvest --active} as a user runs it: a child process against a real {@code distill serve} teacher on
 * loopback, a tiny student, two rounds with the default selection (gain); and the flag combinations it refuses
 * before anything is sent.
 */
class ActiveHarvestCliTest {
    @TempDir Path tmp;

    @Test
    void twoRoundsOverHttpThenUsageErrors() throws Exception {
        Path teacher = TinyModel.write(tmp.resolve("teacher"), 32, 2, 4, 2, 64, 512);
        Path student = TinyModel.write(tmp.resolve("student"), 16, 1, 2, 1, 32, 512);
        Path pool = tmp.resolve("pool.jsonl");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            b.append(Json.write(Json.object().put("id", "q" + i).put("prompt", "spell " + i))).append('\n');
        }
        Files.writeString(pool, b.toString());
        Path run = tmp.resolve("run");
        try (OpenAiServer server = OpenAiServer.builder().setModelDir(teacher).optServedModelName("teacher")
                .optPort(0).build()) {
            String base = "http://127.0.0.1:" + server.start() + "/v1";
            List<String> common = List.of("harvest", "--run", run.toString(), "--prompts", pool.toString(),
                    "--base-url", base, "--model", "teacher", "--max-tokens", "6", "--temperature", "0",
                    "--top-logprobs", "3", "--price-in", "1", "--price-out", "2");
            DistillProcess.Result r = DistillProcess.run(Map.of(), tmp.resolve("log-run"), 240,
                    concat(common, "--active", "--student", student.toString(), "--budget-usd", "0.0008",
                            "--rounds", "2", "--train-steps", "2", "--warmup-steps", "0", "--batch-tokens", "256",
                            "--max-seq-len", "48", "--probe-tokens", "6", "--eval-fraction", "0.25",
                            "--quiet"));
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.stdout()).contains("active harvest done").contains("held-out").contains("gain")
                    .contains("of $0.0008 budget");
            assertThat(r.stderr()).contains("round 2: bought");
            assertThat(Files.readAllLines(run.resolve("active/rounds.jsonl"))).hasSize(2);

            DistillProcess.Result noStudent = DistillProcess.run(Map.of(), tmp.resolve("log-a"),
                    concat(common, "--active", "--budget-usd", "1"));
            assertThat(noStudent.exitCode()).isEqualTo(2);
            assertThat(noStudent.stderr()).contains("--active needs --student DIR");
            DistillProcess.Result batch = DistillProcess.run(Map.of(), tmp.resolve("log-b"),
                    concat(common, "--active", "--student", student.toString(), "--budget-usd", "1", "--batch"));
            assertThat(batch.exitCode()).isEqualTo(2);
            assertThat(batch.stderr()).contains("drop one of them");
            DistillProcess.Result stray = DistillProcess.run(Map.of(), tmp.resolve("log-c"),
                    concat(common, "--student", student.toString()));
            assertThat(stray.exitCode()).isEqualTo(2);
            assertThat(stray.stderr()).contains("--student applies to --active");
            DistillProcess.Result strayReplay = DistillProcess.run(Map.of(), tmp.resolve("log-d"),
                    concat(common, "--replay", run.toString()));
            assertThat(strayReplay.exitCode()).isEqualTo(2);
            assertThat(strayReplay.stderr()).contains("--replay applies to --active");
        }
    }

    private static String[] concat(List<String> head, String... tail) {
        List<String> all = new java.util.ArrayList<>(head);
        all.addAll(List.of(tail));
        return all.toArray(String[]::new);
    }
}
