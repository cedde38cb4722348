package dev.distill4j.model.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.generate.Generator;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Prefill and decode throughput of randomly initialised llama-style models (not a test). See docs/benchmarks.md for
 * the command; tools/reference/bench_torch.py measures the same shapes in PyTorch eager.
 *
 * <p>Prefill: one forward over [B, T] random tokens (logits of the last position, as generation needs).
 * Decode: greedy generation with the KV cache from a 32-token prompt, tokens/s over the generated tokens only.
 */
public final class ForwardBench {
    /** name, hidden, layers, heads, kv heads, intermediate, vocab; tied embeddings, as small llamas ship. */
    static final List<Object[]> MODELS = List.of(
            new Object[] {"llama-10M", 256, 10, 8, 4, 704, 8192},
            new Object[] {"llama-25M", 384, 12, 6, 2, 1024, 16384});

    /** A llama config of one {@link #MODELS} row: name, hidden, layers, heads, kv heads, intermediate, vocab. */
    static ModelConfig config(Object[] spec) {
        ObjectNode n = Json.object();
        n.put("model_type", "llama").put("hidden_size", (int) spec[1]).put("num_hidden_layers", (int) spec[2])
                .put("num_attention_heads", (int) spec[3]).put("num_key_value_heads", (int) spec[4])
                .put("intermediate_size", (int) spec[5]).put("vocab_size", (int) spec[6])
                .put("tie_word_embeddings", true).put("max_position_embeddings", 2048);
        return ModelConfig.fromJson(n, (String) spec[0]);
    }

    public static void main(String[] args) {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        for (Object[] spec : MODELS) {
            ModelConfig c = config(spec);
            try (NDManager root = NDManager.newBaseManager("PyTorch"); CausalLM model = CausalLM.init(c, root, 1)) {
                System.out.printf("%s: %,d parameters%n", spec[0], model.parameterCount());
                for (int[] bt : new int[][] {{1, 256}, {4, 256}}) {
                    prefill(model, root, bt[0], bt[1], repeats);
                }
                for (int b : new int[] {1, 8}) decode(model, b, 32, 64, repeats);
            }
        }
    }

    static void prefill(CausalLM model, NDManager root, int b, int t, int repeats) {
        SplittableRandom rng = new SplittableRandom(3);
        int[] ids = new int[b * t];
        for (int i = 0; i < ids.length; i++) ids[i] = 3 + rng.nextInt(model.config().vocabSize() - 3);
        List<Double> rates = new ArrayList<>();
        for (int r = 0; r < repeats + 1; r++) {      // first run warms up
            long start = System.nanoTime();
            try (NDManager step = root.newSubManager()) {
                model.forwardLast(step.create(ids, new Shape(b, t)), null, null).toFloatArray();
            }
            double s = (System.nanoTime() - start) / 1e9;
            if (r > 0) rates.add(b * t / s);
        }
        report("prefill B=" + b + " T=" + t, rates);
    }

    static void decode(CausalLM model, int b, int prompt, int newTokens, int repeats) {
        Generator g = new Generator(model, new IdTokenizer(model.config().vocabSize()));
        SplittableRandom rng = new SplittableRandom(4);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < b; i++) prompts.add(rng.ints(prompt, 3, model.config().vocabSize()).toArray());
        List<Double> rates = new ArrayList<>();
        for (int r = 0; r < repeats + 1; r++) {
            // time prefill alone, then prefill + decode: the difference is the decode time
            long t0 = System.nanoTime();
            g.generate(prompts, SamplingParams.greedy(1));
            long t1 = System.nanoTime();
            g.generate(prompts, SamplingParams.greedy(newTokens));
            long t2 = System.nanoTime();
            double decodeSeconds = ((t2 - t1) - (t1 - t0)) / 1e9;
            if (r > 0) rates.add(b * (newTokens - 1) / decodeSeconds);
        }
        report("decode  B=" + b + " prompt=" + prompt + " new=" + newTokens, rates);
    }

    static void report(String what, List<Double> rates) {
        List<Double> sorted = rates.stream().sorted().toList();
        System.out.printf("  %-36s median %,9.0f tokens/s  (min %,.0f, max %,.0f, %d runs)%n", what,
                sorted.get(sorted.size() / 2), sorted.getFirst(), sorted.getLast(), sorted.size());
    }

    /** Token ids as their own strings: the bench needs no real vocabulary. */
    record IdTokenizer(int vocabSize) implements TextTokenizer {
        @Override public int[] encode(String text, boolean addSpecialTokens) { throw new UnsupportedOperationException(); }
        @Override public String decode(int[] ids, boolean skip) { return java.util.Arrays.toString(ids); }
        @Override public String tokenString(int id) { return "<" + id + ">"; }
        @Override public byte[] tokenBytes(int id) { return new byte[0]; }
        @Override public int tokenId(String token) { return -1; }
        @Override public boolean isSpecial(int id) { return false; }
    }
}
