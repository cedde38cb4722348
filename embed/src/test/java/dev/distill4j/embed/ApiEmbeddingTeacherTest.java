package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import dev.distill4j.teacher.stub.RecordedRequest;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The /v1/embeddings teacher against the wire-format stub on loopback, with a real run store. */
class ApiEmbeddingTeacherTest {
    static final String KEY = "sk-embed-test-0001";
    static final int DIMS = 24;

    @TempDir Path tmp;
    OpenAiStub stub;

    @BeforeEach void start() {
        stub = OpenAiStub.start().requireApiKey(KEY).models("embed-small").embeddingDims(DIMS);
    }

    @AfterEach void stop() { stub.close(); }

    private ApiEmbeddingTeacher teacher(ApiEmbeddingTeacher.Options o) throws Exception {
        return ApiEmbeddingTeacher.open(URI.create(stub.baseUrl()), o, Map.of("EMBED_KEY", KEY));
    }

    private ApiEmbeddingTeacher teacher(int batch, int concurrency) throws Exception {
        return teacher(ApiEmbeddingTeacher.Options.of("embed-small").withApiKeyEnv("EMBED_KEY")
                .withRunDir(tmp.resolve("run")).withBatching(batch, concurrency));
    }

    private static List<String> sentences(int n) {
        return IntStream.range(0, n).mapToObj(i -> "sentence " + i + " about topic " + (i % 3)).toList();
    }

    /** Every text the stub was asked to embed, over all requests. */
    private List<String> requestedTexts() {
        List<String> texts = new ArrayList<>();
        for (RecordedRequest r : stub.requests()) r.json().get("input").forEach(t -> texts.add(t.asText()));
        return texts;
    }

    @Test
    void batchesComeBackInInputOrderAndEachDistinctTextIsAskedOnce() throws Exception {
        List<String> texts = new ArrayList<>(sentences(10));
        texts.add(texts.get(3));  // a duplicate
        try (ApiEmbeddingTeacher t = teacher(4, 3)) {
            float[][] v = t.embed(texts);
            assertThat(v).hasNumberOfRows(11);
            for (int i = 0; i < texts.size(); i++) {
                float[] expected = Vectors.normalize(OpenAiStub.embeddingOf(texts.get(i), DIMS, DIMS));
                assertThat(v[i]).containsExactly(expected);
            }
            assertThat(stub.requests()).hasSize(3);  // 10 distinct texts in batches of 4
            assertThat(requestedTexts()).hasSize(10).doesNotHaveDuplicates();
            assertThat(stub.lastRequest().json().get("encoding_format").asText()).isEqualTo("base64");
            assertThat(t.dimension()).isEqualTo(DIMS);
            assertThat(t.store().embeddingCount()).isEqualTo(10);
        }
    }

    @Test
    void aSecondRunAsksOnlyForMissingTexts() throws Exception {
        try (ApiEmbeddingTeacher t = teacher(8, 2)) {
            t.embed(sentences(20));
        }
        stub.resetRecords();
        List<String> more = new ArrayList<>(sentences(30));
        try (ApiEmbeddingTeacher t = teacher(8, 2)) {  // a new process would open the same run like this
            ApiEmbeddingTeacher.Harvest h = t.harvest(more, null);
            assertThat(h.alreadyStored()).isEqualTo(20);
            assertThat(h.fetched()).isEqualTo(10);
            assertThat(h.requests()).isEqualTo(2);
            assertThat(requestedTexts()).containsExactlyInAnyOrderElementsOf(more.subList(20, 30));
            stub.resetRecords();
            float[][] v = t.embed(more);
            assertThat(stub.requests()).isEmpty();
            assertThat(v[25]).containsExactly(Vectors.normalize(OpenAiStub.embeddingOf(more.get(25), DIMS, DIMS)));
        }
    }

    @Test
    void a429WithRetryAfterIsRetriedAndItsTokensAreCounted() throws Exception {
        stub.enqueue(Fault.rateLimitedMs(80));
        try (ApiEmbeddingTeacher t = teacher(16, 1)) {
            ApiEmbeddingTeacher.Harvest h = t.harvest(sentences(5), null);
            assertThat(h.requests()).isEqualTo(2);
            assertThat(h.retries()).isEqualTo(1);
            assertThat(h.fetched()).isEqualTo(5);
            long words = sentences(5).stream().mapToLong(OpenAiStub::embeddingTokens).sum();
            assertThat(h.promptTokens()).isEqualTo(words);
            assertThat(t.store().embeddingStats("openai", "embed-small", 0).promptTokens()).isEqualTo(words);
        }
    }

