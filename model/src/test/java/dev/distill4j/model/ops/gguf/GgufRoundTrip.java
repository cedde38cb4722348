package dev.distill4j.model.ops.gguf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.model.ops.gguf.GgufExport.Quantization;
import dev.distill4j.model.testing.TinyModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * distill4j's side of a GGUF round trip through llama.cpp: a random test student per variant, its three exports, and
 * its greedy token ids and logits on fixed prompts. {@link GgufLlamaCppTest} holds them against the llama.cpp that
 * {@code de.kherud:llama} ships (called live); {@link GgufQwen3ReferenceTest} against a newer llama.cpp whose answers
 * {@code tools/gguf/llamacpp_reference.sh} recorded (Qwen3 postdates the binding's build).
 *
 * <p>Each student is random, 2 layers, hidden 64, 4 query / 2 kv heads (head_dim 16), intermediate 128, over the
 * 356-token test tokenizer, its LM head scaled up so its logits spread (no near-ties for quantization to flip, and
 * greedy output that is not one token repeated) — {@link TinyModels#wholeCharactersOnly}. Initialisation is
 * deterministic in the seed (Java's SplittableRandom), so the same variant gives the same bytes on every machine.
 */
final class GgufRoundTrip {
    static final int NEW_TOKENS = 32;
    static final List<String> TEXTS = List.of("Hello world, how can I help you with this question?",
            "The answer is 42, not 1234 or 7.5; it's 3 km.", "  spaces\tand\nnew lines\n\n and you",
            "café naïve — 日本語 🙂");

    /** What distill4j computes for one student: prompts, its greedy continuations and its logits along them. */
    record Ours(List<int[]> prompts, List<int[]> sequences, List<float[][]> logits, int[] stop) {
        int[] generated(int s) {
            return Arrays.copyOfRange(sequences.get(s), prompts.get(s).length, sequences.get(s).length);
        }

        int generatedTokens() {
            int n = 0;
            for (int s = 0; s < prompts.size(); s++) n += generated(s).length;
            return n;
        }

        int distinctGenerated() {
            Set<Integer> d = new HashSet<>();
            for (int s = 0; s < prompts.size(); s++) for (int id : generated(s)) d.add(id);
            return d.size();
        }
    }

    private GgufRoundTrip() {}

    /**
     * The student of a variant ({@code family[+option]}): llama's llama3 RoPE scaling (a rope_freqs tensor),
     * mistral's sliding window below the context (which caps context_length), linear RoPE scaling (metadata).
     * Tied embeddings only for plain llama (no output tensor): a tied head scaled up also scales the input
     * embeddings, and the layers then move the logits little; untied, every layer shapes the greedy path.
     */
    static Path student(Path root, String variant, long seed) throws IOException {
        String family = variant.split("\\+")[0];
        Path dir = root.resolve(variant.replace('+', '_') + "-" + seed);
        ModelInit.create(new ModelInit.Spec(family, 2, 64, 4, 2, 128, null, 10000, 256, variant.equals("llama"),
                family.equals("mistral") ? 96 : null, seed, DType.F32), TinyModels.tokenizerDir(), dir, false);
        TinyModels.wholeCharactersOnly(dir);
        if (variant.endsWith("llama3-rope")) {
            setRopeScaling(dir, "{\"rope_type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":1.0,"
                    + "\"high_freq_factor\":4.0,\"original_max_position_embeddings\":64}");
        } else if (variant.endsWith("linear-rope")) {
            setRopeScaling(dir, "{\"rope_type\":\"linear\",\"factor\":4.0}");
        }
        return dir;
    }

    /** The student exported at F32, F16 and Q8_0 beside its folder, in that order. */
    static Map<Quantization, GgufExport.Result> exportAll(Path dir) throws IOException {
        Map<Quantization, GgufExport.Result> out = new LinkedHashMap<>();
        for (Quantization q : List.of(Quantization.F32, Quantization.F16, Quantization.Q8_0)) {
            Path file = dir.resolveSibling(dir.getFileName() + "-" + q.name().toLowerCase() + ".gguf");
            out.put(q, GgufExport.export(dir, file, q, (d, t) -> { }));
        }
        return out;
    }

    /** Three plain texts and one ChatML chat, greedy for {@link #NEW_TOKENS} (or to the end of turn). */
    static Ours ours(LocalModel model) {
        List<int[]> prompts = new ArrayList<>();
        for (String t : TEXTS.subList(0, 3)) prompts.add(model.encodeText(t));
        prompts.add(model.encodeChat(List.of(Message.system("You are a helpful model."),
                Message.user("What is the answer?"))));
        int[] stop = model.eosTokenIds().stream().mapToInt(Integer::intValue).toArray();
        List<int[]> seqs = new ArrayList<>();
        List<float[][]> logits = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            for (int[] p : prompts) {
                int[] gen = model.generate(p, model.sampling(new LocalModel.SamplingRequest(NEW_TOKENS, 0.0, null,
                        null, null, null, 0, true))).tokenIds();
                int[] seq = concat(p, gen);
                seqs.add(seq);
                logits.add(logits(model, m, seq));
            }
        }
        return new Ours(prompts, seqs, logits, stop);
    }

    /** The texts whose tokenization both sides must agree on: {@link #TEXTS} and a rendered chat. */
    static List<String> tokenizationTexts(LocalModel model) {
        List<String> texts = new ArrayList<>(TEXTS);
        texts.add(model.renderChat(List.of(Message.user("hello"))));
        return texts;
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** The DJL model's logits at every position of {@code seq}, one row per position. */
    private static float[][] logits(LocalModel model, NDManager m, int[] seq) {
        try (NDManager s = m.newSubManager()) {
            NDArray out = model.model().forward(s.create(seq, new Shape(1, seq.length)), null, null);
            float[] flat = out.toFloatArray();
            int v = model.config().vocabSize();
            float[][] rows = new float[seq.length][];
            for (int i = 0; i < seq.length; i++) rows[i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
            return rows;
        }
    }

    private static void setRopeScaling(Path dir, String json) throws IOException {
        ObjectNode cfg = (ObjectNode) Json.parse(Files.readString(dir.resolve("config.json")));
        cfg.set("rope_scaling", Json.parse(json));
        Files.writeString(dir.resolve("config.json"), Json.writePretty(cfg));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
