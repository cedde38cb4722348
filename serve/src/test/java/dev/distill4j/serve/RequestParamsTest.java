package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.GenerationConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A request's open sampling fields are filled by the same rule as {@code distill generate} (SamplingDefaults). */
class RequestParamsTest {
    private static ObjectNode body(String json) { return (ObjectNode) Json.parse(json); }

    private static GenerationConfig config(Double t, Double p, Integer k, Boolean doSample) {
        return new GenerationConfig(null, null, null, t, p, k, doSample, null, null);
    }

    @Test
    void openFieldsComeFromGenerationConfigThenOpenAisDefaults() {
        var none = RequestParams.read(body("{\"model\":\"m\"}"), config(null, null, null, null), false);
        assertThat(none.temperature()).isEqualTo(1.0);
        assertThat(none.topP()).isEqualTo(1.0);
        assertThat(none.topK()).isZero();
        var qwen = RequestParams.read(body("{\"model\":\"m\"}"), config(0.7, 0.8, 20, true), false);
        assertThat(qwen.temperature()).isEqualTo(0.7);
        assertThat(qwen.topP()).isEqualTo(0.8);
        assertThat(qwen.topK()).isEqualTo(20);
        var asked = RequestParams.read(body("{\"model\":\"m\",\"temperature\":0.3,\"top_p\":0.5,\"top_k\":-1,\"seed\":4}"),
                config(0.7, 0.8, 20, true), false);
        assertThat(asked.temperature()).isEqualTo(0.3);
        assertThat(asked.topP()).isEqualTo(0.5);
        assertThat(asked.topK()).as("-1 is off").isZero();
        assertThat(asked.seed()).isEqualTo(4);
        var greedyModel = RequestParams.read(body("{\"model\":\"m\"}"), config(0.7, null, null, false), false);
        assertThat(greedyModel.temperature()).isZero();
        var zeroNucleus = RequestParams.read(body("{\"model\":\"m\",\"top_p\":0}"), config(null, null, null, null), false);
        assertThat(zeroNucleus.temperature()).isZero();
        assertThat(zeroNucleus.topP()).isEqualTo(1.0);
        long s1 = RequestParams.read(body("{\"model\":\"m\"}"), config(null, null, null, null), false).seed();
        long s2 = RequestParams.read(body("{\"model\":\"m\"}"), config(null, null, null, null), false).seed();
        assertThat(s1).as("no seed: a random one per request").isNotEqualTo(s2);
    }

    @Test
    void aRequestWithoutMaxTokensStopsAtGenerationConfigsMaxNewTokens(@TempDir Path tmp) throws Exception {
        Path dir = TinyModel.write(tmp.resolve("tiny"));
        ObjectNode gen = (ObjectNode) Json.parse(Files.readString(dir.resolve(GenerationConfig.FILE)));
        gen.put("max_new_tokens", 3);
        Files.writeString(dir.resolve(GenerationConfig.FILE), Json.write(gen));
        try (LocalModel model = LocalModel.load(dir);
             OpenAiServer server = ServerFixture.startWithHook(model, (seq, token, delta, position) -> { })) {
            int port = server.port();
            var r = ServerFixture.post(port, "/v1/chat/completions", null, "{\"model\":\"tiny\",\"temperature\":0,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"the cat\"}]}");
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            var usage = Json.parse(r.body()).get("usage");
            assertThat(usage.get("completion_tokens").asInt()).isLessThanOrEqualTo(3);
            assertThat(Json.parse(r.body()).get("choices").get(0).get("finish_reason").asText())
                    .isIn("length", "stop");
        }
    }
}
