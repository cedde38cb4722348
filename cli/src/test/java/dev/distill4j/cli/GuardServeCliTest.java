package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.serve.TinyModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill serve --guard POLICY}: the policy summary at start, and a malformed policy as one clear error. */
class GuardServeCliTest {
    private static final Pattern URL = Pattern.compile("at (http://127\\.0\\.0\\.1:(\\d+)/v1)");

    @TempDir Path tmp;

    @Test
    void aMalformedPolicyIsOneClearErrorBeforeTheModelLoads() throws Exception {
        Path policy = tmp.resolve("policy.json");
        Files.writeString(policy, "{\"features\": {\"logprob_share\": 0.5}, \"levels\": [{\"fired\": 1, "
                + "\"action\": \"block\"}]}");
        Path model = TinyModel.write(tmp.resolve("m"));
        var r = DistillProcess.run(Map.of(), tmp.resolve("logs"), "serve", "--model", model.toString(),
                "--guard", policy.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.stderr()).contains("guard policy " + policy).contains("unknown feature \"logprob_share\"")
                .doesNotContain("Exception");
        var missing = DistillProcess.run(Map.of(), tmp.resolve("logs2"), "serve", "--model", model.toString(),
                "--guard", tmp.resolve("nope.json").toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.stderr()).contains("--guard " + tmp.resolve("nope.json") + " is not a file");
    }

    @Test
    void servesWithAGuardAndPrintsItsPolicy() throws Exception {
        Path policy = tmp.resolve("policy.json");
        Files.writeString(policy, "{\"window\": 100, \"min_requests\": 10, \"features\": {\"logprobs_share\": 0.5, "
                + "\"template_share\": 0.6}, \"levels\": [{\"fired\": 1, \"action\": \"flag\"}, {\"fired\": 2, "
                + "\"action\": \"throttle\", \"rpm\": 6}]}");
        Path logs = tmp.resolve("serve-logs");
        Process serve = DistillProcess.start(Map.of(), logs, "serve", "--model",
                TinyModel.write(tmp.resolve("m")).toString(), "--port", "0", "--guard", policy.toString());
        try {
            String base = awaitUrl(serve, logs.resolve("stdout.txt"));
            var r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\": \"m\", \"prompt\": \"hi\", \"max_tokens\": 1}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        } finally {
            serve.destroy();
            assertThat(serve.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        String stdout = Files.readString(logs.resolve("stdout.txt"));
        assertThat(stdout).contains("Guarding each client address (no --keys: an address is an account) by " + policy)
                .contains("the last 100 requests of each account, from 10 on")
                .contains("logprobs_share >= 0.5, template_share >= 0.6")
                .contains("2+ fired -> throttle (6 rpm)");
    }

    private static String awaitUrl(Process p, Path stdout) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(stdout)) {
                Matcher m = URL.matcher(Files.readString(stdout));
                if (m.find()) return m.group(1);
            }
            if (!p.isAlive()) throw new AssertionError("distill serve exited with " + p.exitValue());
            Thread.sleep(100);
        }
        throw new AssertionError("distill serve printed no URL in 60 s");
    }
}
