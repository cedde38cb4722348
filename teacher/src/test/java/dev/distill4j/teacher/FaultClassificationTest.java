package dev.distill4j.teacher;

import static dev.distill4j.teacher.Fixtures.sampling;
import static dev.distill4j.teacher.Fixtures.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.teacher.TeacherException.Kind;
import dev.distill4j.teacher.stub.AnthropicStub;
import dev.distill4j.teacher.stub.Fault;
import dev.distill4j.teacher.stub.OpenAiStub;
import dev.distill4j.teacher.stub.StubServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Every fault kind, classified the same way by every client, since they share one transport. */
class FaultClassificationTest {
    abstract static class Contract {
        StubServer<?> stub;
        Teacher teacher;

        abstract StubServer<?> startStub();

        abstract TeacherConfig config(String baseUrl, Duration timeout);

        abstract String baseUrl();

        @BeforeEach void start() {
            stub = startStub();
            teacher = Teachers.create(config(baseUrl(), Duration.ofSeconds(10)));
        }

        @AfterEach void stop() {
            teacher.close();
            stub.close();
        }

        TeacherException fail(Fault f) {
            stub.enqueue(f);
            return failure(() -> teacher.complete(text("alpha beta")));
        }

        static TeacherException failure(ThrowingCallable call) {
            var captured = new TeacherException[1];
            assertThatThrownBy(call).isInstanceOfSatisfying(TeacherException.class, e -> captured[0] = e);
            return captured[0];
        }

        @Test void succeedsAndSendsTheClientRequestId() throws Exception {
            TeacherResponse r = teacher.complete(text("alpha beta"));
            assertThat(r.text()).startsWith("alpha beta");
            assertThat(r.requestId()).isNotBlank();
            assertThat(r.rateLimits().isEmpty()).isFalse();
            assertThat(stub.lastRequest().clientRequestId()).isEqualTo(text("alpha beta").key());
        }

        @Test void rateLimitedWithRetryAfterSeconds() {
            TeacherException e = fail(Fault.rateLimited(2));
            assertThat(e.kind()).isEqualTo(Kind.RATE_LIMITED);
            assertThat(e.kind().retryable()).isTrue();
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(2));
            assertThat(e.requestId()).isNotBlank();
            assertThat(e.getMessage()).contains("(429)").contains("retry after 2000 ms");
        }

        @Test void retryAfterMsWinsOverRetryAfter() {
            assertThat(fail(Fault.rateLimited(3, 250L)).retryAfter()).isEqualTo(Duration.ofMillis(250));
            assertThat(fail(Fault.rateLimitedMs(1500)).retryAfter()).isEqualTo(Duration.ofMillis(1500));
        }

        @Test void serverErrorsAreRetryableServerKind() {
            for (int status : new int[] {500, 502, 503, 408, 409}) {
                TeacherException e = fail(Fault.status(status));
                assertThat(e.kind()).as("status %d", status).isEqualTo(Kind.SERVER);
                assertThat(e.status()).isEqualTo(status);
                assertThat(e.bodyExcerpt()).contains("error");
                assertThat(e.retryAfter()).isNull();
            }
        }

        @Test void otherClientErrorsAreBadRequests() {
            for (int status : new int[] {400, 413, 422}) {
                TeacherException e = fail(Fault.status(status));
                assertThat(e.kind()).as("status %d", status).isEqualTo(Kind.BAD_REQUEST);
                assertThat(e.kind().retryable()).isFalse();
                assertThat(e.kind().fatal()).isFalse();
            }
        }

        @Test void forbiddenIsAuth() {
            assertThat(fail(Fault.status(403)).kind()).isEqualTo(Kind.AUTH);
        }

        @Test void slowAnswerIsATimeout() {
            try (Teacher quick = Teachers.create(config(baseUrl(), Duration.ofMillis(300)))) {
                stub.enqueue(Fault.slow(Duration.ofSeconds(3)));
                TeacherException e = failure(() -> quick.complete(text("alpha")));
                assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
                assertThat(e.getMessage()).contains("no answer from the teacher");
            }
        }

