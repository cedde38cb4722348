package dev.distill4j.teacher;

import static dev.distill4j.teacher.Fixtures.openAi;
import static dev.distill4j.teacher.Fixtures.sampling;
import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.Prompt;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import dev.distill4j.teacher.stub.RecordedRequest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StubServerTest {
    static TeacherRequest request(int i) {
        return new TeacherRequest(new Prompt("p" + i, "prompt number " + i, null, null, "x", i), 0, "key-" + i);
    }

    @Test void manyConcurrentRequestsAreAllAnsweredAndRecorded() throws Exception {
        try (OpenAiStub stub = OpenAiStub.start();
             Teacher t = Teachers.create(openAi(stub.baseUrl(), "chat", "k", sampling(16, 5)))) {
            int n = 1500;
            var ok = new AtomicInteger();
            try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < n; i++) {
                    int id = i;
                    exec.submit(() -> {
                        TeacherResponse r = t.complete(request(id));
                        if (r.text().startsWith("prompt number " + id) && r.tokens().size() == 8) ok.incrementAndGet();
                        return null;
                    });
                }
            }
            assertThat(ok.get()).isEqualTo(n);
            assertThat(stub.requestCount()).isEqualTo(n);
            assertThat(stub.answeredCount()).isEqualTo(n);
            Set<String> ids = ConcurrentHashMap.newKeySet();
            for (RecordedRequest r : stub.requests()) ids.add(r.clientRequestId());
            assertThat(ids).hasSize(n).contains("key-0", "key-" + (n - 1));
        }
    }

    @Test void countingOnlyModeKeepsNoRecords() throws Exception {
        try (OpenAiStub stub = OpenAiStub.start().recording(false);
             Teacher t = Teachers.create(openAi(stub.baseUrl(), "chat", "k", sampling(16, 0)))) {
            for (int i = 0; i < 5; i++) t.complete(request(i));
            assertThat(stub.requestCount()).isEqualTo(5);
            assertThat(stub.requests()).isEmpty();
        }
    }

    @Test void faultsCanBeChosenPerRequestAndQueuedFaultsComeFirst() throws Exception {
        try (OpenAiStub stub = OpenAiStub.start();
             Teacher t = Teachers.create(openAi(stub.baseUrl(), "chat", "k", sampling(16, 0)))) {
            stub.onRequest(r -> "key-2".equals(r.clientRequestId()) ? Fault.status(503) : null);
            stub.enqueue(Fault.rateLimited(1));
            assertThat(kindOf(t, 1)).isEqualTo(TeacherException.Kind.RATE_LIMITED);   // queue first
            assertThat(kindOf(t, 1)).isNull();
            assertThat(kindOf(t, 2)).isEqualTo(TeacherException.Kind.SERVER);
            assertThat(kindOf(t, 3)).isNull();
            assertThat(stub.faultCount()).isEqualTo(2);
            assertThat(stub.answeredCount()).isEqualTo(2);
        }
    }

    @Test void headersCanBeOverridden() throws Exception {
        try (OpenAiStub stub = OpenAiStub.start().header("x-ratelimit-remaining-requests", "0")
                .header("x-ratelimit-reset-requests", "1m2s");
             Teacher t = Teachers.create(openAi(stub.baseUrl(), "chat", "k", sampling(16, 0)))) {
            RateLimitInfo info = t.complete(request(1)).rateLimits();
            assertThat(info.remainingRequests()).isZero();
            assertThat(info.resetRequests()).hasSeconds(62);
        }
    }

    @Test void listsModels() throws Exception {
        try (OpenAiStub stub = OpenAiStub.start().models("a", "b"); HttpClient c = HttpClient.newHttpClient()) {
            var r = c.send(HttpRequest.newBuilder(URI.create(stub.baseUrl() + "/models")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"object\":\"list\"").contains("\"id\":\"a\"").contains("\"id\":\"b\"");
        }
    }

    @Test void runsStandaloneInAnotherProcess() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                OpenAiStub.class.getName(), "--port", "0", "--latency-ms", "1", "--top-logprobs-default", "3")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            var out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            int port = Integer.parseInt(out.readLine().trim());
            try (Teacher t = Teachers.create(openAi("http://127.0.0.1:" + port, "chat", null, sampling(16, 3)))) {
                TeacherResponse r = t.complete(request(7));
                assertThat(r.text()).startsWith("prompt number 7");
                assertThat(r.tokens().maxAlternatives()).isEqualTo(3);
            }
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static TeacherException.Kind kindOf(Teacher t, int i) {
        try {
            t.complete(request(i));
            return null;
        } catch (TeacherException e) {
            return e.kind();
        }
    }
}
