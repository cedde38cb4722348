package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code distill guard scan}: exit codes 0 (nothing flagged), 3 (flagged), 1 (error), 2 (usage), and its files. */
class GuardScanCliTest {
    static final Instant T0 = Instant.parse("2026-12-05T08:00:00Z");

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            Errors errors = new Errors();
            CommandLine cl = new CommandLine(new GuardScanCommand()).setExecutionExceptionHandler(errors)
                    .setParameterExceptionHandler(errors);
            cl.setErr(new java.io.PrintWriter(System.err, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static List<String> sentences(int n) throws Exception {
        List<String> out = new ArrayList<>();
        String text = Files.readString(Path.of("/usr/share/common-licenses/GPL-3")).replaceAll("\\s+", " ");
        for (String s : text.split("(?<=[.?!])\\s+")) {
            int w = s.split(" ").length;
            if (w >= 8 && w <= 30 && !out.contains(s)) out.add(s);
        }
        java.util.Collections.shuffle(out, new Random(3));
        return out.subList(0, n);
    }

    static String record(Instant t, String account, String client, String query, double temp, boolean logprobs) {
        var o = Json.object();
        o.put("time", t.toString());
        o.put("account", account);
        o.put("client", client);
        o.put("endpoint", "/v1/chat/completions");
        o.put("status", 200);
        var p = o.putObject("params");
        p.put("temperature", temp);
        p.put("n", 1);
        p.put("logprobs", logprobs);
        o.putArray("messages").addObject().put("role", "user").put("content", query);
        return Json.write(o);
    }

    @Test
    void exitCodesAndFiles(@TempDir Path tmp) throws Exception {
        Random rnd = new Random(5);
        List<String> text = sentences(96);
        List<String> benign = new ArrayList<>();
        for (int i = 0; i < text.size(); i++) {
            int a = i % 6;
            benign.add(record(T0.plusSeconds(rnd.nextInt(6 * 3600)), "user" + a, "203.0." + a + ".9", text.get(i),
                    0.7, false));
        }
        Path quiet = tmp.resolve("quiet");
        Files.createDirectories(quiet);
        Files.write(quiet.resolve("a.jsonl"), benign);
        Run ok = run("--log", quiet.toString(), "--permutations", "2000");
        assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
        assertThat(quiet.resolve("scan/scan.json")).exists();
        assertThat(quiet.resolve("scan/scan.html")).exists();

        Path busy = tmp.resolve("busy");
        Files.createDirectories(busy);
        List<String> lines = new ArrayList<>(benign);
        String[] topics = {"esterification", "the aldol reaction", "Grignard reagents", "ozonolysis", "hydroboration",
            "the Wittig reaction", "Suzuki coupling", "Michael addition", "E2 elimination", "radical halogenation"};
        for (int i = 0; i < 40; i++) {
            lines.add(record(T0.plusSeconds(1800 + 2L * i), "harvester", "198.51.100.7", "Explain step by step how "
                    + topics[i % topics.length] + " works, round " + (i / 10) + ", showing your reasoning.", 0.0, true));
        }
        lines.add("{not json");
        Files.write(busy.resolve("b.jsonl"), lines);
        Path report = tmp.resolve("report");
        Run flagged = run("--log", busy.toString(), "--out", report.toString(), "--permutations", "2000");
        assertThat(flagged.code()).as(flagged.out() + flagged.err()).isEqualTo(GuardScanCommand.FLAGGED);
        assertThat(flagged.err()).contains("b.jsonl:" + (benign.size() + 41));
        assertThat(flagged.out()).containsPattern("FLAGGED account +harvester");
        JsonNode json = Json.MAPPER.readTree(report.resolve("scan.json").toFile());
        assertThat(json.get("ranked").get(0).get("name").asText()).isEqualTo("harvester");
        assertThat(json.get("ranked").get(0).get("fired").toString()).contains("mmd2", "logprobs_share");

        Run missing = run("--log", tmp.resolve("nowhere").toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("no such log folder");
        Run usage = run("--log", quiet.toString(), "--fpr", "2");
        assertThat(usage.code()).isEqualTo(2);
    }
}
