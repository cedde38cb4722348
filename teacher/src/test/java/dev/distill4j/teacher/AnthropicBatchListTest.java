package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.teacher.stub.AnthropicStub;
import dev.distill4j.teacher.stub.RecordedRequest;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Anthropic's Message Batches list ({@code GET /v1/messages/batches}) as the stub serves it (newest first,
 * {@code limit}, {@code after_id}/{@code before_id} pages, {@code has_more}, {@code first_id}/{@code last_id}, 400s for
 * bad parameters), and {@link AnthropicBatchApi#candidates} over it: the creation-time window and the request count
 * that stand in for the metadata a Message Batch does not have.
 */
class AnthropicBatchListTest {
    private static final String KEY = "sk-list";

    private static TeacherConfig config(AnthropicStub stub) {
        return Fixtures.anthropic(stub.baseUrl(), KEY, Fixtures.sampling(16, 0));
    }

    @Test
    void theListPagesNewestFirstWithCursorsInBothDirections() throws Exception {
        try (AnthropicStub stub = AnthropicStub.start().requireApiKey(KEY);
             OtherAnthropicClient client = new OtherAnthropicClient(stub, KEY)) {
            JsonNode empty = Json.parse(client.list("").body());
            assertThat(empty.get("data")).isEmpty();
            assertThat(empty.get("has_more").asBoolean()).isFalse();
            assertThat(empty.get("first_id").isNull()).isTrue();
            assertThat(empty.get("last_id").isNull()).isTrue();

            String[] id = new String[5];
            for (int i = 0; i < 5; i++) id[i] = client.create(i + 1, "b" + i);

            JsonNode all = Json.parse(client.list("").body()); // default limit 20
            assertThat(OtherAnthropicClient.ids(all)).containsExactly(id[4], id[3], id[2], id[1], id[0]);
            assertThat(all.get("has_more").asBoolean()).isFalse();
            JsonNode b = all.get("data").get(0);
            assertThat(b.get("type").asText()).isEqualTo("message_batch");
            assertThat(b.get("request_counts").get("processing").asInt()).isEqualTo(5);
            assertThat(Instant.parse(b.get("created_at").asText())).isBeforeOrEqualTo(Instant.now());

            JsonNode p1 = Json.parse(client.list("limit=2").body());
            assertThat(OtherAnthropicClient.ids(p1)).containsExactly(id[4], id[3]);
            assertThat(p1.get("has_more").asBoolean()).isTrue();
            assertThat(p1.get("first_id").asText()).isEqualTo(id[4]);
            assertThat(p1.get("last_id").asText()).isEqualTo(id[3]);
            JsonNode p2 = Json.parse(client.list("limit=2&after_id=" + p1.get("last_id").asText()).body());
            assertThat(OtherAnthropicClient.ids(p2)).containsExactly(id[2], id[1]);
            assertThat(p2.get("has_more").asBoolean()).isTrue();
            JsonNode p3 = Json.parse(client.list("limit=2&after_id=" + p2.get("last_id").asText()).body());
            assertThat(OtherAnthropicClient.ids(p3)).containsExactly(id[0]);
            assertThat(p3.get("has_more").asBoolean()).isFalse();
            // back again: the page just before the first of page 3, and before that
            JsonNode back = Json.parse(client.list("limit=2&before_id=" + p3.get("first_id").asText()).body());
            assertThat(OtherAnthropicClient.ids(back)).containsExactly(id[2], id[1]);
            assertThat(back.get("has_more").asBoolean()).isTrue();
            JsonNode top = Json.parse(client.list("limit=2&before_id=" + id[3]).body());
            assertThat(OtherAnthropicClient.ids(top)).containsExactly(id[4]);
            assertThat(top.get("has_more").asBoolean()).isFalse();

            for (String bad : List.of("limit=0", "limit=1001", "limit=ten",
                    "after_id=" + id[1] + "&before_id=" + id[3])) {
                HttpResponse<String> r = client.list(bad);
                assertThat(r.statusCode()).as(bad).isEqualTo(400);
                assertThat(Json.parse(r.body()).get("error").get("type").asText()).isEqualTo("invalid_request_error");
            }
            assertThat(client.list("after_id=msgbatch_nope").statusCode()).isEqualTo(404);
            assertThat(Json.parse(client.list("limit=1000").body()).get("data")).hasSize(5);
        }
    }

    @Test
    void candidatesAreTheBatchesOfOurSizeMadeInTheWindowAroundOurSubmission() throws Exception {
        try (AnthropicStub stub = AnthropicStub.start().requireApiKey(KEY);
             OtherAnthropicClient client = new OtherAnthropicClient(stub, KEY);
             Teacher t = Teachers.create(config(stub));
             AnthropicBatchApi api = ((AnthropicBatchApi) BatchApi.of(t, config(stub))).listPage(2)) {
            String a = client.create(3, "a");
            client.create(2, "b");
            String c = client.create(3, "c");
            for (int i = 0; i < 4; i++) client.create(4, "d" + i);
            Instant now = Instant.now();

            // made just now: inside the window of a submission a minute ago (+15 min) or a minute ahead (−2 min)
            assertThat(api.candidates("x", now.minus(Duration.ofMinutes(1)), 3))
                    .extracting(BatchApi.Status::providerId).containsExactly(c, a);
            assertThat(api.candidates("x", now.plus(Duration.ofMinutes(1)), 3)).hasSize(2);
            assertThat(api.candidates("x", now.minus(Duration.ofMinutes(14)), 2)).hasSize(1);
            assertThat(api.candidates("x", now, 5)).isEmpty();
            // outside it: made 16 minutes after, or 3 minutes before our submission
            assertThat(api.candidates("x", now.minus(Duration.ofMinutes(16)), 3)).isEmpty();
            stub.resetRecords();
            assertThat(api.candidates("x", now.plus(Duration.ofMinutes(3)), 3)).isEmpty();
            // newest first: the first page is already older than the window, so no further page is asked for
            List<RecordedRequest> lists = stub.requests().stream()
                    .filter(q -> q.method().equals("GET") && q.path().equals("/v1/messages/batches")).toList();
            assertThat(lists).hasSize(1);
            assertThat(lists.getFirst().queryParams()).isEqualTo(Map.of("limit", "2"));

            // a full walk pages with after_id = the last id, and the API's headers
            stub.resetRecords();
            api.candidates("x", now.minus(Duration.ofMinutes(1)), 3);
            List<RecordedRequest> pages = stub.requests().stream()
                    .filter(q -> q.method().equals("GET") && q.path().equals("/v1/messages/batches")).toList();
            assertThat(pages).hasSize(4); // 7 batches, 2 a page
            assertThat(pages.get(1).queryParams()).containsEntry("limit", "2").containsKey("after_id");
            assertThat(pages.getFirst().header("x-api-key")).isEqualTo(KEY);
            assertThat(pages.getFirst().header("anthropic-version")).isEqualTo(AnthropicTeacher.API_VERSION);
        }
    }
}
