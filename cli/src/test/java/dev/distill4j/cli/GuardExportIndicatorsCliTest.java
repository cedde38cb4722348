package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code distill guard export-indicators} from a scan.json, and {@code distill guard scan --indicators}: the exported
 * file flags the same campaign run from new accounts at low volume in another log; bad input gives clear errors.
 */
class GuardExportIndicatorsCliTest {
    static final String[] TOPICS = {"esterification", "the aldol reaction", "Grignard reagents", "ozonolysis",
        "hydroboration", "the Wittig reaction", "Suzuki coupling", "Michael addition", "E2 elimination",
        "radical halogenation"};

    static GuardScanCliTest.Run run(Object command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            Errors errors = new Errors();
            CommandLine cl = new CommandLine(command).setExecutionExceptionHandler(errors)
                    .setParameterExceptionHandler(errors);
            cl.setErr(new java.io.PrintWriter(System.err, true));
            int code = cl.execute(args);
            return new GuardScanCliTest.Run(code, out.toString(StandardCharsets.UTF_8),
                    err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static String query(int i) {
        return "Explain step by step how " + TOPICS[i % TOPICS.length] + " works, round " + (i / 10)
                + ", showing your reasoning.";
    }

    @Test
    void exportThenMatchElsewhere(@TempDir Path tmp) throws Exception {
        Random rnd = new Random(5);
        List<String> text = GuardScanCliTest.sentences(96);
        List<String> benign = new ArrayList<>();
        for (int i = 0; i < text.size(); i++) {
            int a = i % 6;
            benign.add(GuardScanCliTest.record(GuardScanCliTest.T0.plusSeconds(rnd.nextInt(6 * 3600)), "user" + a,
                    "203.0." + a + ".9", text.get(i), 0.7, false));
        }
        Path busy = tmp.resolve("busy");
        Files.createDirectories(busy);
        List<String> lines = new ArrayList<>(benign);
        for (int i = 0; i < 40; i++) {
            lines.add(GuardScanCliTest.record(GuardScanCliTest.T0.plusSeconds(1800 + 2L * i), "harvester",
                    "198.51.100.7", query(i), 0.0, true));
        }
        Files.write(busy.resolve("b.jsonl"), lines);
        var scanned = run(new GuardScanCommand(), "--log", busy.toString(), "--permutations", "2000");
        assertThat(scanned.code()).as(scanned.out() + scanned.err()).isEqualTo(GuardScanCommand.FLAGGED);

        Path file = tmp.resolve("shared/ind.json");
        var exported = run(new GuardExportIndicatorsCommand(), "--scan", busy.resolve("scan/scan.json").toString(),
                "--source", "provider A", "--out", file.toString());
        assertThat(exported.code()).as(exported.out() + exported.err()).isZero();
        assertThat(exported.out()).contains("wrote 1 indicator(s)");
        String written = Files.readString(file);
        assertThat(written).doesNotContain("harvester", "198.51.100", "Explain", "esterification", "user0");
        JsonNode json = Json.MAPPER.readTree(written);
        assertThat(json.get("format").asText()).isEqualTo("distill4j.indicators");
        assertThat(json.get("source").asText()).isEqualTo("provider A");
        assertThat(json.at("/embedder/dimension").asInt()).isEqualTo(384);
        assertThat(json.at("/indicators/0/requests").asInt()).isEqualTo(40);

        // another provider: benign users and the same template from two new accounts, 4 queries each, temperature 0.7
        Path other = tmp.resolve("other");
        Files.createDirectories(other);
        List<String> otherLines = new ArrayList<>(benign);
        for (int i = 0; i < 8; i++) {
            otherLines.add(GuardScanCliTest.record(GuardScanCliTest.T0.plusSeconds(900 + 431L * i),
                    "fresh" + (i % 2), "192.0.2." + (20 + i), query(40 + 3 * i), 0.7, false));
        }
        Files.write(other.resolve("c.jsonl"), otherLines);
        var alone = run(new GuardScanCommand(), "--log", other.toString(), "--permutations", "2000",
                "--out", tmp.resolve("alone").toString());
        assertThat(alone.code()).as(alone.out() + alone.err()).isZero();
        var matched = run(new GuardScanCommand(), "--log", other.toString(), "--permutations", "2000",
                "--indicators", file.toString(), "--out", tmp.resolve("matched").toString());
        assertThat(matched.code()).as(matched.out() + matched.err()).isEqualTo(GuardScanCommand.FLAGGED);
        assertThat(matched.out()).containsPattern("FLAGGED account +fresh0 .*indicator_match")
                .containsPattern("FLAGGED account +fresh1 .*indicator_match")
                .doesNotContainPattern("FLAGGED account +user");

        // bad input
        var unknown = run(new GuardExportIndicatorsCommand(), "--scan", busy.resolve("scan/scan.json").toString(),
                "--entity", "nobody", "--out", tmp.resolve("x.json").toString());
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("no account or cluster named 'nobody'");
        assertThat(tmp.resolve("x.json")).doesNotExist();
        var neither = run(new GuardExportIndicatorsCommand(), "--out", tmp.resolve("x.json").toString());
        assertThat(neither.code()).isEqualTo(2);
        Path broken = tmp.resolve("broken.json");
        Files.writeString(broken, "{\"format\": \"distill4j.indicators\", \"version\": 7}");
        var refused = run(new GuardScanCommand(), "--log", other.toString(), "--indicators", broken.toString());
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.err()).contains(broken.toString(), "\"version\" 7 is not supported");
    }
}
