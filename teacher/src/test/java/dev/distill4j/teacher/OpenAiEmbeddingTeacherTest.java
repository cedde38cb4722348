package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The /v1/embeddings client against the wire-format stub on loopback. */
class OpenAiEmbeddingTeacherTest {
    static final String KEY = "sk-embed-123456789";
    static OpenAiStub stub;

    @BeforeAll static void start() {
        stub = OpenAiStub.start().requireApiKey(KEY).models("text-embedding-3-small").embeddingDims(48);
    }

    @AfterAll static void stop() { stub.close(); }

    @BeforeEach void reset() { stub.clearFaults().resetRecords(); }

    private static OpenAiEmbeddingTeacher teacher(String key, Integer dims, OpenAiEmbeddingTeacher.Encoding enc) {
        TeacherConfig c = TeacherConfig.embeddings(URI.create(stub.baseUrl()), "text-embedding-3-small", "EMBED_KEY",
                Duration.ofSeconds(10)).withApiKeyFrom(key == null ? Map.of() : Map.of("EMBED_KEY", key));
        return new OpenAiEmbeddingTeacher(c, dims, enc);
    }

    @Test void base64IsTheDefaultAndDecodesToTheServersFloats() throws Exception {
        try (var t = teacher(KEY, null, null)) {
            var r = t.embed(List.of("the cat sat", "dogs bark loudly"), "batch-1");
            JsonNode sent = stub.lastRequest().json();
            assertThat(sent.get("encoding_format").asText()).isEqualTo("base64");
            assertThat(sent.get("input")).hasSize(2);
            assertThat(sent.has("dimensions")).isFalse();
            assertThat(stub.lastRequest().header("X-Client-Request-Id")).isEqualTo("batch-1");
            assertThat(r.vectors()[0]).containsExactly(OpenAiStub.embeddingOf("the cat sat", 48, 48));
            assertThat(r.vectors()[1]).containsExactly(OpenAiStub.embeddingOf("dogs bark loudly", 48, 48));
            assertThat(r.usage().promptTokens()).isEqualTo(6);
            assertThat(r.model()).isEqualTo("text-embedding-3-small");
            assertThat(r.rateLimits().remainingRequests()).isEqualTo(9999);
            assertThat(r.requestId()).startsWith("req_");
        }
    }

    @Test void floatEncodingAndDimensionsGiveTheShortenedVector() throws Exception {
        try (var t = teacher(KEY, 16, OpenAiEmbeddingTeacher.Encoding.FLOAT)) {
            var r = t.embed(List.of("a short text"), null);
            JsonNode sent = stub.lastRequest().json();
            assertThat(sent.get("encoding_format").asText()).isEqualTo("float");
            assertThat(sent.get("dimensions").asInt()).isEqualTo(16);
            float[] expected = OpenAiStub.embeddingOf("a short text", 48, 16);
            assertThat(r.vectors()[0]).hasSize(16);
            // JSON decimals of floats read back as the same floats
            assertThat(r.vectors()[0]).containsExactly(expected);
        }
    }

    @Test void dataIsPutBackInInputOrderByIndex() throws Exception {
        String v0 = OpenAiEmbeddingTeacher.encodeBase64(new float[] {1, 0});
        String v1 = OpenAiEmbeddingTeacher.encodeBase64(new float[] {0, 1});
        String v2 = OpenAiEmbeddingTeacher.encodeBase64(new float[] {-1, 0});
        stub.enqueue(Fault.raw(200, """
                {"object":"list","data":[
                  {"object":"embedding","index":2,"embedding":"%s"},
                  {"object":"embedding","index":0,"embedding":"%s"},
                  {"object":"embedding","index":1,"embedding":"%s"}],
                 "model":"text-embedding-3-small","usage":{"prompt_tokens":3,"total_tokens":3}}
                """.formatted(v2, v0, v1)));
        try (var t = teacher(KEY, null, null)) {
            var r = t.embed(List.of("a", "b", "c"), null);
            assertThat(r.vectors()[0]).containsExactly(1, 0);
            assertThat(r.vectors()[1]).containsExactly(0, 1);
            assertThat(r.vectors()[2]).containsExactly(-1, 0);
        }
    }

