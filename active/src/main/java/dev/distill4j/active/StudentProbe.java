package dev.distill4j.active;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.core.Prompt;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.train.data.ExampleBuilder.PromptFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The student looking at pool prompts: its greedy answer to each, how unsure it was of every token
 * ({@link Uncertainty}), optionally several sampled answers (disagreement), and a prompt embedding for the diversity
 * step; and, once the teacher has answered, how far the student is from that answer ({@link #divergence}).
 *
 * <p>Prompts are encoded as training renders them (the chat template with its generation prompt when the student
 * has one, else raw text with the tokenizer's specials), so the student is probed on exactly the input it learns to
 * continue ({@link LocalModel#encodePrompt(Prompt)}, as eval encodes them).
 */
public final class StudentProbe implements AutoCloseable {
    /** Alternatives per generated token that the uncertainty scores see. */
    static final int TOP_N = 20;
    private static final int BATCH = 32;

    private final LocalModel model;
    private final int maxNewTokens;
    private final int samples;
    private final long seed;

    /**
     * @param maxNewTokens tokens of each probe answer at most
     * @param samples      sampled answers (temperature 1) per prompt for disagreement; 0 or 1 = none
     */
    public StudentProbe(Path studentDir, int maxNewTokens, int samples, long seed) throws IOException {
        this.model = LocalModel.load(studentDir);
        this.maxNewTokens = maxNewTokens;
        this.samples = samples;
        this.seed = seed;
    }

    /** Scores every prompt, calling {@code progress} with the number done. */
    public List<Candidate> score(List<Prompt> prompts, IntConsumer progress) {
        List<Candidate> out = new ArrayList<>(prompts.size());
        for (int from = 0; from < prompts.size(); from += BATCH) {
            List<Prompt> batch = prompts.subList(from, Math.min(prompts.size(), from + BATCH));
            List<int[]> ids = batch.stream().map(this::encode).toList();
            List<Generation> greedy = model.generator().generate(ids, params(0, 0));
            List<List<String>> sampled = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) sampled.add(new ArrayList<>());
            for (int k = 0; samples >= 2 && k < samples; k++) {
                // each sequence's generator is seeded by the params' seed: one call per sample keeps them apart
                List<Generation> g = model.generator().generate(ids, params(1.0, seed + 1 + k));
                for (int i = 0; i < batch.size(); i++) sampled.get(i).add(g.get(i).text());
            }
            float[][] embeddings = embeddings(ids);
            for (int i = 0; i < batch.size(); i++) {
                Uncertainty.Scores s = Uncertainty.of(greedy.get(i).distribution());
                double dis = samples >= 2 ? Uncertainty.disagreement(sampled.get(i)) : Double.NaN;
                out.add(new Candidate(batch.get(i).id(), s.entropy(), s.margin(), s.leastConfidence(), dis,
                        embeddings[i]));
            }
            progress.accept(out.size());
        }
        return out;
    }

    /**
     * The student's mean cross-entropy on the teacher's answer, {@code −(1/T) Σ_t log p(y_t | prompt, y_<t)} over
     * the answer's T tokens in the student's tokenizer (so it works across tokenizers); NaN for an empty answer.
     */
    public double divergence(Prompt prompt, String teacherAnswer) {
        Likelihood l = likelihood(prompt, teacherAnswer);
        return l.tokens() == 0 ? Double.NaN : l.nats() / l.tokens();
    }

    /**
     * How surprised the student is by an answer: {@code nats} = −log p(answer | prompt) over its {@code tokens};
     * {@code whole} is false when the context cut the answer short (the nats then cover a prefix).
     */
    public record Likelihood(double nats, int tokens, boolean whole) {}

    /**
     * −log p_student(answer | prompt), summed over the answer's tokens in the student's tokenizer; the answer is cut
     * where the context ends. A sequence's probability does not depend on how it is cut into tokens, so this can be
     * set against the teacher's own log-probability of the same text.
     */
    public Likelihood likelihood(Prompt prompt, String answerText) {
        int[] answer = model.tokenizer().encode(answerText, false);
        if (answer.length == 0) return new Likelihood(0, 0, true);
        int[] p = encode(prompt);
        int room = model.contextLength() - p.length;
        if (room <= 0) return new Likelihood(0, 0, false);
        boolean whole = answer.length <= room;
        if (!whole) answer = java.util.Arrays.copyOf(answer, room);
        return new Likelihood(-model.scorer().score(p, answer, 0).total(), answer.length, whole);
    }

    /** Each prompt's embedding alone (no answer generated): what {@link ScoreKind#GAIN} needs of the pool. */
    public List<float[]> embed(List<Prompt> prompts, IntConsumer progress) {
        List<float[]> out = new ArrayList<>(prompts.size());
        for (int from = 0; from < prompts.size(); from += BATCH) {
            List<Prompt> batch = prompts.subList(from, Math.min(prompts.size(), from + BATCH));
            out.addAll(List.of(embeddings(batch.stream().map(this::encode).toList())));
            progress.accept(out.size());
        }
        return out;
    }

    private SamplingParams params(double temperature, long s) {
        return new SamplingParams(maxNewTokens, temperature, 0, 1.0, s, model.eosTokenIds(), List.of(), TOP_N);
    }

    /** The prompt as training renders it (see the class comment), cut to leave room for the answer. */
    int[] encode(Prompt prompt) {
        int[] ids = model.encodePrompt(prompt);
        int keep = Math.max(1, model.contextLength() - maxNewTokens);
        return ids.length <= keep ? ids : java.util.Arrays.copyOfRange(ids, ids.length - keep, ids.length);
    }

    /**
     * The student's final-normed hidden state averaged over each prompt's tokens, one forward pass for the batch. The
     * prompts are right-padded: attention is causal, so a real token never sees the padding after it, and only the
     * real positions are averaged.
     */
    private float[][] embeddings(List<int[]> ids) {
        int b = ids.size();
        int t = ids.stream().mapToInt(a -> a.length).max().orElse(1);
        int[] flat = new int[b * t];
        for (int i = 0; i < b; i++) System.arraycopy(ids.get(i), 0, flat, i * t, ids.get(i).length);
        float[] h;
        int d;
        try (NDManager m = model.model().manager().newSubManager()) {
            NDArray hidden = model.model().forwardHidden(m.create(flat, new Shape(b, t)), null);   // [B, T, D]
            d = (int) hidden.getShape().get(2);
            h = hidden.toFloatArray();
        }
        float[][] out = new float[b][d];
        for (int i = 0; i < b; i++) {
            int len = ids.get(i).length;
            for (int p = 0; p < len; p++) {
                int at = (i * t + p) * d;
                for (int k = 0; k < d; k++) out[i][k] += h[at + k] / len;
            }
        }
        return out;
    }

    /** The prompt format the probe used, for the round log. */
    public PromptFormat format() { return model.hasChatTemplate() ? PromptFormat.CHAT : PromptFormat.RAW; }

    @Override
    public void close() { model.close(); }
}
