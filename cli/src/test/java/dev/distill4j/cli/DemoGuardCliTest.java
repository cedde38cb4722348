package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill demo guard} end to end with the smoke profile: house teacher, a KGW-watermarked server and a plain
 * one harvested over HTTP, a fully watermarked and a control student, both audited; a rerun reuses everything. The
 * smoke students train for a few steps, so only the plumbing is checked here, not the p-values (those are in
 * docs/benchmarks.md from the default profile).
 */
class DemoGuardCliTest {
    @TempDir Path tmp;

    @Test
    void smokeGuardDemoServesHarvestsDistilsAndAudits() throws Exception {
        String[] args = {"demo", "guard", "--profile", "smoke", "--cache-dir", tmp.resolve("cache").toString(),
                "--run", tmp.resolve("run").toString(), "--quiet"};
        var first = DistillProcess.run(Map.of(), tmp.resolve("logs-1"), 300, args);
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.stderr()).contains("serves the teacher with a KGW watermark")
                .contains("served without a watermark").contains("audits the watermarked-100% student")
                .contains("audits the control student");
        assertThat(first.stdout()).contains("radioactivity audits").contains("watermarked-100%").contains("control")
                .contains("green rate").contains("control student clean at p > 0.01");
        Path run = tmp.resolve("run");
        assertThat(run.resolve("guard.key")).isRegularFile();
        assertThat(Files.readString(run.resolve("guard.key"))).contains("\"delta\" : 3.0");
        JsonNode result = Json.parse(Files.readString(run.resolve("guard-demo.json")));
        assertThat(result.path("students").size()).isEqualTo(2);
        JsonNode marked = result.path("students").get(0);
        JsonNode control = result.path("students").get(1);
        assertThat(marked.path("watermarked_samples").asLong()).isEqualTo(marked.path("samples").asLong())
                .isPositive();
        assertThat(control.path("watermarked_samples").asLong()).isZero();
        assertThat(marked.path("audit").path("scored").asLong()).isPositive();
        assertThat(marked.path("audit").path("mode").asText()).isEqualTo("open");
        // the secret is in the key file only
        String secret = Json.parse(Files.readString(run.resolve("guard.key"))).path("secret").asText();
        assertThat(first.stdout() + first.stderr() + Files.readString(run.resolve("guard-demo.json")))
                .doesNotContain(secret);

        var second = DistillProcess.run(Map.of(), tmp.resolve("logs-2"), 300, args);
        assertThat(second.exitCode()).as(second.toString()).isZero();
        assertThat(second.stderr()).contains("reused from an earlier demo").contains("loaded from an earlier run")
                .doesNotContain("training the house teacher");

        var changed = DistillProcess.run(Map.of(), tmp.resolve("logs-3"), 300, "demo", "guard", "--profile",
                "smoke", "--cache-dir", tmp.resolve("cache").toString(), "--run", run.toString(), "--quiet",
                "--watermark", "delta=2");
        assertThat(changed.exitCode()).as(changed.toString()).isEqualTo(1);
        assertThat(changed.stderr()).contains("use another --run folder");
    }
}
