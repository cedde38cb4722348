package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Prompt;
import java.net.URI;
import java.util.Map;

/**
 * What the remote teachers share: their config, one {@link HttpTransport}, and the request/answer cycle. A subclass
 * says how a prompt becomes a body and how a 200 body becomes an answer.
 */
public abstract sealed class HttpTeacher implements Teacher
        permits OpenAiChatTeacher, OpenAiCompletionsTeacher, AnthropicTeacher {
    protected final TeacherConfig config;
    protected final TeacherSampling sampling;
    private final URI url;
    private final String baseUrl;
    private final HttpTransport transport;

    protected HttpTeacher(TeacherConfig config, URI url, String baseUrl, Map<String, String> providerHeaders) {
        this.config = config;
        this.sampling = config.sampling();
        this.url = url;
        this.baseUrl = baseUrl;
        this.transport = new HttpTransport(config, providerHeaders);
    }

    /**
     * Builds the request body for sample {@code sampleIndex} of a prompt; throws {@link IllegalArgumentException}
     * for a prompt this endpoint cannot take.
     */
    protected abstract ObjectNode body(Prompt prompt, int sampleIndex);

    protected abstract HttpTransport.Answer parse(JsonNode body);

    /**
     * Throws {@link IllegalArgumentException} with a message for the user when this teacher cannot answer the
     * prompt at all (e.g. a chat prompt on a raw-text completions endpoint). The harvester may call it up front;
     * {@link #complete} calls it too.
     */
    @Override
    public void validate(Prompt prompt) {
        body(prompt, 0);
    }

    @Override
    public TeacherResponse complete(TeacherRequest request) throws TeacherException {
        ObjectNode body;
        try {
            body = body(request.prompt(), request.sampleIndex());
        } catch (IllegalArgumentException e) {
            throw new TeacherException(TeacherException.Kind.BAD_REQUEST, 0, e.getMessage(), null, null, null, null, e);
        }
        return transport.post(url, body, request.key(), this::parse);
    }

    /** The endpoint URL requests go to. */
    public URI url() { return url; }

    @Override public String provider() { return config.provider(); }

    @Override public String model() { return config.model(); }

    @Override public String baseUrl() { return baseUrl; }

    @Override public String endpoint() { return config.endpoint(); }

    @Override public TeacherSampling sampling() { return sampling; }

    @Override public void close() { transport.close(); }

    @Override public String toString() {
        return getClass().getSimpleName() + "[" + config.model() + " at " + url + ", " + capability() + "]";
    }
}