        @Test void aBodyThatTricklesInPastTheTimeoutIsATimeout() {
            try (Teacher quick = Teachers.create(config(baseUrl(), Duration.ofMillis(400)))) {
                stub.enqueue(Fault.slowBody(Duration.ofSeconds(3)));
                TeacherException e = failure(() -> quick.complete(text("alpha")));
                assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
            }
        }

        @Test void aBodyThatTricklesInWithinTheTimeoutIsFine() throws Exception {
            stub.enqueue(Fault.slowBody(Duration.ofMillis(100)));
            TeacherResponse r = teacher.complete(text("alpha"));
            assertThat(r.text()).startsWith("alpha");
            assertThat(r.latencyMs()).isGreaterThanOrEqualTo(100);
        }

        @Test void closingTheTeacherAbortsRequestsInFlight() throws Exception {
            Teacher t = Teachers.create(config(baseUrl(), Duration.ofSeconds(30)));
            stub.enqueue(Fault.slow(Duration.ofSeconds(20)));
            var failure = new java.util.concurrent.CompletableFuture<TeacherException>();
            Thread caller = Thread.ofVirtual().start(() -> {
                try {
                    t.complete(text("alpha"));
                    failure.complete(null);
                } catch (TeacherException e) {
                    failure.complete(e);
                }
            });
            while (stub.requestCount() == 0) Thread.sleep(10);
            t.close();
            TeacherException e = failure.get(10, java.util.concurrent.TimeUnit.SECONDS);
            caller.join();
            assertThat(e).isNotNull();
            assertThat(e.kind()).isEqualTo(Kind.CONNECTION);
        }

        @Test void truncatedBodyIsAConnectionFailureAfterABilledAnswer() {
            TeacherException e = fail(Fault.truncatedBody());
            assertThat(e.kind()).isEqualTo(Kind.CONNECTION);
            assertThat(e.kind().retryable()).isTrue();
            assertThat(e.status()).as("the status line came before the body broke").isEqualTo(200);
            assertThat(e.getMessage()).contains("while its 200 answer was arriving");
            assertThat(e.billing()).isEqualTo(TeacherException.Billing.WORST_CASE);
        }

        @Test void connectionResetIsAConnectionFailure() {
            assertThat(fail(Fault.connectionReset()).kind()).isEqualTo(Kind.CONNECTION);
        }

        @Test void cutOffJsonIsAnUnreadableBilledAnswerAndRetried() {
            TeacherException e = fail(Fault.malformedJson());
            assertThat(e.kind()).isEqualTo(Kind.UNREADABLE_RESPONSE);
            assertThat(e.kind().retryable()).as("cut short once is not cut short next time").isTrue();
            assertThat(e.status()).isEqualTo(200);
            assertThat(e.bodyExcerpt()).startsWith("{");
            assertThat(e.getMessage()).contains("not valid JSON").contains(e.bodyExcerpt());
            assertThat(e.billing()).as("the answer was generated, so billed; its usage is lost")
                    .isEqualTo(TeacherException.Billing.WORST_CASE);
        }

        @Test void aBodyThatIsNoJsonObjectIsUnreadable() {
            TeacherException e = fail(Fault.raw(200, "<html><body>502 Bad Gateway</body></html>"));
            assertThat(e.kind()).isEqualTo(Kind.UNREADABLE_RESPONSE);
            assertThat(fail(Fault.raw(200, "[1, 2]")).kind()).isEqualTo(Kind.UNREADABLE_RESPONSE);
        }

        @Test void missingFieldsAreMalformedAndFinal() {
            TeacherException e = fail(Fault.missingFields());
            assertThat(e.kind()).isEqualTo(Kind.MALFORMED_RESPONSE);
            assertThat(e.kind().retryable()).as("the same server answers the same shape again").isFalse();
            assertThat(e.getMessage()).contains("lacks");
            assertThat(e.billing()).isEqualTo(TeacherException.Billing.WORST_CASE);
        }

        @Test void aMalformedAnswerWithReadableUsageIsBilledAtIt() {
            TeacherException e = fail(Fault.raw(200, usageOnlyBody()));
            assertThat(e.kind()).isEqualTo(Kind.MALFORMED_RESPONSE);
            assertThat(e.billing()).isEqualTo(TeacherException.Billing.USAGE);
            assertThat(e.billedUsage().promptTokens()).isEqualTo(12);
            assertThat(e.billedUsage().completionTokens()).isEqualTo(34);
        }

