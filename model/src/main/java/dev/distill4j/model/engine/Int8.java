package dev.distill4j.model.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.nn.CausalLM;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which tensors int8 quantization covers and what they become. Every weight matrix is quantized (q/k/v/o, gate/up/
 * down, the embedding and an untied LM head), in blocks of 32 ({@link Matrix.Q8}); norms and biases stay F32, as in
 * llama.cpp's Q8_0.
 */
public final class Int8 {
    private Int8() {}

    /** Whether int8 quantization covers the HF-named tensor. */
    public static boolean covers(String name) {
        return name.endsWith("_proj.weight") || name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight");
    }

    /** The tensors with every covered matrix replaced by its int8 round trip (quantized, then dequantized). */
    static Map<String, float[]> dequantized(ModelConfig c, Map<String, float[]> tensors) {
        Map<String, Shape> shapes = CausalLM.parameterShapes(c);
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : tensors.entrySet()) {
            Shape s = shapes.get(e.getKey());
            if (covers(e.getKey()) && s != null) {
                out.put(e.getKey(), Matrix.Q8.quantize(e.getValue(), (int) s.get(0), (int) s.get(1)).dequantize());
            } else {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /**
     * Overwrites the model's covered matrices with their int8 round trip, so that the DJL model (teacher-forced scoring,
     * eval's NLL) computes what an int8 engine over the original weights computes.
     */
    public static void roundTripInPlace(CausalLM model) {
        for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
            if (!covers(e.getKey())) continue;
            NDArray p = e.getValue();
            Shape s = p.getShape();
            float[] back = Matrix.Q8.quantize(p.toFloatArray(), (int) s.get(0), (int) s.get(1)).dequantize();
            // in place (the model keeps its arrays): p − p + q, exact for finite weights; NDArray.set would make
            // libtorch print a deprecation warning on stderr
            try (NDArray q = p.getManager().create(back, s)) {
                p.subi(p).addi(q);
            }
        }
    }
}
