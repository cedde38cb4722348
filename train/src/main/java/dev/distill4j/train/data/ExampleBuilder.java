package dev.distill4j.train.data;

import dev.distill4j.core.Capability;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.ChatTemplateException;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a run's done samples into {@link TrainingExample}s for a student: each prompt is rendered with the
 * STUDENT's chat template with the teacher's text as the assistant turn, tokenized with the student's tokenizer,
 * masked so that only the reply is learned, cut to the maximum length, aligned with the teacher's top-k
 * distributions where it gave them, and put on the training or held-out side by prompt id. See
 * docs/training-data.md.
 *
 * <p>What is learned (labels not {@link TrainingExample#IGNORE}): the completion the student would have to
 * generate after the prompt, i.e. what the template puts after the generation prompt up to and including the
 * first special token at or after the end of the reply (the end-of-turn token, {@code <|im_end|>},
 * {@code <|eot_id|>}, {@code </s>}), as TRL's assistant-only loss does; markup after it (ChatML's trailing newline)
 * is not learned, because generation stops at the end-of-turn token. Raw-text prompts (base students without a
 * chat template) learn the reply and an EOS token.
 */
public final class ExampleBuilder {
    private static final Logger LOG = LoggerFactory.getLogger(ExampleBuilder.class);
    /** How a prompt becomes the student's input. */
    public enum PromptFormat {
        /** The chat template when the student has one, else raw text. */
        AUTO,
        /** Always the chat template (raw-text prompts become one user turn). */
        CHAT,
        /** Prompt text followed directly by the reply, for base models; chat prompts are refused. */
        RAW
    }

    /** What happens to an example longer than the maximum sequence length. */
    public enum Overflow {
        /** Keep its first maxSeqLen tokens (dropped when that leaves no reply token). */
        TRUNCATE,
        /** Leave it out. */
        DROP
    }

    /** How student ids are found for the reply. */
    public enum TokenSource {
        /** The student's own tokenization of the reply; top-k mapped onto it by bytes ({@link TokenAligner}). */
        STUDENT,
        /**
         * The teacher's chosen tokens, looked up by bytes in the student's vocabulary: for a teacher with the
         * student's tokenizer, so the student learns the exact token sequence the teacher sampled. A sample whose
         * tokens do not all map falls back to STUDENT.
         */
        TEACHER
    }

    private final TextTokenizer tokenizer;
    private final ChatTemplate template;
    private final Map<String, Object> templateExtras;
    private final int maxSeqLen;
    private final Overflow overflow;
    private final PromptFormat format;
    private final TokenSource tokenSource;
    private final int eosId;
    private final EvalSplit split;
    private final TokenAligner aligner;

    private ExampleBuilder(Builder b) {
        this.tokenizer = Objects.requireNonNull(b.tokenizer, "setTokenizer is required");
        this.template = b.template;
        this.templateExtras = Map.copyOf(b.templateExtras);
        this.maxSeqLen = b.maxSeqLen;
        this.overflow = b.overflow;
        this.format = b.format == PromptFormat.AUTO ? (template != null ? PromptFormat.CHAT : PromptFormat.RAW) : b.format;
        this.tokenSource = b.tokenSource;
        this.eosId = b.eosId != null ? b.eosId
                : tokenizer instanceof HfTokenizer h ? h.idOf(h.specialTokens().eosToken()) : -1;
        this.split = new EvalSplit(b.evalFraction);
        this.aligner = new TokenAligner(tokenizer);
        if (format == PromptFormat.CHAT && template == null) {
            throw new InvalidInputException("the student has no chat template: add chat_template.jinja to its "
                    + "folder, or train on raw text (--prompt-format raw) if it is a base model");
        }
    }

    public static Builder builder() { return new Builder(); }

    public PromptFormat promptFormat() { return format; }

    /**
     * Builds the examples of every done sample of the run, in prompt order.
     *
     * @throws IllegalArgumentException when the run has no done samples, or the student's template cannot render
     *                                  a prompt
     */
    public ExampleSet examples(RunStore store) {
        long done = store.count(SampleStatus.DONE);
        if (done == 0) {
            throw new InvalidInputException("run " + store.runDir() + " has no done samples to train on ("
                    + store.count(SampleStatus.PENDING) + " pending, " + store.count(SampleStatus.FAILED)
                    + " failed): run `distill harvest` for it first");
        }
        List<TrainingExample> all = new ArrayList<>();
        long[] counts = new long[3]; // samples, truncated, dropped
        AlignmentStats[] alignment = {AlignmentStats.NONE};
        store.forEachSample(SampleStatus.DONE, (prompt, sample) -> {
            if (sample.text() == null) return;
            counts[0]++;
            Built b = example(prompt, sample);
            alignment[0] = alignment[0].plus(b.alignment());
            TrainingExample e = fit(b.example());
            if (e == null) counts[2]++;
            else {
                if (e.length() < b.example().length()) counts[1]++;
                all.add(e);
            }
        });
        if (all.isEmpty()) {
            throw new InvalidInputException("every one of the run's " + counts[0] + " done samples is longer than "
                    + "--max-seq-len " + maxSeqLen + " (or its prompt alone fills it): raise --max-seq-len");
        }
        Set<String> promptIds = new LinkedHashSet<>();
        for (TrainingExample e : all) promptIds.add(e.promptId());
        Set<String> held = split.heldOut(promptIds);
        List<TrainingExample> train = new ArrayList<>();
        List<TrainingExample> eval = new ArrayList<>();
        long trained = 0;
        for (TrainingExample e : all) {
            (held.contains(e.promptId()) ? eval : train).add(e);
            trained += e.trainedTokens();
        }
        var report = new ExampleSet.Report(counts[0], all.size(), counts[1], counts[2],
                promptIds.size() - held.size(), held.size(), trained, alignment[0]);
        LOG.info("training data: {}", report);
        return new ExampleSet(train, eval, report);
    }

    /** One sample's example before the length limit, and its share of the alignment figures. */
    record Built(TrainingExample example, AlignmentStats alignment) {}

    /** Renders, tokenizes, masks and aligns one sample (no length limit applied). */
    Built example(Prompt prompt, Sample sample) {
        String reply = sample.text();
        int[] promptIds;
        String completion;       // the text after the prompt that the completion tokens spell
        int contentStart;        // the reply's rendered form, as char offsets into completion
        int contentEnd;
        int[] completionIds;
        if (format == PromptFormat.CHAT) {
            ChatTemplate.AssistantSpan span;
            try {
                span = template.renderWithAssistantSpan(toMaps(prompt), reply, templateExtras);
            } catch (ChatTemplateException e) {
                throw new InvalidInputException("the student's chat template cannot express prompt '" + prompt.id()
                        + "' (" + e.getMessage() + "): pick a student whose template accepts these messages (e.g. "
                        + "one with a system role), or rewrite the prompts (fold the system message into the first "
                        + "user turn) and harvest again", e);
            }
            promptIds = tokenizer.encode(span.prompt(), false);
            completion = span.completion();
            contentStart = span.contentStart() - span.promptEnd();
            contentEnd = span.contentEnd() - span.promptEnd();
            completionIds = aligner.encodeContinuation(completion);
        } else {
            if (prompt.isChat()) {
                throw new InvalidInputException("prompt '" + prompt.id() + "' is a chat, but the student is trained "
                        + "on raw text (it has no chat template): give the student a chat template "
                        + "(chat_template.jinja) or harvest raw-text prompts ({\"prompt\": \"...\"})");
            }
            promptIds = tokenizer.encode(prompt.text(), true);
            completion = reply;
            contentStart = 0;
            contentEnd = reply.length();
            int[] r = aligner.encodeContinuation(reply);
            completionIds = eosId >= 0 ? append(r, eosId) : r;
        }
        byte[] text = completion.getBytes(StandardCharsets.UTF_8);
        int replyStart = utf8Length(completion, 0, contentStart);
        int replyEnd = replyStart + utf8Length(completion, contentStart, contentEnd);
        // a template may trim the reply (Llama 3): the teacher's bytes start before the rendered content
        int trimmed = reply.indexOf(completion.substring(contentStart, contentEnd));
        int teacherStart = replyStart - utf8Length(reply, 0, Math.max(trimmed, 0));

        List<TokenPosition> positions = sample.tokens().positions();
        boolean topK = sample.capability() instanceof Capability.TopK && !positions.isEmpty();
        boolean spelled = topK && Arrays.equals(teacherBytes(positions), reply.getBytes(StandardCharsets.UTF_8));
        TokenAligner.Spans spans = aligner.spans(completionIds, text);
        if (spelled && tokenSource == TokenSource.TEACHER) {
            int[] spliced = spliceTeacherTokens(completionIds, spans, positions, teacherStart, replyStart, replyEnd);
            if (spliced != null) {
                completionIds = spliced;
                spans = aligner.spans(completionIds, text);
            }
        }
        int trainedEnd = trainedEnd(completionIds, spans, replyEnd);
        int n = promptIds.length + completionIds.length;
        int[] ids = Arrays.copyOf(promptIds, n);
        System.arraycopy(completionIds, 0, ids, promptIds.length, completionIds.length);
        int[] labels = new int[n];
        Arrays.fill(labels, TrainingExample.IGNORE);
        for (int i = 0; i < trainedEnd; i++) labels[promptIds.length + i] = completionIds[i];

        KdTargets kd = null;
        AlignmentStats stats = AlignmentStats.NONE;
        if (topK) {
            TokenAligner.Result r = spelled
                    ? aligner.align(positions, teacherStart, replyStart, replyEnd, spans, 0, trainedEnd,
                            promptIds.length)
                    : null;
            int response = r != null ? r.responsePositions() : countResponse(spans, trainedEnd, replyStart, replyEnd);
            kd = r == null ? null : r.targets();
            stats = new AlignmentStats(1, r != null && r.identical() ? 1 : 0, spelled ? 0 : 1, response,
                    kd == null ? 0 : kd.presentCount());
        }
        return new Built(new TrainingExample(prompt.id(), sample.key(), ids, labels, sample.capability(), kd), stats);
    }

    /** The example within maxSeqLen, or null when it is dropped. */
    TrainingExample fit(TrainingExample e) {
        if (e.length() <= maxSeqLen) return e;
        if (overflow == Overflow.DROP) return null;
        int[] labels = Arrays.copyOf(e.labels(), maxSeqLen);
        boolean anyTrained = false;
        for (int l : labels) anyTrained |= l != TrainingExample.IGNORE;
        if (!anyTrained) return null;
        KdTargets kd = e.kd() == null ? null : e.kd().truncate(maxSeqLen);
        if (kd != null && kd.presentCount() == 0) kd = null;
        return new TrainingExample(e.promptId(), e.sampleKey(), Arrays.copyOf(e.inputIds(), maxSeqLen), labels,
                e.capability(), kd);
    }

    /**
     * Completion tokens up to and including the first special token that ends at or after the reply's end (the
     * end-of-turn token); all of them when none does, or when the tokens could not be placed in the text.
     */
    private int trainedEnd(int[] ids, TokenAligner.Spans spans, int replyEnd) {
        for (int i = 0; i < ids.length; i++) {
            if (spans.start()[i] < 0) return ids.length;
            if (tokenizer.isSpecial(ids[i]) && spans.start()[i] >= replyEnd) return i + 1;
        }
        return ids.length;
    }

    /**
     * The completion's ids with the student tokens that spell the reply replaced by the teacher's chosen tokens,
     * or null when the reply is not a whole number of student tokens or a teacher token is not a student token.
     */
    private int[] spliceTeacherTokens(int[] ids, TokenAligner.Spans spans, List<TokenPosition> positions,
                                      int teacherStart, int replyStart, int replyEnd) {
        if (teacherStart != replyStart) return null;
        int first = -1;
        int last = -1;
        for (int i = 0; i < ids.length; i++) {
            int s = spans.start()[i];
            int e = spans.end()[i];
            if (s < 0) return null;
            if (e <= s || e <= replyStart || s >= replyEnd) continue;
            if (first < 0) {
                if (s != replyStart) return null;
                first = i;
            }
            last = i;
        }
        if (first < 0 || spans.end()[last] != replyEnd) return null;
        int[] teacher = new int[positions.size()];
        int m = 0;
        for (TokenPosition p : positions) {
            if (p.chosen().bytes().length == 0) continue;
            // the first token may carry the tokenizer's prefix space, as the student's own first token did
            int id = m == 0 && spans.phantomAt() == first ? aligner.studentIdAt(spans, first, p.chosen().bytes()) : -1;
            if (id < 0) id = aligner.studentId(p.chosen().bytes());
            if (id < 0) return null;
            teacher[m++] = id;
        }
        int[] out = new int[first + m + ids.length - last - 1];
        System.arraycopy(ids, 0, out, 0, first);
        System.arraycopy(teacher, 0, out, first, m);
        System.arraycopy(ids, last + 1, out, first + m, ids.length - last - 1);
        return out;
    }

    private static int countResponse(TokenAligner.Spans spans, int end, int replyStart, int replyEnd) {
        int n = 0;
        for (int i = 0; i < end; i++) {
            int s = spans.start()[i];
            int e = spans.end()[i];
            if (s >= 0 && e > s && e > replyStart && s < replyEnd) n++;
        }
        return n;
    }

    private static byte[] teacherBytes(List<TokenPosition> positions) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (TokenPosition p : positions) out.writeBytes(p.chosen().bytes());
        return out.toByteArray();
    }

    private static int utf8Length(String s, int from, int to) {
        return s.substring(from, to).getBytes(StandardCharsets.UTF_8).length;
    }

    private static int[] append(int[] a, int x) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = x;
        return out;
    }

    private static List<Map<String, Object>> toMaps(Prompt prompt) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (var m : prompt.chat()) out.add(Map.of("role", m.role(), "content", m.content()));
        return out;
    }

    /** DJL-style builder: {@code setX} required, {@code optX} optional. */
    public static final class Builder {
        private TextTokenizer tokenizer;
        private ChatTemplate template;
        private Map<String, Object> templateExtras = Map.of();
        private int maxSeqLen = 2048;
        private Overflow overflow = Overflow.TRUNCATE;
        private PromptFormat format = PromptFormat.AUTO;
        private TokenSource tokenSource = TokenSource.STUDENT;
        private Integer eosId;
        private double evalFraction = 0.05;

        private Builder() {}

        /** The student's tokenizer. */
        public Builder setTokenizer(TextTokenizer tokenizer) {
            this.tokenizer = tokenizer;
            return this;
        }

        /** The student's chat template; none for a base model. */
        public Builder optChatTemplate(ChatTemplate template) {
            this.template = template;
            return this;
        }

        /** Extra template variables (e.g. {@code enable_thinking=false}). */
        public Builder optTemplateExtras(Map<String, Object> extras) {
            this.templateExtras = extras;
            return this;
        }

        /** Longest example in tokens (default 2048). */
        public Builder optMaxSeqLen(int maxSeqLen) {
            if (maxSeqLen < 2) throw new InvalidInputException("--max-seq-len must be at least 2, got " + maxSeqLen);
            this.maxSeqLen = maxSeqLen;
            return this;
        }

        public Builder optOverflow(Overflow overflow) {
            this.overflow = Objects.requireNonNull(overflow);
            return this;
        }

        public Builder optPromptFormat(PromptFormat format) {
            this.format = Objects.requireNonNull(format);
            return this;
        }

        public Builder optTokenSource(TokenSource source) {
            this.tokenSource = Objects.requireNonNull(source);
            return this;
        }

        /** The token appended to raw-text replies (default: the tokenizer's eos_token; none when it has none). */
        public Builder optEosTokenId(int eosId) {
            this.eosId = eosId;
            return this;
        }

        /** Share of prompts held out for evaluation (default 0.05). */
        public Builder optEvalFraction(double fraction) {
            this.evalFraction = fraction;
            return this;
        }

        public ExampleBuilder build() { return new ExampleBuilder(this); }
    }
}