        /** A 200 in the provider's dialect that has its usage but not the answer. */
        abstract String usageOnlyBody();

        @Test void errorStatusesAndUnsentRequestsCostNothing() {
            assertThat(fail(Fault.status(500)).billing()).isEqualTo(TeacherException.Billing.NONE);
            assertThat(fail(Fault.status(400)).billing()).isEqualTo(TeacherException.Billing.NONE);
            assertThat(fail(Fault.rateLimited(1)).billing()).isEqualTo(TeacherException.Billing.NONE);
        }

        @Test void nonJsonErrorBodiesAreQuotedShort() {
            TeacherException e = fail(Fault.raw(502, "<html>" + "x".repeat(2000) + "</html>"));
            assertThat(e.kind()).isEqualTo(Kind.SERVER);
            assertThat(e.bodyExcerpt()).startsWith("<html>").hasSizeLessThanOrEqualTo(501);
            assertThat(e.getMessage()).contains("<html>");
        }

        @Test void rateLimitHeadersAreParsed() throws Exception {
            TeacherResponse r = teacher.complete(text("alpha"));
            assertThat(r.rateLimits().limitRequests()).isPositive();
            assertThat(r.rateLimits().remainingRequests()).isPositive();
            assertThat(r.rateLimits().remainingTokens()).isPositive();
            assertThat(r.rateLimits().resetRequests()).isNotNull();
        }

        @Test void closedPortIsUnreachable() throws IOException {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            try (Teacher t = Teachers.create(config("http://127.0.0.1:" + port, Duration.ofSeconds(5)))) {
                TeacherException e = failure(() -> t.complete(text("alpha")));
                assertThat(e.kind()).isEqualTo(Kind.UNREACHABLE);
                assertThat(e.billing()).as("nothing was sent").isEqualTo(TeacherException.Billing.NONE);
                assertThat(e.getMessage()).contains("cannot reach the teacher at http://127.0.0.1:" + port)
                        .contains("--base-url");
            }
        }

        @Test void unknownHostIsUnreachable() {
            try (Teacher t = Teachers.create(config("http://no-such-host.invalid:8000", Duration.ofSeconds(5)))) {
                assertThat(failure(() -> t.complete(text("alpha"))).kind()).isEqualTo(Kind.UNREACHABLE);
            }
        }
    }

    @Nested class OpenAiChat extends Contract {
        @Override StubServer<?> startStub() { return OpenAiStub.start(); }

        @Override String baseUrl() { return ((OpenAiStub) stub).baseUrl(); }

        @Override TeacherConfig config(String baseUrl, Duration timeout) {
            return Fixtures.openAi(baseUrl, "chat", "k", sampling(16, 3)).withRequestTimeout(timeout);
        }

        @Override String usageOnlyBody() {
            return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[],"
                    + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}}";
        }
    }

    @Nested class OpenAiCompletions extends Contract {
        @Override StubServer<?> startStub() { return OpenAiStub.start(); }

        @Override String baseUrl() { return ((OpenAiStub) stub).rootUri().toString(); }

        @Override TeacherConfig config(String baseUrl, Duration timeout) {
            return Fixtures.openAi(baseUrl, "completions", "k", sampling(16, 3)).withRequestTimeout(timeout);
        }

        @Override String usageOnlyBody() {
            return "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"index\":0}],"
                    + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}}";
        }
    }

    @Nested class Anthropic extends Contract {
        @Override StubServer<?> startStub() { return AnthropicStub.start(); }

        @Override String baseUrl() { return ((AnthropicStub) stub).baseUrl(); }

        @Override TeacherConfig config(String baseUrl, Duration timeout) {
            return Fixtures.anthropic(baseUrl, "k", sampling(16, 0)).withRequestTimeout(timeout);
        }

        @Override String usageOnlyBody() {
            return "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":"
                    + "\"text\"}],\"usage\":{\"input_tokens\":2,\"cache_read_input_tokens\":10,"
                    + "\"output_tokens\":34}}";
        }

        @Test void overloadedIsServer() {
            TeacherException e = fail(Fault.status(529));
            assertThat(e.kind()).isEqualTo(Kind.SERVER);
            assertThat(e.getMessage()).contains("(529)").contains("overloaded_error");
        }
    }

}
