package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.NotFoundException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.StaticDistiller;
import dev.distill4j.embed.StaticEmbeddingModel;
import dev.distill4j.embed.Vectors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/embeddings} on a real loopback server: a static student distilled from bge-small (on a 1,500-token
 * vocabulary, to stay fast) served alone, and the bge-small teacher served beside a tiny chat model.
 */
class EmbeddingsTest {
    static final String STUDENT = "static-student";
    static final List<String> TEXTS = List.of("the band played a song at the concert",
            "a new law was signed by the president", "Hello world", "café au lait, s'il vous plaît");

    static OnnxEmbeddingModel bge;
    static StaticEmbeddingModel student;
    static LocalModel chatModel;
    static OpenAiServer studentServer;     // the student alone, with a key
    static OpenAiServer teacherServer;     // the tiny chat model and bge-small, no key
    static int port;
    static int teacherPort;

    @BeforeAll
    static void start() throws Exception {
        bge = OnnxEmbeddingModel.load("bge-small-en-v1.5");
        student = StaticDistiller.distill(bge, new StaticDistiller.Options(32, 1500, StaticDistiller.Options.DEFAULT_SIF), null);
        studentServer = OpenAiServer.builder().setEmbeddingModel(student).optEmbeddingModelName(STUDENT)
                .optApiKey(ServerFixture.KEY).optPort(0).build();
        port = studentServer.start();
        chatModel = LocalModel.load(ServerFixture.modelDir());
        teacherServer = OpenAiServer.builder().setModel(chatModel).optServedModelName(ServerFixture.NAME)
                .setEmbeddingModel(bge).optPort(0).build();
        teacherPort = teacherServer.start();
    }

    @AfterAll
    static void stop() {
        studentServer.close();
        teacherServer.close();
        chatModel.close();
        student.close();
        bge.close();
    }

    static ServerFixture.Reply post(String body) throws Exception {
        return ServerFixture.post(port, "/v1/embeddings", ServerFixture.KEY, body);
    }

    static String request(Object input, String extra) {
        ObjectNode b = Json.object();
        b.put("model", STUDENT);
        b.set("input", Json.MAPPER.valueToTree(input));
        String s = Json.write(b);
        return extra.isEmpty() ? s : s.substring(0, s.length() - 1) + "," + extra + "}";
    }

    static JsonNode ok(ServerFixture.Reply r) throws Exception {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return Json.MAPPER.readTree(r.body());
    }

    static float[] floats(JsonNode embedding) {
        float[] v = new float[embedding.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) embedding.get(i).asDouble();
        return v;
    }

