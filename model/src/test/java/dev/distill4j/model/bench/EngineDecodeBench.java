package dev.distill4j.model.bench;

import ai.djl.ndarray.NDManager;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.engine.DecodeEngine;
import dev.distill4j.model.engine.Quantization;
import dev.distill4j.model.nn.CausalLM;

/**
 * The engine's batch-1 decode alone (no DJL, no bandwidth pass), for quick A/B runs of one change: {@code
 * EngineDecodeBench [repeats] [model names...]} with names from {@link DecodeBench#MODELS}; prints F32 and int8
 * tokens/s per model, measured as {@link DecodeBench} does.
 */
public final class EngineDecodeBench {
    private EngineDecodeBench() {}

    public static void main(String[] args) {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        java.util.Set<String> names = new java.util.HashSet<>(java.util.Arrays.asList(args).subList(Math.min(1, args.length), args.length));
        for (Object[] spec : DecodeBench.MODELS) {
            if (!names.isEmpty() && !names.contains((String) spec[0])) continue;
            ModelConfig c = ForwardBench.config(spec);
            try (NDManager root = NDManager.newBaseManager("PyTorch"); CausalLM model = CausalLM.init(c, root, 1)) {
                DecodeEngine f32 = DecodeEngine.of(model, Quantization.F32);
                DecodeEngine int8 = DecodeEngine.of(model, Quantization.INT8);
                java.util.List<Double> a = new java.util.ArrayList<>(), b = new java.util.ArrayList<>();
                for (int r = 0; r < repeats; r++) {
                    a.add(DecodeBench.decode(f32, c.vocabSize(), 1));
                    b.add(DecodeBench.decode(int8, c.vocabSize(), 1));
                }
                double e32 = DecodeBench.median(a), e8 = DecodeBench.median(b);
                double m32 = java.util.Collections.max(a), m8 = java.util.Collections.max(b);
                System.out.printf("%s  F32 %,6.0f (best %,6.0f)   int8 %,6.0f (best %,6.0f) tokens/s   int8/F32 %.2fx (best %.2fx)%n",
                        spec[0], e32, m32, e8, m8, e8 / e32, m8 / m32);
            }
        }
    }
}