    @Test void aRepeatedOrMissingIndexIsMalformed() {
        String v = OpenAiEmbeddingTeacher.encodeBase64(new float[] {1, 0});
        stub.enqueue(Fault.raw(200, """
                {"object":"list","data":[{"object":"embedding","index":0,"embedding":"%s"},
                  {"object":"embedding","index":0,"embedding":"%s"}],"model":"m","usage":{"prompt_tokens":2,"total_tokens":2}}
                """.formatted(v, v)));
        try (var t = teacher(KEY, null, null)) {
            assertThatThrownBy(() -> t.embed(List.of("a", "b"), null))
                    .isInstanceOfSatisfying(TeacherException.class,
                            e -> assertThat(e.kind()).isEqualTo(TeacherException.Kind.MALFORMED_RESPONSE))
                    .hasMessageContaining("data[1].index 0");
        }
    }

    @Test void aBadRequestSurfacesOpenAisMessage() {
        try (var t = teacher(KEY, 4096, null)) {
            assertThatThrownBy(() -> t.embed(List.of("x"), null))
                    .isInstanceOfSatisfying(TeacherException.class, e -> {
                        assertThat(e.kind()).isEqualTo(TeacherException.Kind.BAD_REQUEST);
                        assertThat(e.status()).isEqualTo(400);
                    })
                    .hasMessageContaining("Invalid 'dimensions': integer above maximum value. Expected a value <= 48");
        }
    }

    @Test void aWrongKeyIsAuthAndAnUnknownModelNotFound() {
        try (var t = teacher("sk-wrong-000000000", null, null)) {
            assertThatThrownBy(() -> t.embed(List.of("x"), null)).isInstanceOfSatisfying(TeacherException.class,
                    e -> assertThat(e.kind()).isEqualTo(TeacherException.Kind.AUTH)).hasMessageContaining("$EMBED_KEY");
        }
        TeacherConfig c = TeacherConfig.embeddings(URI.create(stub.baseUrl()), "no-such-model", "EMBED_KEY", null)
                .withApiKey(KEY);
        try (var t = new OpenAiEmbeddingTeacher(c, null, null)) {
            assertThatThrownBy(() -> t.embed(List.of("x"), null)).isInstanceOfSatisfying(TeacherException.class,
                    e -> assertThat(e.kind()).isEqualTo(TeacherException.Kind.NOT_FOUND)).hasMessageContaining("no-such-model");
        }
    }

    @Test void a429CarriesRetryAfterAndTheRequestLoopRetriesIt() {
        stub.enqueue(Fault.rateLimited(null, 120L));
        try (var t = teacher(KEY, null, null)) {
            RequestLoop loop = new RequestLoop(RateLimiter.unlimited(), Budget.unlimited(), new Backoff(3, 7L));
            var out = loop.run(2, 0, 0, () -> t.embed(List.of("hello world"), null), new RequestLoop.Hooks() {
                @Override public boolean stopped() { return false; }

                @Override public void budgetReached() {}

                @Override public boolean fatal(TeacherException e) { return RequestLoop.stopsEverything(e, false); }
            });
            assertThat(out).isInstanceOfSatisfying(RequestLoop.Outcome.Done.class,
                    d -> assertThat(d.attempts()).isEqualTo(2));
            assertThat(stub.requestCount()).isGreaterThanOrEqualTo(2);
        }
    }

    @Test void aPastedEmbeddingsUrlIsTheSameRoot() {
        assertThat(BaseUrls.openAi(URI.create("http://h:1/v1/embeddings"), "embeddings"))
                .isEqualTo(URI.create("http://h:1/v1/embeddings"));
        assertThat(BaseUrls.openAi(URI.create("http://h:1"), "embeddings")).isEqualTo(URI.create("http://h:1/v1/embeddings"));
    }

    @Test void base64RoundTripsExactlyAndRejectsRaggedBytes() {
        float[] v = {0.1f, -2.5e-8f, Float.MIN_VALUE, 3.4e38f};
        assertThat(OpenAiEmbeddingTeacher.decodeBase64(OpenAiEmbeddingTeacher.encodeBase64(v), "x")).containsExactly(v);
        // little-endian: 1.0f is 00 00 80 3f
        assertThat(OpenAiEmbeddingTeacher.decodeBase64("AACAPw==", "x")).containsExactly(1.0f);
        assertThatThrownBy(() -> OpenAiEmbeddingTeacher.decodeBase64("AACA", "data[0].embedding"))
                .hasMessageContaining("not a whole number of float32");
    }
}