    static float[] fromBase64(String s) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(s)).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return v;
    }

    @Test
    void floatsEqualTheInProcessEmbeddings() throws Exception {
        JsonNode r = ok(post(request(TEXTS, "")));
        assertThat(r.get("object").asText()).isEqualTo("list");
        assertThat(r.get("model").asText()).isEqualTo(STUDENT);
        float[][] expected = student.embed(TEXTS);
        ArrayNode data = (ArrayNode) r.get("data");
        assertThat(data).hasSize(TEXTS.size());
        for (int i = 0; i < TEXTS.size(); i++) {
            assertThat(data.get(i).get("object").asText()).isEqualTo("embedding");
            assertThat(data.get(i).get("index").asInt()).isEqualTo(i);
            // the JSON floats are shortest round-trip decimals: bit-exact after parsing
            assertThat(floats(data.get(i).get("embedding"))).containsExactly(expected[i]);
        }
        int tokens = 0;
        for (String t : TEXTS) tokens += student.countTokens(t);
        assertThat(tokens).isGreaterThan(TEXTS.size());
        assertThat(r.at("/usage/prompt_tokens").asInt()).isEqualTo(tokens);
        assertThat(r.at("/usage/total_tokens").asInt()).isEqualTo(tokens);
    }

    @Test
    void base64IsLittleEndianFloat32OfTheSameVectors() throws Exception {
        JsonNode r = ok(post(request(TEXTS, "\"encoding_format\":\"base64\",\"user\":\"someone\"")));
        float[][] expected = student.embed(TEXTS);
        for (int i = 0; i < TEXTS.size(); i++) {
            assertThat(fromBase64(r.get("data").get(i).get("embedding").asText())).containsExactly(expected[i]);
        }
        JsonNode asFloats = ok(post(request(TEXTS, "\"encoding_format\":\"float\"")));
        assertThat(floats(asFloats.at("/data/0/embedding"))).containsExactly(expected[0]);
    }

    @Test
    void aSingleStringAndTokenArraysGiveTheTextsEmbedding() throws Exception {
        String text = TEXTS.getFirst();
        float[] expected = student.embed(text);
        JsonNode single = ok(post(request(text, "")));
        assertThat(single.get("data")).hasSize(1);
        assertThat(floats(single.at("/data/0/embedding"))).containsExactly(expected);

        long[] ids = student.tokenize(text);
        JsonNode oneArray = ok(post(request(ids, "")));
        assertThat(floats(oneArray.at("/data/0/embedding"))).containsExactly(expected);
        assertThat(oneArray.at("/usage/prompt_tokens").asInt()).isEqualTo(ids.length);

        long[] other = student.tokenize(TEXTS.get(1));
        JsonNode arrays = ok(post(request(List.of(ids, other), "")));
        assertThat(floats(arrays.at("/data/0/embedding"))).containsExactly(expected);
        assertThat(floats(arrays.at("/data/1/embedding"))).containsExactly(student.embed(TEXTS.get(1)));
        assertThat(arrays.at("/usage/prompt_tokens").asInt()).isEqualTo(ids.length + other.length);
    }

    @Test
    void dimensionsCutsAndRenormalises() throws Exception {
        JsonNode r = ok(post(request(TEXTS.getFirst(), "\"dimensions\":8")));
        float[] v = floats(r.at("/data/0/embedding"));
        assertThat(v).hasSize(8);
        assertThat(Math.sqrt(Vectors.dot(v, v))).isCloseTo(1.0, within(1e-6));
        float[] prefix = Vectors.normalize(Arrays.copyOf(student.embed(TEXTS.getFirst()), 8));
        assertThat(v).containsExactly(prefix);
        JsonNode full = ok(post(request(TEXTS.getFirst(), "\"dimensions\":32")));
        assertThat(floats(full.at("/data/0/embedding"))).containsExactly(student.embed(TEXTS.getFirst()));
    }

    static void assertError(ServerFixture.Reply r, int status, String param, String messagePart) throws Exception {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        JsonNode e = Json.MAPPER.readTree(r.body()).get("error");
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.has("code")).isTrue();
        if (param == null) assertThat(e.get("param").isNull()).isTrue();
        else assertThat(e.get("param").asText()).isEqualTo(param);
        assertThat(e.get("message").asText()).contains(messagePart);
    }

    @Test
    void malformedInputsAreOpenAisFourHundreds() throws Exception {
        String invalid = "'$.input' is invalid. Please check the API reference";
        assertError(post(request("", "")), 400, null, invalid);
        assertError(post(request(List.of("fine", ""), "")), 400, null, "input 1 is an empty string");
        assertError(post(request(List.of(), "")), 400, null, "empty array");
        assertError(post(request(List.of(List.of()), "")), 400, null, "empty token array");
        assertError(post(request(List.of("text", 5), "")), 400, null, "input 1 is not a string");
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 2049; i++) many.add("text " + i);
        assertError(post(request(many, "")), 400, null, "at most 2048");
        assertThat(post(request(many.subList(0, 2048), "")).status()).isEqualTo(200);
        assertError(post("{\"model\":\"" + STUDENT + "\"}"), 400, "input", "you must provide an input");
        assertError(post(request(Json.object(), "")), 400, "input", "Invalid type for 'input'");
        assertError(post(request(new long[] {3, 999_999}, "")), 400, "input", "token id 999999");
    }

    @Test
    void badOptionsAndModelsAreRejected() throws Exception {
        assertError(post(request("x", "\"dimensions\":33")), 400, "dimensions", "between 1 and 32");
        assertError(post(request("x", "\"dimensions\":0")), 400, "dimensions", "between 1 and 32");
        assertError(post(request("x", "\"dimensions\":\"8\"")), 400, "dimensions", "Invalid type");
        assertError(post(request("x", "\"encoding_format\":\"int8\"")), 400, "encoding_format", "'float' or 'base64'");
        assertError(post("{\"model\":\"nope\",\"input\":\"x\"}"), 404, "model", "The model `nope` does not exist");
        var noKey = ServerFixture.post(port, "/v1/embeddings", null, request("x", ""));
        assertThat(noKey.status()).isEqualTo(401);
        // a chat endpoint asked for the embedding model
        var chat = ServerFixture.post(port, "/v1/chat/completions", ServerFixture.KEY, "{\"model\":\"" + STUDENT
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertError(chat, 404, "model", "This is not a chat model and thus not supported in the v1/chat/completions");
        var legacy = ServerFixture.post(port, "/v1/completions", ServerFixture.KEY, "{\"model\":\"" + STUDENT
                + "\",\"prompt\":\"hi\"}");
        assertError(legacy, 404, "model", "is an embedding model");
        // and the embeddings endpoint asked for a chat model
        var wrongKind = ServerFixture.post(teacherPort, "/v1/embeddings", null, "{\"model\":\"" + ServerFixture.NAME
                + "\",\"input\":\"hi\"}");
        assertError(wrongKind, 404, "model", "This is not an embedding model");
    }

    @Test
    void modelsAndMetricsKnowTheEmbeddingModel() throws Exception {
        JsonNode models = Json.MAPPER.readTree(ServerFixture.get(port, "/v1/models", ServerFixture.KEY).body());
        assertThat(models.get("data")).hasSize(1);
        assertThat(models.at("/data/0/id").asText()).isEqualTo(STUDENT);
        assertThat(ServerFixture.get(port, "/v1/models/" + STUDENT, ServerFixture.KEY).status()).isEqualTo(200);
        JsonNode both = Json.MAPPER.readTree(ServerFixture.get(teacherPort, "/v1/models", null).body());
        assertThat(both.get("data").findValuesAsText("id")).containsExactly(ServerFixture.NAME, "bge-small-en-v1.5");

        ok(post(request(List.of("one", "two", "three"), "")));
        String metrics = ServerFixture.get(port, "/metrics", null).body();
        assertThat(metrics).containsPattern("distill4j_requests_total\\{endpoint=\"/v1/embeddings\",status=\"200\"} [1-9]");
        assertThat(metrics).containsPattern("distill4j_embeddings_total [1-9]");
        assertThat(metrics).containsPattern("distill4j_prompt_tokens_total [1-9]");
    }

    @Test
    void concurrentRequestsEachGetTheirOwnVectors() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 24; i++) texts.add("sentence number " + i + " about " + TEXTS.get(i % TEXTS.size()));
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<JsonNode>> replies = new ArrayList<>();
            for (String t : texts) replies.add(pool.submit(() -> ok(post(request(List.of(t, t + "!"), "")))));
            for (int i = 0; i < texts.size(); i++) {
                float[][] expected = student.embed(List.of(texts.get(i), texts.get(i) + "!"));
                JsonNode r = replies.get(i).get();
                assertThat(floats(r.at("/data/0/embedding"))).containsExactly(expected[0]);
                assertThat(floats(r.at("/data/1/embedding"))).containsExactly(expected[1]);
            }
        }
    }

    @Test
    void theTeacherIsServedBesideAChatModel() throws Exception {
        JsonNode r = ok(ServerFixture.post(teacherPort, "/v1/embeddings", null,
                "{\"model\":\"bge-small-en-v1.5\",\"input\":" + Json.write(Json.MAPPER.valueToTree(TEXTS)) + "}"));
        float[][] expected = bge.embed(TEXTS);
        for (int i = 0; i < TEXTS.size(); i++) {
            float[] v = floats(r.get("data").get(i).get("embedding"));
            assertThat(v).hasSize(384);
            assertThat(Vectors.dot(v, expected[i])).isCloseTo(1.0, within(1e-5));
        }
        int tokens = 0;
        for (String t : TEXTS) tokens += bge.countTokens(t);
        assertThat(r.at("/usage/prompt_tokens").asInt()).isEqualTo(tokens);
        // token arrays carry no special tokens: the server frames them as the tokenizer frames a text
        long[] framed = bge.tokenize(TEXTS.getFirst());
        long[] ids = Arrays.copyOfRange(framed, 1, framed.length - 1);
        JsonNode t = ok(ServerFixture.post(teacherPort, "/v1/embeddings", null,
                "{\"model\":\"bge-small-en-v1.5\",\"input\":" + Json.write(Json.MAPPER.valueToTree(ids)) + "}"));
        assertThat(Vectors.dot(floats(t.at("/data/0/embedding")), expected[0])).isCloseTo(1.0, within(1e-5));
        // the chat model still answers
        var chat = ServerFixture.post(teacherPort, "/v1/chat/completions", null, "{\"model\":\"" + ServerFixture.NAME
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}");
        assertThat(chat.status()).as(chat.body()).isEqualTo(200);
    }

    @Test
    void theOfficialOpenAiSdkReadsTheEmbeddings() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1")
                .apiKey(ServerFixture.KEY).maxRetries(0).build();
        try {
            CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder().model(STUDENT)
                    .inputOfArrayOfStrings(TEXTS).build());
            float[][] expected = student.embed(TEXTS);
            assertThat(r.data()).hasSize(TEXTS.size());
            for (int i = 0; i < TEXTS.size(); i++) {
                assertThat(r.data().get(i).index()).isEqualTo(i);
                List<Float> got = r.data().get(i).embedding();
                for (int k = 0; k < expected[i].length; k++) assertThat(got.get(k)).isEqualTo(expected[i][k]);
            }
            assertThat(r.model()).isEqualTo(STUDENT);
            assertThat(r.usage().promptTokens()).isPositive();
            assertThat(r.usage().totalTokens()).isEqualTo(r.usage().promptTokens());

            long[] ids = student.tokenize(TEXTS.get(1));
            List<Long> idList = Arrays.stream(ids).boxed().toList();
            CreateEmbeddingResponse tokens = client.embeddings().create(EmbeddingCreateParams.builder().model(STUDENT)
                    .inputOfArrayOfTokenArrays(List.of(idList)).dimensions(16).build());
            List<Float> cut = tokens.data().getFirst().embedding();
            assertThat(cut).hasSize(16);
            float[] prefix = Vectors.normalize(Arrays.copyOf(expected[1], 16));
            for (int k = 0; k < 16; k++) assertThat(cut.get(k)).isEqualTo(prefix[k]);

            Assertions.assertThatThrownBy(() -> client.embeddings().create(EmbeddingCreateParams.builder()
                            .model("text-embedding-3-small").input("hi").build()))
                    .isInstanceOf(NotFoundException.class).hasMessageContaining("text-embedding-3-small");
        } finally {
            client.close();
        }
    }

    @Test
    void anEmbeddingModelWithoutTokenIdsSaysSo() throws Exception {
        // a wrapper that only embeds text, as a remote API client would
        EmbeddingModel textOnly = new EmbeddingModel() {
            public float[][] embed(List<String> texts) { return student.embed(texts); }
            public int dimension() { return student.dimension(); }
            public String name() { return "text-only"; }
        };
        try (OpenAiServer s = OpenAiServer.builder().setEmbeddingModel(textOnly).optPort(0).build()) {
            int p = s.start();
            var r = ServerFixture.post(p, "/v1/embeddings", null, "{\"model\":\"text-only\",\"input\":[[1,2,3]]}");
            assertError(r, 400, "input", "does not accept token arrays");
            JsonNode text = ok(ServerFixture.post(p, "/v1/embeddings", null,
                    "{\"model\":\"text-only\",\"input\":\"two words\"}"));
            assertThat(text.at("/usage/prompt_tokens").asInt()).isEqualTo(2);   // the default count: words
        }
    }
}
