package dev.distill4j.guard.audit;

import dev.distill4j.core.Prompt;
import dev.distill4j.guard.detect.TupleSet;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.model.tokenizer.TextTokenizer;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.OpenAiChatTeacher;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.RequestLoop;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.teacher.TeacherRequest;
import dev.distill4j.teacher.TeacherResponse;
import dev.distill4j.teacher.TeacherSampling;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The closed-model radioactivity audit (Sander et al. 2024, closed-model setting): the suspect is only an
 * OpenAI-compatible chat API. It is prompted with the kind of prompts the watermarked texts answered, its answers
 * are tokenized with the provider's tokenizer, and a token y_t of an answer is scored with the key against the
 * answer's own window only when
 * <ul>
 *   <li>the window occurs in the watermarked texts (the filter φ; as a PRF seed, {@link Watermark#seedTuple}):
 *       a model can only have learned the watermark's preferences after windows it was trained on, so the others
 *       add noise and no signal ({@link Filter#NOT_IN_DATA});</li>
 *   <li>its (window, token) tuple was not scored before, in this answer or any other (the tape,
 *       {@link Filter#DUPLICATE}): answers repeat phrases, and a repeated tuple is not a new draw.</li>
 * </ul>
 * Under H0 (the suspect never saw the watermark) its answers do not depend on the key: its prompts are the user's,
 * not watermarked text, so every scored tuple is a fresh null draw and the pooled p-value is exact. The first h
 * tokens of an answer are not scored: their windows reach into the suspect's chat template, which the audit does
 * not know.
 *
 * <p>Requests go through the teacher module's OpenAI chat client and {@link RequestLoop}: {@code concurrency} in
 * flight, retries with jittered exponential backoff on 429 / 5xx / timeouts (a Retry-After is respected), and a stop
 * at the first error that would fail every request (unknown host or refused connection before any answer, a
 * rejected API key, an unknown model).
 */
public final class ClosedAudit {
    private final Watermark watermark;
    private final TextTokenizer tokenizer;
    private final Teacher suspect;
    private final int concurrency;
    private final Backoff backoff;
    private final AtomicLong requests = new AtomicLong();   // attempts sent, retries included

    /**
     * @param tokenizer the provider's tokenizer (the key's), used on the suspect's answers
     * @param suspect   the suspect's chat API; closed by the caller
     */
    public ClosedAudit(Watermark watermark, TextTokenizer tokenizer, Teacher suspect, int concurrency,
                       Backoff backoff) {
        watermark.key().requireTokenizer(tokenizer, "the --tokenizer folder");
        if (concurrency < 1) throw new IllegalArgumentException("concurrency must be >= 1, got " + concurrency);
        this.watermark = watermark;
        this.tokenizer = tokenizer;
        this.suspect = suspect;
        this.concurrency = concurrency;
        this.backoff = backoff;
    }

    /**
     * The suspect's OpenAI-compatible chat completions endpoint.
     *
     * @param baseUrl   e.g. {@code http://host:8000/v1}
     * @param apiKeyEnv the variable holding the key (null: {@code OPENAI_API_KEY}); unset is fine for local servers
     * @param env       where to read it ({@link System#getenv()})
     */
    public static Teacher client(URI baseUrl, String model, String apiKeyEnv, Map<String, String> env,
                                 TeacherSampling sampling, Duration requestTimeout) {
        TeacherConfig c = new TeacherConfig(TeacherConfig.OPENAI, TeacherConfig.CHAT, baseUrl, model, apiKeyEnv, null,
                sampling, requestTimeout, null);
        return new OpenAiChatTeacher(c.withApiKeyFrom(env));
    }

    /**
     * Prompts the suspect {@code samplesPerPrompt} times per prompt (sample j sends the sampling seed + j) and scores
     * its answers.
     *
     * @param watermarked the provider's watermarked texts: they define φ
     * @throws IOException when the suspect cannot be asked at all (unreachable, bad key, unknown model) or every
     *                     request failed; the message says which and why
     */
    public AuditReport run(List<AuditText> watermarked, List<Prompt> prompts, int samplesPerPrompt,
                           AuditProgress progress) throws IOException {
        if (prompts.isEmpty()) throw new IllegalArgumentException("no prompts to send");
        if (samplesPerPrompt < 1) throw new IllegalArgumentException("samples per prompt must be >= 1");
        int h = watermark.contextWidth();
        TupleSet phi = new TupleSet();
        for (AuditText text : watermarked) {
            int[] ids = tokenizer.encode(text.text(), false);
            for (int t = h; t < ids.length; t++) phi.add(watermark.seedTuple(ids, t, ids[t]));
        }

        List<String> answers = ask(prompts, samplesPerPrompt, progress);

        Tally tally = new Tally(watermark);
        long answerTokens = 0;
        for (String answer : answers) {
            if (answer == null) continue;
            int[] ids = tokenizer.encode(answer, false);
            answerTokens += ids.length;
            tally.filtered(Filter.START, Math.min(h, ids.length));
            for (int t = h; t < ids.length; t++) {
                tally.position();
                if (!phi.contains(watermark.seedTuple(ids, t, ids[t]))) tally.filtered(Filter.NOT_IN_DATA);
                else tally.score(ids, t, ids[t]);
            }
        }
        Map<String, Long> extra = new LinkedHashMap<>();
        extra.put("prompts", (long) prompts.size());
        extra.put("requests", requests.get());
        extra.put("answers", answers.stream().filter(a -> a != null).count());
        extra.put("failed_requests", answers.stream().filter(a -> a == null).count());
        extra.put("answer_tokens", answerTokens);
        extra.put("windows_in_watermarked_data", (long) phi.size());
        return AuditReport.of(AuditReport.Mode.CLOSED, watermark, suspect.model() + " at " + suspect.baseUrl(),
                watermarked.size(), tally, extra);
    }

    /** Every answer in prompt order (null where the request failed for good). */
    private List<String> ask(List<Prompt> prompts, int samples, AuditProgress progress) throws IOException {
        int total = prompts.size() * samples;
        String[] answers = new String[total];
        RequestLoop loop = new RequestLoop(RateLimiter.unlimited(), Budget.unlimited(), backoff);
        AtomicBoolean succeeded = new AtomicBoolean();
        AtomicReference<TeacherException> fatal = new AtomicReference<>();
        AtomicReference<TeacherException> lastFailure = new AtomicReference<>();
        AtomicInteger done = new AtomicInteger();
        Semaphore slots = new Semaphore(concurrency);
        progress.update("prompting the suspect", 0, total);
        RequestLoop.Hooks hooks = new RequestLoop.Hooks() {
            @Override public boolean stopped() { return fatal.get() != null; }

            @Override public void budgetReached() {}

            @Override public boolean fatal(TeacherException e) {
                if (!RequestLoop.stopsEverything(e, succeeded.get())) return false;
                fatal.compareAndSet(null, e);
                return true;
            }
        };
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < total; i++) {
                int index = i;
                Prompt prompt = prompts.get(i / samples);
                int sample = i % samples;
                try {
                    slots.acquire();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while prompting the suspect");
                }
                if (fatal.get() != null) {
                    slots.release();
                    break;
                }
                pool.submit(() -> {
                    try {
                        var outcome = loop.run(suspect.size(new TeacherRequest(prompt, sample, null)), 0, () -> {
                            requests.incrementAndGet();
                            return suspect.complete(new TeacherRequest(prompt, sample,
                                    "audit-" + prompt.id() + "#" + sample));
                        }, hooks);
                        switch (outcome) {
                            case RequestLoop.Outcome.Done<TeacherResponse> d -> {
                                succeeded.set(true);
                                answers[index] = d.response().text();
                            }
                            case RequestLoop.Outcome.Failed<TeacherResponse> f -> lastFailure.set(f.last());
                            case RequestLoop.Outcome.Abandoned<TeacherResponse> a -> { }
                        }
                    } finally {
                        slots.release();
                        progress.update("prompting the suspect", done.incrementAndGet(), total);
                    }
                });
            }
        }
        if (fatal.get() != null) throw new IOException(describe(fatal.get()), fatal.get());
        if (!succeeded.get()) {
            TeacherException last = lastFailure.get();
            throw new IOException("every request to the suspect failed"
                    + (last == null ? "" : "; the last: " + describe(last)), last);
        }
        return java.util.Arrays.asList(answers);
    }

    /** The transport's message speaks of "the teacher"; here the API is the suspect's. */
    static String describe(TeacherException e) {
        return e.getMessage().replace("the teacher", "the suspect").replace("--base-url", "--suspect URL");
    }
}
