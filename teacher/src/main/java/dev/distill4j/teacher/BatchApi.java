package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Usage;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * A provider's batch endpoint: many requests submitted at once, answered within a completion window (24 h) at half
 * the online price (OpenAI's Batch API, Anthropic's Message Batches API). {@link BatchHarvester} drives it; an
 * implementation only speaks the wire format. Every call is one HTTP exchange through the teacher's
 * {@link HttpTransport}, so its failures are classified as for online requests ({@link TeacherException.Kind}).
 *
 * <p>A batch is built as one file of requests: {@link #prefix()}, then each {@link #line} separated by
 * {@link #separator()}, then {@link #suffix()}. The file's size and request count are held to {@link #maxBytes()}
 * and {@link #maxRequests()}, the provider's limits.
 */
public sealed interface BatchApi extends AutoCloseable permits OpenAiBatchApi, AnthropicBatchApi {
    /**
     * Where a batch stands at the provider, in the provider's words and in ours.
     *
     * @param createdAt when the provider made the batch (its {@code created_at}), or null when it did not say
     */
    record Status(String providerId, String status, boolean ended, Counts counts, String outputFileId,
                  String errorFileId, String resultsUrl, String errors, String json, Instant createdAt) {}

    /**
     * Requests of a batch by outcome so far. OpenAI reports total/completed/failed (expired requests count as
     * failed until the error file says which); Anthropic processing/succeeded/errored/canceled/expired.
     */
    record Counts(long total, long succeeded, long failed, long expired, long canceled, long processing) {
        public long finished() { return succeeded + failed + expired + canceled; }
    }

    /** The result of one request of a batch, matched to its sample by {@code customId}. */
    sealed interface Item {
        String customId();
    }

    /** Answered: the answer as an online request would have given it, and the provider's id for it. */
    record Answered(String customId, HttpTransport.Answer answer, String requestId) implements Item {}

    /**
     * Not answered: {@code error} classifies it as an online error would be (a retryable kind is asked again in a
     * later batch; a final one fails the sample); {@code billed} is what the provider billed for it (usually
     * nothing; a malformed answer whose usage can be read is billed at it; null for an answer billed but unreadable,
     * counted at its worst case).
     */
    record Failed(String customId, TeacherException error, Usage billed) implements Item {}

    /** Not run: the batch expired or was cancelled first. Never billed; asked again in a later batch. */
    record NotRun(String customId, String why) implements Item {}

    /** The provider's name ({@code openai}, {@code anthropic}). */
    String provider();

    /** Most requests in one batch. */
    int maxRequests();

    /** Most bytes of one batch's request file (or body). */
    long maxBytes();

    /** Bytes before the first line of a batch file. */
    byte[] prefix();

    /** Bytes between two lines. */
    byte[] separator();

    /** Bytes after the last line. */
    byte[] suffix();

    /** One request of a batch as it goes into the batch file: the online request {@code body} under {@code customId}. */
    byte[] line(String customId, ObjectNode body);

    /**
     * Submits the batch file (built from {@link #prefix()}, lines, {@link #suffix()}) and returns its status.
     *
     * @param localId our id for the batch, attached to it where the provider keeps metadata so {@link #candidates}
     *                can find a submission whose answer was lost
     */
    Submitted submit(String localId, Path file, int requests) throws TeacherException;

    /** A submitted batch: the provider's id, the uploaded input file's id (OpenAI), and its first status. */
    record Submitted(String providerId, String inputFileId, Status status) {}

    /** The batch's status now. */
    Status poll(String providerId) throws TeacherException;

    /** Streams the results of an ended batch, one {@link Item} per request the provider reports. */
    void results(Status ended, Consumer<Item> sink) throws TeacherException;

    /**
     * The batches the provider holds that may be the one submitted under {@code localId}, whose create call's answer
     * was lost (a timeout, a broken connection, a kill before the store's commit): empty when none may be.
     * {@link BatchHarvester} adopts a single candidate, and tells several apart by their results.
     *
     * <p>OpenAI keeps our id in the batch's {@code metadata}: at most one candidate, and it is ours. Anthropic keeps
     * no metadata on a batch: the candidates are those created in a window around {@code submittedAt} with
     * {@code requests} requests ({@link AnthropicBatchApi#CANDIDATE_WINDOW_BEFORE},
     * {@link AnthropicBatchApi#CANDIDATE_WINDOW_AFTER}), which another client's batch may match too.
     *
     * @param submittedAt when we stored the batch, just before its first create call
     * @param requests    the requests in it
     */
    List<Status> candidates(String localId, Instant submittedAt, int requests) throws TeacherException;

    /** How {@link #candidates} tells our batch, in the words of a note for the user. */
    String candidatesMatchedBy();

    @Override
    void close();

    /** The batch API for a teacher: OpenAI's chat or completions endpoint, or Anthropic's Messages. */
    static BatchApi of(Teacher teacher, TeacherConfig config) {
        return switch (teacher) {
            case AnthropicTeacher a -> new AnthropicBatchApi(a, config);
            case OpenAiChatTeacher c -> new OpenAiBatchApi(c, config, "/v1/chat/completions");
            case OpenAiCompletionsTeacher c -> new OpenAiBatchApi(c, config, "/v1/completions");
            default -> throw new dev.distill4j.core.InvalidInputException("--batch needs a provider with a batch API"
                    + " (openai, anthropic); " + teacher.provider() + " answers online only: drop --batch");
        };
    }

    /** One line of a results file that names its request. */
    @FunctionalInterface
    interface ResultLine {
        void accept(String customId, com.fasterxml.jackson.databind.JsonNode line, long lineNumber);
    }

    /**
     * Reads a JSONL results file (both providers' shape: one object per line with a {@code custom_id}), line by line.
     * A blank line, a line that is not JSON or one without a {@code custom_id} names no request and is skipped: the
     * requests it held are reported missing and asked again, and the rest of the file is still read.
     */
    static void forEachResultLine(byte[] content, ResultLine sink) {
        try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
                new java.io.ByteArrayInputStream(content), java.nio.charset.StandardCharsets.UTF_8))) {
            String text;
            long n = 0;
            while ((text = r.readLine()) != null) {
                n++;
                if (text.isBlank()) continue;
                com.fasterxml.jackson.databind.JsonNode line;
                try {
                    line = dev.distill4j.core.Json.MAPPER.readTree(text);
                } catch (java.io.IOException e) {
                    continue;
                }
                String customId = line.path("custom_id").asText(null);
                if (customId != null) sink.accept(customId, line, n);
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("reading a byte array cannot fail", e);
        }
    }
}
