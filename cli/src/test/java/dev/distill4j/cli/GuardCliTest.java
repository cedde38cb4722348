package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.serve.TinyModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code distill guard keygen|detect}, {@code distill generate --watermark} and {@code distill serve --watermark}.
 * Serving runs as a child process, as a user runs it; the short commands run in-process (the same picocli
 * command line and exit codes, without a JVM start each).
 */
class GuardCliTest {
    private static final Pattern URL = Pattern.compile("at (http://127\\.0\\.0\\.1:(\\d+)/v1)");

    @TempDir static Path tmp;
    static Path modelDir;

    record Result(int exitCode, String stdout, String stderr) {
        @Override public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    /** Runs {@code distill ARGS} in this JVM with stdout and stderr captured. */
    static synchronized Result distill(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Distill.commandLine().execute(args);
            System.out.flush();
            System.err.flush();
            return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @BeforeAll
    static void model() throws Exception {
        modelDir = TinyModel.write(tmp.resolve("tiny"), 32, 2, 4, 2, 64, 512);
    }

    private static Path keygen(String name, String... extra) {
        Path key = tmp.resolve(name);
        List<String> args = new ArrayList<>(List.of("guard", "keygen", "--tokenizer", modelDir.toString(), "--out",
                key.toString()));
        args.addAll(List.of(extra));
        Result r = distill(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        pinSecret(key);
        return key;
    }

    /**
     * Replaces keygen's random secret by one derived from the file name (and the key id with it), so the p-values
     * these tests assert are the same in every run: with a fresh secret each run, "another key gives p > 0.01"
     * fails in 1 % of runs by design, and the tiny model's weak evidence varies from key to key.
     */
    private static void pinSecret(Path key) {
        try {
            var o = (com.fasterxml.jackson.databind.node.ObjectNode) Json.parse(Files.readString(key));
            byte[] secret = new byte[32];
            new java.util.SplittableRandom(key.getFileName().toString().hashCode()).nextBytes(secret);
            o.put("secret", java.util.Base64.getEncoder().encodeToString(secret));
            o.put("key_id", java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(secret)).substring(0, 16));
            Files.writeString(key, Json.writePretty(o) + "\n");   // the file exists: its owner-only mode stays
        } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void keygenWritesAPrivateKeyAndPrintsOnlyItsId() throws Exception {
        Path key = tmp.resolve("k1.wmkey");
        Result r = distill("guard", "keygen", "--scheme", "kgw", "--hash", "self", "--gamma", "0.5",
                "--tokenizer", modelDir.toString(), "--out", key.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        JsonNode k = Json.parse(Files.readString(key));
        assertThat(k.at("/params/hash").asText()).isEqualTo("self");
        assertThat(k.at("/params/context").asInt()).isEqualTo(4);       // SelfHash's default window
        assertThat(k.at("/params/gamma").asDouble()).isEqualTo(0.5);
        assertThat(k.at("/params/delta").asDouble()).isEqualTo(2.0);
        assertThat(Path.of(k.at("/tokenizer/dir").asText())).isEqualTo(modelDir.toAbsolutePath().normalize());
        assertThat(r.stdout()).contains("key id " + k.get("key_id").asText()).contains("SelfHash, γ = 0.5")
                .doesNotContain(k.get("secret").asText());
        assertThat(Files.getPosixFilePermissions(key)).isEqualTo(PosixFilePermissions.fromString("rw-------"));

        // never overwritten by accident
        Result again = distill("guard", "keygen", "--scheme", "gumbel", "--tokenizer", modelDir.toString(),
                "--out", key.toString());
        assertThat(again.exitCode()).as(again.toString()).isEqualTo(1);
        assertThat(again.stderr()).contains("already exists").contains("--force");
        assertThat(Json.parse(Files.readString(key)).get("secret").asText()).isEqualTo(k.get("secret").asText());
        Result forced = distill("guard", "keygen", "--scheme", "gumbel", "--tokenizer", modelDir.toString(),
                "--out", key.toString(), "--force");
        assertThat(forced.exitCode()).as(forced.toString()).isZero();
        assertThat(Json.parse(Files.readString(key)).get("scheme").asText()).isEqualTo("gumbel");
    }

    @Test
    void keygenRefusesParametersOfAnotherScheme() {
        Result r = distill("guard", "keygen", "--scheme", "gumbel", "--gamma", "0.5", "--tokenizer",
                modelDir.toString(), "--out", tmp.resolve("never.wmkey").toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
        assertThat(r.stderr()).contains("--gamma is a parameter of kgw, not of gumbel");
        Result bad = distill("guard", "keygen", "--scheme", "kgw", "--gamma", "1.5", "--tokenizer",
                modelDir.toString(), "--out", tmp.resolve("never.wmkey").toString());
        assertThat(bad.exitCode()).as(bad.toString()).isEqualTo(1);
        assertThat(bad.stderr()).contains("gamma").doesNotContain("Exception");
        assertThat(tmp.resolve("never.wmkey")).doesNotExist();
    }

    /** generate --watermark writes watermarked text; detect finds it in a text file and a JSONL file, as JSON. */
    @Test
    void generatedTextDetectsWithItsKeyAsJsonAndNotWithAnother() throws Exception {
        Path key = keygen("gen.wmkey", "--scheme", "kgw");
        Path otherKey = keygen("gen-other.wmkey", "--scheme", "kgw");
        Result g = distill("generate", "--model", modelDir.toString(), "--prompt", "Once upon a time",
                "--max-new-tokens", "300", "--temperature", "1.2", "--seed", "4", "--watermark", key.toString());
        assertThat(g.exitCode()).as(g.toString()).isZero();
        assertThat(g.stderr()).contains("watermark: kgw (LeftHash, γ = 0.25, δ = 2, h = 1), key id ");
        String text = g.stdout().substring(0, g.stdout().length() - 1);   // generate ends with a newline
        Path txt = tmp.resolve("answer.txt");
        Files.writeString(txt, text);
        Path jsonl = tmp.resolve("answers.jsonl");
        Files.writeString(jsonl, Json.write(Map.of("id", "a1", "prompt", "Once upon a time", "text", text)) + "\n\n"
                + Json.write(Map.of("text", "plain words a person wrote, nothing else")) + "\n");

        Result d = distill("guard", "detect", "--key", key.toString(), "--json", "--localize", txt.toString(),
                jsonl.toString());
        assertThat(d.exitCode()).as(d.toString()).isZero();
        JsonNode report = Json.parse(d.stdout());
        assertThat(report.get("scheme").asText()).isEqualTo("kgw");
        assertThat(report.get("null_mean").asDouble()).isEqualTo(0.25);
        assertThat(report.toString()).doesNotContain(Json.parse(Files.readString(key)).get("secret").asText());
        JsonNode texts = report.get("texts");
        assertThat(texts).hasSize(3);
        assertThat(texts.get(0).get("id").asText()).isEqualTo(txt.toString());
        assertThat(texts.get(1).get("id").asText()).isEqualTo("a1");
        assertThat(texts.get(2).get("id").asText()).isEqualTo(jsonl + ":3");
        assertThat(texts.get(0).get("log10_p_value").asDouble()).isLessThan(-4);
        assertThat(texts.get(0).get("mean_score").asDouble()).isGreaterThan(0.25);
        assertThat(texts.get(0).at("/passage/corrected_log10_p_value").asDouble()).isLessThan(-2);
        JsonNode pooled = report.get("pooled");
        assertThat(pooled.get("texts").asInt()).isEqualTo(3);
        // the JSONL line repeats the text file's text: its tuples were scored already and count once
        assertThat(pooled.get("skipped").asLong()).isGreaterThan(0);
        assertThat(pooled.get("log10_p_value").asDouble()).isLessThan(-4);

        Result table = distill("guard", "detect", "--key", key.toString(), "--localize", txt.toString(),
                jsonl.toString());
        assertThat(table.exitCode()).as(table.toString()).isZero();
        assertThat(table.stdout()).contains("watermark kgw (LeftHash", "passage: ", "pooled: 3 texts",
                "the texts carry this watermark");
        System.out.print(table.stdout());    // the example in docs/guard.md

        Result other = distill("guard", "detect", "--key", otherKey.toString(), txt.toString());
        assertThat(other.exitCode()).as(other.toString()).isZero();     // a negative result is still success
        Matcher p = Pattern.compile("pooled: .* p = (\\S+)").matcher(other.stdout());
        assertThat(p.find()).as(other.stdout()).isTrue();
        assertThat(Double.parseDouble(p.group(1))).isGreaterThan(0.01);
        assertThat(other.stdout()).contains("no evidence of this watermark");
    }

    @Test
    void detectErrorsNameTheFileAndLine() throws Exception {
        Path key = keygen("err.wmkey", "--scheme", "synthid", "--layers", "8");
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\": \"fine\"}\n{\"text\": \"cut\n");
        Result r = distill("guard", "detect", "--key", key.toString(), bad.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.stderr()).contains(bad + ":2: not valid JSON").doesNotContain("\tat ");

        Files.writeString(bad, "{\"text\": \"fine\"}\n\n{\"prompt\": \"no text\"}\n");
        r = distill("guard", "detect", "--key", key.toString(), bad.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.stderr()).contains(bad + ":3: no \"text\" field");

        Path missing = tmp.resolve("missing.txt");
        r = distill("guard", "detect", "--key", key.toString(), missing.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.stderr()).contains("no such file: " + missing);

        // a key whose tokenizer fingerprint is another model's: a clear error, never a silent "not watermarked"
        JsonNode k = Json.parse(Files.readString(key));
        ((com.fasterxml.jackson.databind.node.ObjectNode) k.get("tokenizer")).put("sha256", "0".repeat(64));
        Path foreign = tmp.resolve("foreign.wmkey");
        Files.writeString(foreign, Json.write(k));
        Path txt = tmp.resolve("some.txt");
        Files.writeString(txt, "some text");
        r = distill("guard", "detect", "--key", foreign.toString(), txt.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.stderr()).contains("was made for a tokenizer with fingerprint 000000000000").contains(
                "--tokenizer");

        r = distill("guard", "detect", "--key", tmp.resolve("nokey").toString(), txt.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.stderr()).contains("does not exist");
    }

    /** The whole path as a user runs it: a served model's answers carry the key's watermark. */
    @Test
    void serveWatermarksItsAnswersAndCountsThem() throws Exception {
        // KGW with a strong bias: keygen draws a fresh secret every run, and the tiny random model has so little
        // entropy that a distortion-free scheme's evidence over ~350 tokens varies from key to key (Gumbel gave
        // p = 1e-3 for one key in CI); δ = 4 makes the served texts' p tiny for any key
        Path key = keygen("serve.wmkey", "--scheme", "kgw", "--delta", "4");
        String secret = Json.parse(Files.readString(key)).get("secret").asText();
        String keyId = Json.parse(Files.readString(key)).get("key_id").asText();
        Path logs = tmp.resolve("serve-logs");
        Process serve = DistillProcess.start(Map.of(), logs, "serve", "--model", modelDir.toString(), "--port", "0",
                "--served-model-name", "tiny", "--watermark", key.toString());
        List<String> texts = new ArrayList<>();
        long completion = 0;
        try {
            String baseUrl = awaitUrl(serve, logs.resolve("stdout.txt"));
            assertThat(Files.readString(logs.resolve("stdout.txt"))).contains(
                    "Watermarking every generated token: kgw (LeftHash, γ = 0.25, δ = 4, h = 1), key id " + keyId);
            try (HttpClient http = HttpClient.newHttpClient()) {
                for (int i = 0; i < 3; i++) {
                    String body = "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"Story " + i
                            + "\"}],\"max_tokens\":120,\"temperature\":1.2,\"seed\":" + i + "}";
                    var r = http.send(HttpRequest.newBuilder(URI.create(baseUrl + "/chat/completions"))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                    JsonNode j = Json.parse(r.body());
                    texts.add(j.at("/choices/0/message/content").asText());
                    completion += j.at("/usage/completion_tokens").asLong();
                }
                var metrics = http.send(HttpRequest.newBuilder(URI.create(baseUrl.replace("/v1", "/metrics")))
                        .build(), HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).contains("distill4j_watermarked_tokens_total " + completion + "\n");
            }
        } finally {
            serve.destroy();
            assertThat(serve.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(Files.readString(logs.resolve("stdout.txt")) + Files.readString(logs.resolve("stderr.txt")))
                .doesNotContain(secret);
        Path answers = tmp.resolve("served.jsonl");
        StringBuilder lines = new StringBuilder();
        for (String t : texts) lines.append(Json.write(Map.of("text", t))).append('\n');
        Files.writeString(answers, lines);
        Result d = distill("guard", "detect", "--key", key.toString(), "--json", answers.toString());
        assertThat(d.exitCode()).as(d.toString()).isZero();
        assertThat(Json.parse(d.stdout()).at("/pooled/log10_p_value").asDouble()).as(d.stdout()).isLessThan(-4);
    }

    private static String awaitUrl(Process p, Path stdout) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Files.exists(stdout)) {
                Matcher m = URL.matcher(Files.readString(stdout));
                if (m.find() && Files.readString(stdout).contains("Press Ctrl-C")) return m.group(1);
            }
            if (!p.isAlive()) throw new AssertionError("distill serve exited with " + p.exitValue() + "\n"
                    + Files.readString(stdout.resolveSibling("stderr.txt")));
            Thread.sleep(100);
        }
        throw new AssertionError("distill serve printed no URL in 60 s");
    }
}
