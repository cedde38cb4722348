package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.teacher.stub.OpenAiStub;
import dev.distill4j.teacher.stub.RecordedRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenAI's batch list ({@code GET /v1/batches}) as the stub serves it (newest first, {@code limit} 1–100 with
 * OpenAI's 400s, {@code after} cursors, {@code has_more}, {@code first_id}/{@code last_id}), and
 * {@link OpenAiBatchApi#candidates} over it: our batch is found by its metadata however many batches the organisation
 * made after it, and the walk stops at batches older than our submission.
 */
class OpenAiBatchListTest {
    private static final String KEY = "sk-list";

    @TempDir Path tmp;

    private static TeacherConfig config(OpenAiStub stub) {
        return Fixtures.openAi(stub.baseUrl(), "chat", KEY, Fixtures.sampling(16, 0));
    }

    /** Submits a one-request batch under {@code localId}; returns the provider's id. */
    private String submit(OpenAiBatchApi api, String localId) throws Exception {
        Path file = tmp.resolve(localId + ".jsonl");
        var body = Json.object().put("model", "gpt-4o-mini");
        body.putArray("messages").addObject().put("role", "user").put("content", "hi " + localId);
        Files.write(file, api.line("c-" + localId, body));
        return api.submit(localId, file, 1).providerId();
    }

    private static JsonNode list(OpenAiStub stub, String query) throws Exception {
        return Json.parse(get(stub, query).body());
    }

    private static HttpResponse<String> get(OpenAiStub stub, String query) throws Exception {
        try (HttpClient c = HttpClient.newHttpClient()) {
            return c.send(HttpRequest.newBuilder(URI.create(stub.baseUrl() + "/batches" + (query.isEmpty() ? "" : "?"
                    + query))).header("Authorization", "Bearer " + KEY).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    private static List<String> ids(JsonNode page) {
        List<String> out = new ArrayList<>();
        for (JsonNode b : page.get("data")) out.add(b.get("id").asText());
        return out;
    }

    private static List<RecordedRequest> lists(OpenAiStub stub) {
        return stub.requests().stream().filter(q -> q.method().equals("GET") && q.path().equals("/v1/batches")).toList();
    }

    @Test
    void theListPagesNewestFirstWithAfterCursors() throws Exception {
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY);
             Teacher t = Teachers.create(config(stub));
             OpenAiBatchApi api = (OpenAiBatchApi) BatchApi.of(t, config(stub))) {
            JsonNode empty = list(stub, "");
            assertThat(empty.get("object").asText()).isEqualTo("list");
            assertThat(empty.get("data")).isEmpty();
            assertThat(empty.get("has_more").asBoolean()).isFalse();
            String[] id = new String[3];
            for (int i = 0; i < 3; i++) id[i] = submit(api, "b" + i);
            assertThat(ids(list(stub, ""))).containsExactly(id[2], id[1], id[0]);
            JsonNode p1 = list(stub, "limit=2");
            assertThat(ids(p1)).containsExactly(id[2], id[1]);
            assertThat(p1.get("has_more").asBoolean()).isTrue();
            assertThat(p1.get("first_id").asText()).isEqualTo(id[2]);
            assertThat(p1.get("last_id").asText()).isEqualTo(id[1]);
            JsonNode p2 = list(stub, "limit=2&after=" + id[1]);
            assertThat(ids(p2)).containsExactly(id[0]);
            assertThat(p2.get("has_more").asBoolean()).isFalse();
            assertThat(p2.get("data").get(0).get("metadata").get(OpenAiBatchApi.METADATA_KEY).asText()).isEqualTo("b0");
            for (String bad : List.of("limit=0", "limit=101", "limit=ten")) {
                HttpResponse<String> r = get(stub, bad);
                assertThat(r.statusCode()).as(bad).isEqualTo(400);
                assertThat(Json.parse(r.body()).get("error").get("type").asText()).isEqualTo("invalid_request_error");
            }
            assertThat(Json.parse(get(stub, "limit=101").body()).get("error").get("code").asText())
                    .isEqualTo("integer_above_max_value");
        }
    }

    @Test
    void ourBatchIsFoundBehindManyNewerOnesAndTheWalkStopsAtOlderOnes() throws Exception {
        try (OpenAiStub stub = OpenAiStub.start().requireApiKey(KEY);
             Teacher t = Teachers.create(config(stub));
             OpenAiBatchApi api = ((OpenAiBatchApi) BatchApi.of(t, config(stub))).listPage(2)) {
            String ours = submit(api, "ours");
            // 25 batches made after ours: it is on the 13th page of 2, beyond the 10 pages the look-up used to read
            for (int i = 0; i < 25; i++) submit(api, "other" + i);
            Instant now = Instant.now();

            stub.resetRecords();
            List<BatchApi.Status> found = api.candidates("ours", now.minus(Duration.ofMinutes(1)), 1);
            assertThat(found).extracting(BatchApi.Status::providerId).containsExactly(ours);
            List<RecordedRequest> pages = lists(stub);
            assertThat(pages).hasSize(13);
            assertThat(pages.getFirst().queryParams()).isEqualTo(Map.of("limit", "2"));
            assertThat(pages.get(1).queryParams()).containsEntry("limit", "2").containsKey("after");
            assertThat(pages.getFirst().header("Authorization")).isEqualTo("Bearer " + KEY);

            // not there at all: the whole list is walked, and nothing is a candidate
            stub.resetRecords();
            assertThat(api.candidates("never", now.minus(Duration.ofMinutes(1)), 1)).isEmpty();
            assertThat(lists(stub)).hasSize(13);

            // submitted 3 minutes from now: every listed batch is older than the window, so one page is enough
            stub.resetRecords();
            assertThat(api.candidates("never", now.plus(Duration.ofMinutes(3)), 1)).isEmpty();
            assertThat(lists(stub)).hasSize(1);
        }
    }
}
