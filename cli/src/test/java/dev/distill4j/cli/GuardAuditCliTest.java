package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.guard.watermark.TokenizerFingerprint;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.serve.TinyModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code distill guard audit} in-process: both modes against a random tiny model (never trained on anything, so
 * never radioactive), the JSON report, and the errors a user can make. Radioactivity itself is tested in guard's
 * {@code RadioactivityTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuardAuditCliTest {
    private Path model;
    private Path key;
    private Path texts;
    private Path dir;

    record Result(int code, String out, String err) {}

    @BeforeAll
    void setUp(@TempDir Path tmp) throws IOException {
        dir = tmp;
        model = TinyModel.write(tmp.resolve("tiny"));
        byte[] secret = new byte[WatermarkKey.SECRET_BYTES];
        new SplittableRandom(5).nextBytes(secret);
        try (HfTokenizer tok = HfTokenizer.load(model)) {
            new WatermarkKey(WatermarkKey.Scheme.KGW, Map.of("gamma", 0.25, "delta", 2.0, "context", 1, "hash", "left"),
                    TokenizerFingerprint.of(tok), secret).write(key = tmp.resolve("wm.key"));
        }
        StringBuilder jsonl = new StringBuilder();
        String[] words = {"the river", "a map of stars", "bread and salt", "music in glass", "code in the rain"};
        for (int i = 0; i < 30; i++) {
            jsonl.append(Json.write(Json.object().put("prompt", "Tell me about " + words[i % 5])
                    .put("text", "Here is " + words[(i * 3) % 5] + " and " + words[(i + 2) % 5] + ", number " + i
                            + ", told " + "again and ".repeat(i % 4) + "well.")))
                    .append('\n');
        }
        Files.writeString(texts = tmp.resolve("served.jsonl"), jsonl);
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new GuardAuditCommand());
        cl.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler(new Errors()).setParameterExceptionHandler(new Errors());
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void openAuditOfAnUntrainedModelFindsNoEvidence() {
        Result r = run("--key", key.toString(), "--watermarked", texts.toString(), "--suspect", model.toString(), "-q");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("verdict: no evidence").contains("mode: open").contains("scored tuples: ")
                .contains("green fraction: ").doesNotContain("secret");

        Result j = run("--key", key.toString(), "--watermarked", texts.toString(), "--suspect", model.toString(),
                "--json", "--alpha", "0.05");
        assertThat(j.code()).as(j.err()).isZero();
        JsonNode o = Json.parse(j.out());
        assertThat(o.get("mode").asText()).isEqualTo("open");
        assertThat(o.get("alpha").asDouble()).isEqualTo(0.05);
        assertThat(o.get("scored").asLong()).isPositive();
        assertThat(o.get("texts").asInt()).isEqualTo(30);
        assertThat(o.get("null_mean").asDouble()).isEqualTo(0.25);
        assertThat(o.get("filtered").has("duplicate_tuple")).isTrue();
        assertThat(o.get("key").has("secret")).isFalse();
        assertThat(o.get("p_value").asDouble()).isBetween(0.0, 1.0);
    }

    @Test
    void closedAuditPromptsAServedModel() throws IOException {
        try (LocalModel m = LocalModel.load(model);
             OpenAiServer server = OpenAiServer.builder().setModel(m).optServedModelName("tiny").optPort(0).build()) {
            int port = server.start();
            Result r = run("--key", key.toString(), "--watermarked", texts.toString(), "--suspect",
                    "http://127.0.0.1:" + port + "/v1", "--model", "tiny", "--tokenizer", model.toString(),
                    "--max-tokens", "24", "--samples", "2", "--json", "-q");
            assertThat(r.code()).as(r.err()).isZero();
            JsonNode o = Json.parse(r.out());
            assertThat(o.get("mode").asText()).isEqualTo("closed");
            assertThat(o.get("prompts").asLong()).isEqualTo(5);     // the distinct prompts of the texts
            assertThat(o.get("answers").asLong()).isEqualTo(10);
            assertThat(o.get("failed_requests").asLong()).isZero();
            assertThat(o.get("radioactive").asBoolean()).isFalse();
        }
        // a server that wants a key stops the audit at once with the variable to set
        try (LocalModel m = LocalModel.load(model);
             OpenAiServer server = OpenAiServer.builder().setModel(m).optServedModelName("tiny").optPort(0)
                     .optApiKey("sk-right").build()) {
            int port = server.start();
            Result r = run("--key", key.toString(), "--watermarked", texts.toString(), "--suspect",
                    "http://127.0.0.1:" + port + "/v1", "--model", "tiny", "--tokenizer", model.toString(), "-q");
            assertThat(r.code()).isEqualTo(Errors.FAILURE);
            assertThat(r.err()).contains("the suspect at").contains("401").contains("OPENAI_API_KEY");
        }
    }

    @Test
    void userErrors() throws IOException {
        Result noModel = run("--key", key.toString(), "--watermarked", texts.toString(), "--suspect",
                "http://127.0.0.1:9/v1", "--tokenizer", model.toString());
        assertThat(noModel.code()).isEqualTo(Errors.USAGE);
        assertThat(noModel.err()).contains("needs --model");

        Result closedFlagInOpen = run("--key", key.toString(), "--watermarked", texts.toString(), "--suspect",
                model.toString(), "--prompts", texts.toString());
        assertThat(closedFlagInOpen.code()).isEqualTo(Errors.USAGE);
        assertThat(closedFlagInOpen.err()).contains("--prompts only apply to a closed audit");

        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Result unreachable = run("--key", key.toString(), "--watermarked", texts.toString(), "--suspect",
                "http://127.0.0.1:" + closedPort + "/v1", "--model", "m", "--tokenizer", model.toString(), "-q");
        assertThat(unreachable.code()).isEqualTo(Errors.FAILURE);
        assertThat(unreachable.err()).contains("cannot reach the suspect").doesNotContain("internal error");

        Result badLine = run("--key", key.toString(), "--watermarked", write("bad.jsonl", "{\"txt\": 1}\n"),
                "--suspect", model.toString());
        assertThat(badLine.code()).isEqualTo(Errors.FAILURE);
        assertThat(badLine.err()).contains("bad.jsonl:1").contains("neither \"text\" nor \"messages\"");
    }

    private String write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p.toString();
    }
}