    @Test
    void aBadRequestSurfacesOpenAisMessage() throws Exception {
        var o = new ApiEmbeddingTeacher.Options("embed-small", "EMBED_KEY", tmp.resolve("run"), 8, 1, 0, 0, 4096, null,
                null, 3, 0, null);
        try (ApiEmbeddingTeacher t = teacher(o)) {
            assertThatThrownBy(() -> t.embed(List.of("hello")))
                    .isInstanceOf(ApiEmbeddingTeacher.EmbeddingApiException.class)
                    .hasMessageContaining("Invalid 'dimensions': integer above maximum value. Expected a value <= " + DIMS)
                    .hasMessageContaining("0 of 1 missing texts");
            assertThat(stub.requests()).hasSize(1);  // a 400 is not retried
        }
    }

    @Test
    void finishedBatchesAreKeptWhenALaterOneFailsAndARerunAsksOnlyForTheRest() throws Exception {
        List<String> texts = sentences(12);
        // the batch holding sentence 7 is refused; the others are answered
        stub.onRequest(r -> r.body().contains("sentence 7 ") ? Fault.status(400) : null);
        try (ApiEmbeddingTeacher t = teacher(4, 1)) {
            assertThatThrownBy(() -> t.embed(texts)).hasMessageContaining("(400)")
                    .hasMessageContaining("a rerun asks only for the other");
            assertThat(t.store().embeddingCount()).isEqualTo(4);  // batch 1 stored, batch 2 failed, batch 3 not sent
        }
        stub.clearFaults().resetRecords();
        try (ApiEmbeddingTeacher t = teacher(4, 1)) {
            t.embed(texts);
            assertThat(requestedTexts()).containsExactlyInAnyOrderElementsOf(texts.subList(4, 12));
        }
    }

    @Test
    void aWrongKeyStopsAtOnceAndNamesTheVariable() throws Exception {
        var o = ApiEmbeddingTeacher.Options.of("embed-small").withApiKeyEnv("EMBED_KEY").withRunDir(tmp.resolve("run"))
                .withBatching(2, 4);
        try (ApiEmbeddingTeacher t = ApiEmbeddingTeacher.open(URI.create(stub.baseUrl()), o,
                Map.of("EMBED_KEY", "sk-wrong-key-000"))) {
            assertThatThrownBy(() -> t.embed(sentences(20))).hasMessageContaining("$EMBED_KEY");
            assertThat(stub.requestCount()).isLessThanOrEqualTo(4);
        }
    }

    @Test
    void aStaticStudentDistilsThroughTheApiAndASecondDistillationIsFree() throws Exception {
        byte[] tokenizer = EmbeddingModels.tokenizerJson("bge-small-en-v1.5");
        var options = new StaticDistiller.Options(8, 300, StaticDistiller.Options.DEFAULT_SIF);
        StaticEmbeddingModel student;
        try (ApiEmbeddingTeacher t = teacher(128, 2)) {
            student = StaticDistiller.distill(t, tokenizer, options, null);
        }
        assertThat(student.dimension()).isEqualTo(8);
        assertThat(student.config().get("teacher").asText()).isEqualTo("embed-small");
        List<String> asked = requestedTexts();
        assertThat(asked).hasSizeBetween(250, 300).doesNotHaveDuplicates().doesNotContain("[CLS]", "[PAD]");
        float[] v = student.embed("hello!? (yes) &");
        double norm = 0;
        for (float x : v) norm += x * x;
        assertThat(norm).isCloseTo(1, within(1e-5));

        stub.resetRecords();
        try (ApiEmbeddingTeacher t = teacher(128, 2)) {
            StaticEmbeddingModel again = StaticDistiller.distill(t, tokenizer, options, null);
            assertThat(again.embed("hello!? (yes) &")).containsExactly(v);
        }
        assertThat(stub.requests()).isEmpty();
        student.close();
    }

    @Test
    void aBatchsTokensAreSharedOutWithoutLosingAny() {
        long[] s = ApiEmbeddingTeacher.shares(List.of("a", "a much longer text than the first", "mid size"), 17);
        assertThat(s[0] + s[1] + s[2]).isEqualTo(17);
        assertThat(s[1]).isGreaterThan(s[0]);
        assertThat(ApiEmbeddingTeacher.shares(List.of("x", "y"), 0)).containsExactly(0, 0);
    }

    @Test
    void aUrlSpecNeedsOptions() {
        assertThatThrownBy(() -> EmbeddingModels.teacher(stub.baseUrl())).hasMessageContaining("--teacher-model");
    }
}
