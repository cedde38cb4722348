package dev.distill4j.model.local;

import dev.distill4j.core.Capability;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.teacher.RateLimitInfo;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.teacher.TeacherRequest;
import dev.distill4j.teacher.TeacherResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A local model as a {@link Teacher}: a {@code TOP_K(k)} teacher when the sampling parameters ask for
 * {@code topLogprobs = k > 0} (every generated token with its k most likely alternatives, logprobs of the raw
 * distribution as OpenAI reports them), a {@code TEXT} teacher otherwise.
 *
 * <p>Prompts: with endpoint {@value #COMPLETIONS} a raw-text prompt is generated from as is and a chat prompt
 * through the model's chat template; with {@value #CHAT} every prompt goes through the template, raw text as one
 * user turn, as chat APIs take it. The system prompt of the sampling parameters opens every templated chat.
 *
 * <p>Thread-safe: the harvester calls from many virtual threads, and calls take turns on the model (one forward
 * at a time uses every core anyway). Each generation scopes its tensors in its own NDManager.
 */
public final class LocalTeacher implements Teacher {
    public static final String PROVIDER = "local";
    public static final String CHAT = "chat";
    public static final String COMPLETIONS = "completions";

    private final LocalModel model;
    private final TeacherSampling sampling;
    private final String endpoint;
    private final ReentrantLock modelLock = new ReentrantLock();
    private final ReentrantLock tokenizerLock = new ReentrantLock();

    /** Takes ownership of {@code model}: closing the teacher closes it. */
    public LocalTeacher(LocalModel model, TeacherSampling sampling, String endpoint) {
        if (!CHAT.equals(endpoint) && !COMPLETIONS.equals(endpoint)) {
            throw new InvalidInputException("a local teacher's endpoint is chat or completions, not '" + endpoint + "'");
        }
        if (sampling.topLogprobs() > model.config().vocabSize()) {
            throw new InvalidInputException("top logprobs " + sampling.topLogprobs() + " exceeds the model's "
                    + "vocabulary of " + model.config().vocabSize());
        }
        this.model = model;
        this.sampling = sampling;
        this.endpoint = endpoint;
    }

    /** Loads the model folder {@code dir}. */
    public static LocalTeacher open(Path dir, TeacherSampling sampling, String endpoint) throws IOException {
        LocalModel m = LocalModel.load(dir);
        try {
            return new LocalTeacher(m, sampling, endpoint);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    @Override public String provider() { return PROVIDER; }

    @Override public String model() { return model.name(); }

    @Override public String baseUrl() { return null; }

    @Override public String endpoint() { return endpoint; }

    @Override public TeacherSampling sampling() { return sampling; }

    @Override
    public Capability capability() {
        return sampling.topLogprobs() > 0 ? Capability.topK(sampling.topLogprobs()) : Capability.TEXT;
    }

    @Override
    public void validate(Prompt prompt) {
        boolean templated = usesTemplate(prompt);
        if (templated && !model.hasChatTemplate()) {
            throw new InvalidInputException(model.dir() + " has no chat template (a base model?), so it cannot take "
                    + (prompt.isChat() ? "chat prompts" : "prompts on the chat endpoint")
                    + ": give raw-text prompts {\"prompt\": \"...\"} with the completions endpoint");
        }
        if (!templated && sampling.system() != null) {
            throw new InvalidInputException("a system prompt needs a chat: raw-text prompts on the completions "
                    + "endpoint are generated from as they are; drop the system prompt or use the chat endpoint");
        }
    }

    private boolean usesTemplate(Prompt p) {
        return p.isChat() || endpoint.equals(CHAT);
    }

    @Override
    public long estimatePromptTokens(TeacherRequest request) {
        try {
            return encode(request.prompt()).length;
        } catch (RuntimeException e) {
            return Teacher.super.estimatePromptTokens(request);
        }
    }

    private int[] encode(Prompt p) {
        tokenizerLock.lock();
        try {
            if (!usesTemplate(p)) return model.encodeText(p.text());
            List<Message> chat = new ArrayList<>();
            if (sampling.system() != null) chat.add(Message.system(sampling.system()));
            chat.addAll(p.chat());
            return model.encodeChat(chat);
        } finally {
            tokenizerLock.unlock();
        }
    }

    @Override
    public TeacherResponse complete(TeacherRequest request) throws TeacherException {
        long start = System.nanoTime();
        Generation g;
        try {
            validate(request.prompt());
            int[] ids = encode(request.prompt());
            // seed + sample index, so several samples of one prompt differ and a resumed harvest samples the same
            long seed = (sampling.seed() == null ? 0 : sampling.seed()) + request.sampleIndex();
            var params = model.sampling(new LocalModel.SamplingRequest(sampling.maxTokens(), sampling.temperature(),
                    sampling.topP(), null, seed, sampling.stop(), sampling.topLogprobs(), false));
            modelLock.lock();
            try {
                g = model.generate(ids, params);
            } finally {
                modelLock.unlock();
            }
        } catch (RuntimeException e) {
            throw new TeacherException(TeacherException.Kind.BAD_REQUEST, 0, "local model " + model.name() + ": "
                    + e.getMessage(), null, null, null, RateLimitInfo.NONE, e);
        }
        TokenDistribution tokens = sampling.topLogprobs() > 0 ? alignedToText(g) : TokenDistribution.EMPTY;
        return new TeacherResponse(g.text(), g.finishReason().openAiName(), tokens, g.usage(), null,
                (System.nanoTime() - start) / 1_000_000, RateLimitInfo.NONE);
    }

    /**
     * The positions that produced the text. Generation keeps the tokens that completed a stop string, whose bytes
     * the text no longer has; positions starting past the text are dropped (an EOS, which has no bytes and starts
     * where the text ends, is kept: a student should learn to stop). The chosen tokens' bytes then concatenate to
     * the text's UTF-8, except for a stop string that began inside the last kept token.
     */
    static TokenDistribution alignedToText(Generation g) {
        int textBytes = g.text().getBytes(StandardCharsets.UTF_8).length;
        List<TokenPosition> kept = new ArrayList<>();
        int offset = 0;
        for (TokenPosition p : g.distribution().positions()) {
            int n = p.chosen().bytes().length;
            if (offset > textBytes || (offset == textBytes && n > 0)) break;
            kept.add(p);
            offset += n;
        }
        return new TokenDistribution(kept);
    }

    @Override
    public void close() {
        modelLock.lock();
        try {
            model.close();
        } finally {
            modelLock.unlock();
        }
    }
}
