package dev.distill4j.model.ops.gguf;

import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.SafetensorsReader;
import dev.distill4j.model.nn.Family;
import dev.distill4j.model.nn.RotaryEmbedding;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Exports a Llama / Mistral / Qwen2 / Qwen3 model folder to one GGUF file that llama.cpp (and so Ollama and
 * LM Studio) loads: hyper-parameters, weights, tokenizer and chat template, read tensor by tensor.
 *
 * <p>What maps to what ({@code A} = {@code general.architecture}: {@code llama} for llama and mistral, else the
 * family's own name):
 * <pre>
 *   config.json                    GGUF metadata
 *   max_position_embeddings        A.context_length  (capped at mistral's sliding_window: see below)
 *   hidden_size / intermediate     A.embedding_length / A.feed_forward_length
 *   num_hidden_layers              A.block_count
 *   heads / kv heads / head_dim    A.attention.head_count / head_count_kv / key_length = value_length
 *   rms_norm_eps, rope_theta       A.attention.layer_norm_rms_epsilon, A.rope.freq_base
 *   rope_scaling linear            A.rope.scaling.type = linear, A.rope.scaling.factor
 *   rope_scaling llama3            tensor rope_freqs.weight: per frequency, the divisor HF's rescaling applies
 *
 *   HF tensor                                  GGUF tensor
 *   model.embed_tokens.weight                  token_embd.weight
 *   model.layers.N.input_layernorm             blk.N.attn_norm
 *   model.layers.N.self_attn.{q,k,v,o}_proj    blk.N.attn_{q,k,v,output}   (weight, bias)
 *   model.layers.N.self_attn.{q,k}_norm        blk.N.attn_{q,k}_norm       (qwen3)
 *   model.layers.N.post_attention_layernorm    blk.N.ffn_norm
 *   model.layers.N.mlp.{gate,up,down}_proj     blk.N.ffn_{gate,up,down}
 *   model.norm / lm_head                       output_norm / output        (no output when embeddings are tied)
 * </pre>
 *
 * <p><b>RoPE layout.</b> HF rotates dimension i with i + d/2 (rotate-half); llama.cpp's {@code llama} graph rotates
 * adjacent pairs (2i, 2i+1). So for {@code llama} the rows of q and k (weights and biases) are permuted within each
 * head, new row {@code 2i + s} = old row {@code s·d/2 + i}, which makes the two layouts compute the same scores.
 * {@code qwen2} and {@code qwen3} use NEOX (rotate-half) RoPE in llama.cpp and are written as they are.
 *
 * <p><b>Sliding window.</b> llama.cpp's {@code llama} graph attends to the whole context. A mistral window w is
 * honoured exactly by capping context_length at w: with at most w positions, every key lies inside the window.
 *
 * <p><b>Encodings.</b> Vectors (norms, biases, rope_freqs) stay F32, as llama.cpp's converter keeps them;
 * matrices take the requested type. A Q8_0 matrix whose rows are not a multiple of 32 falls back to F16 (noted).
 */
public final class GgufExport {

    /** The weight encodings {@code --quantize} offers. */
    public enum Quantization {
        F32(GgmlType.F32), F16(GgmlType.F16), Q8_0(GgmlType.Q8_0);

        private final GgmlType type;

        Quantization(GgmlType type) { this.type = type; }

        public GgmlType type() { return type; }

        public static Quantization parse(String s) {
            return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
                case "f32" -> F32;
                case "f16" -> F16;
                case "q8_0", "q8" -> Q8_0;
                default -> throw new InvalidInputException("unknown GGUF quantization '" + s
                        + "' (use q8_0, f16 or f32)");
            };
        }

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    /** Hears each tensor as it is written. */
    @FunctionalInterface
    public interface Progress {
        void tensorWritten(int done, int total);
    }

    /**
     * @param architecture general.architecture
     * @param tokenizerPre the llama.cpp pre-tokenizer name chosen
     * @param notes        what the user should know (fallbacks, capped context, tokenizer remarks)
     */
    public record Result(Path file, String architecture, Quantization quantization, long bytes, int tensors,
                         long parameters, int contextLength, int vocabSize, String tokenizerPre,
                         boolean chatTemplate, List<String> notes) {}

    private GgufExport() {}

    /**
     * Writes {@code out} atomically (temp file + rename): a failed export leaves no partial file and keeps an
     * existing one.
     */
    public static Result export(Path modelDir, Path out, Quantization quantization, Progress progress)
            throws IOException {
        if (Files.isDirectory(out)) {
            throw new InvalidInputException(out + " is a folder; --out names the .gguf file to write");
        }
        try (Checkpoint cp = Checkpoint.open(modelDir)) {
            // what llama.cpp cannot run alike is refused first, before any tensor is read
            ModelConfig c = cp.config();
            Family family = Family.of(c);
            List<String> notes = new ArrayList<>();
            String arch = architecture(c);
            GgufVocab vocab = GgufVocab.read(modelDir, c.vocabSize());
            cp.validate();
            notes.addAll(vocab.notes());

            GgufWriter w = new GgufWriter();
            w.putString("general.architecture", arch);
            w.putString("general.name", modelName(c, modelDir));
            w.putU32("general.file_type", quantization.type().fileType());
            w.putU32("general.quantization_version", 2);
            w.putU32("general.alignment", GgufWriter.ALIGNMENT);

            int context = c.maxPositionEmbeddings();
            if (family.slidingWindow() != null && family.slidingWindow() < context) {
                context = family.slidingWindow();
                notes.add("context_length capped at the sliding window " + context + " (llama.cpp's llama graph "
                        + "has no window; within it the window changes nothing)");
            }
            String a = arch + ".";
            w.putU32(a + "vocab_size", c.vocabSize());
            w.putU32(a + "context_length", context);
            w.putU32(a + "embedding_length", c.hiddenSize());
            w.putU32(a + "block_count", c.numHiddenLayers());
            w.putU32(a + "feed_forward_length", c.intermediateSize());
            w.putU32(a + "attention.head_count", c.numAttentionHeads());
            w.putU32(a + "attention.head_count_kv", c.numKeyValueHeads());
            w.putU32(a + "attention.key_length", c.headDim());
            w.putU32(a + "attention.value_length", c.headDim());
            w.putU32(a + "rope.dimension_count", c.headDim());
            w.putF32(a + "attention.layer_norm_rms_epsilon", (float) c.rmsNormEps());
            w.putF32(a + "rope.freq_base", (float) c.ropeTheta());
            ModelConfig.RopeScaling scaling = c.ropeScaling();
            if (scaling != null && scaling.type().equals("linear")) {
                w.putString(a + "rope.scaling.type", "linear");
                w.putF32(a + "rope.scaling.factor", (float) scaling.factor());
            }

            w.putString("tokenizer.ggml.model", "gpt2");
            w.putString("tokenizer.ggml.pre", vocab.pre());
            w.putStrings("tokenizer.ggml.tokens", vocab.tokens());
            w.putI32s("tokenizer.ggml.token_type", vocab.tokenTypes());
            w.putStrings("tokenizer.ggml.merges", vocab.merges());
            Integer eos = vocab.eosId() != null ? vocab.eosId()
                    : c.eosTokenIds().isEmpty() ? null : c.eosTokenIds().getFirst();
            Integer bos = vocab.bosId() != null ? vocab.bosId() : c.bosTokenId();
            if (bos != null) w.putU32("tokenizer.ggml.bos_token_id", bos);
            if (eos != null) w.putU32("tokenizer.ggml.eos_token_id", eos);
            if (vocab.padId() != null) w.putU32("tokenizer.ggml.padding_token_id", vocab.padId());
            w.putBool("tokenizer.ggml.add_bos_token", vocab.addBos());
            w.putBool("tokenizer.ggml.add_eos_token", false);
            if (vocab.chatTemplate() != null) w.putString("tokenizer.chat_template", vocab.chatTemplate());

            Map<Path, SafetensorsReader> readers = new HashMap<>();
            try {
                int[] fallbacks = {0};
                long parameters = addTensors(w, cp, c, arch, quantization.type(), readers, fallbacks);
                if (fallbacks[0] > 0) {
                    notes.add(fallbacks[0] + " matrices kept in F16: their rows are not a multiple of 32 weights");
                }
                int total = w.tensorCount();
                AtomicFiles.write(out, os -> w.write(os, i -> progress.tensorWritten(i + 1, total)));
                return new Result(out, arch, quantization, Files.size(out), total, parameters, context,
                        c.vocabSize(), vocab.pre(), vocab.chatTemplate() != null, List.copyOf(notes));
            } finally {
                readers.values().forEach(SafetensorsReader::close);
            }
        }
    }

    /** {@code llama} for llama and mistral (llama.cpp runs Mistral's architecture as llama), else the family. */
    static String architecture(ModelConfig c) {
        return switch (c.modelType()) {
            case "llama", "mistral" -> {
                if (c.ropeScaling() != null && !List.of("linear", "llama3").contains(c.ropeScaling().type())) {
                    throw new InvalidInputException("rope_scaling " + c.ropeScaling().type() + " cannot be exported");
                }
                yield "llama";
            }
            case "qwen2", "qwen3" -> {
                if (c.ropeScaling() != null && !c.ropeScaling().type().equals("linear")) {
                    throw new InvalidInputException(c.modelType() + " with rope_scaling " + c.ropeScaling().type()
                            + ": llama.cpp's " + c.modelType() + " graph reads per-frequency factors only for "
                            + "llama; export a model without it");
                }
                if (c.modelType().equals("qwen3") && c.attentionBias()) {
                    throw new InvalidInputException("qwen3 with attention_bias=true: llama.cpp's qwen3 graph has "
                            + "no attention biases");
                }
                yield c.modelType();
            }
            default -> throw new InvalidInputException("model_type '" + c.modelType()
                    + "' cannot be exported to GGUF (supported: llama, mistral, qwen2, qwen3)");
        };
    }

    private static long addTensors(GgufWriter w, Checkpoint cp, ModelConfig c, String arch, GgmlType matrixType,
                                   Map<Path, SafetensorsReader> readers, int[] fallbacks) throws IOException {
        boolean permute = arch.equals("llama");
        long parameters = 0;
        List<Checkpoint.ExpectedTensor> expected = Checkpoint.expectedTensors(c);
        for (Checkpoint.ExpectedTensor t : expected) {
            String hf = t.name();
            String name = ggufName(hf);
            long[] shape = t.shape();
            parameters += t.numel();
            GgmlType type = GgmlType.F32;
            if (shape.length == 2) {
                type = matrixType;
                if (shape[1] % type.blockSize() != 0) {
                    type = GgmlType.F16;
                    fallbacks[0]++;
                }
            }
            int heads = hf.contains(".q_proj.") ? c.numAttentionHeads()
                    : hf.contains(".k_proj.") ? c.numKeyValueHeads() : 0;
            boolean permuteThis = permute && heads > 0;
            w.addTensor(name, shape, type, () -> {
                float[] v = reader(cp, hf, readers).readFloats(hf);
                return permuteThis ? permuteRotary(v, heads, c.headDim()) : v;
            });
        }
        ModelConfig.RopeScaling s = c.ropeScaling();
        if (s != null && s.type().equals("llama3")) {
            float[] factors = ropeFreqFactors(c);
            w.addTensor("rope_freqs.weight", new long[] {factors.length}, GgmlType.F32, () -> factors);
        }
        return parameters;
    }

    private static SafetensorsReader reader(Checkpoint cp, String name, Map<Path, SafetensorsReader> readers)
            throws IOException {
        Path f = cp.fileOf(name);
        SafetensorsReader r = readers.get(f);
        if (r == null) {
            r = SafetensorsReader.open(f);
            readers.put(f, r);
        }
        return r;
    }

    /** HF tensor name → llama.cpp's ({@code gguf-py}'s {@code MODEL_TENSOR} names). */
    static String ggufName(String hf) {
        switch (hf) {
            case "model.embed_tokens.weight" -> { return "token_embd.weight"; }
            case "model.norm.weight" -> { return "output_norm.weight"; }
            case "lm_head.weight" -> { return "output.weight"; }
            default -> { }
        }
        if (!hf.startsWith("model.layers.")) throw new IllegalArgumentException("unexpected tensor " + hf);
        String rest = hf.substring("model.layers.".length());
        int dot = rest.indexOf('.');
        String layer = rest.substring(0, dot);
        String part = rest.substring(dot + 1);
        int last = part.lastIndexOf('.');
        String kind = part.substring(last + 1);          // weight | bias
        String module = part.substring(0, last);
        String g = switch (module) {
            case "input_layernorm" -> "attn_norm";
            case "post_attention_layernorm" -> "ffn_norm";
            case "self_attn.q_proj" -> "attn_q";
            case "self_attn.k_proj" -> "attn_k";
            case "self_attn.v_proj" -> "attn_v";
            case "self_attn.o_proj" -> "attn_output";
            case "self_attn.q_norm" -> "attn_q_norm";
            case "self_attn.k_norm" -> "attn_k_norm";
            case "mlp.gate_proj" -> "ffn_gate";
            case "mlp.up_proj" -> "ffn_up";
            case "mlp.down_proj" -> "ffn_down";
            default -> throw new IllegalArgumentException("unexpected tensor " + hf);
        };
        return "blk." + layer + "." + g + "." + kind;
    }

    /**
     * Reorders the rows of a q or k projection (weight {@code [heads·d, cols]}, or bias {@code [heads·d]}) from HF's
     * rotate-half RoPE layout to llama.cpp's interleaved one: within each head, new row {@code 2i + s} is old row
     * {@code s·d/2 + i} (i &lt; d/2, s ∈ {0, 1}). llama.cpp's converter does the same ({@code LlamaModel.permute}).
     */
    static float[] permuteRotary(float[] w, int heads, int headDim) {
        int cols = w.length / (heads * headDim);
        float[] out = new float[w.length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            for (int s = 0; s < 2; s++) {
                for (int i = 0; i < half; i++) {
                    int from = (h * headDim + s * half + i) * cols;
                    int to = (h * headDim + 2 * i + s) * cols;
                    System.arraycopy(w, from, out, to, cols);
                }
            }
        }
        return out;
    }

    /**
     * llama3 rope scaling as llama.cpp reads it: a divisor per frequency,
     * {@code theta_i = pos · base^(−2i/d) / f_i}.
     * Taken from the model's own scaled inverse frequencies ({@link RotaryEmbedding#inverseFrequencies}), so the
     * exported file rotates exactly as distill4j does: {@code f_i = unscaled_i / scaled_i}.
     */
    static float[] ropeFreqFactors(ModelConfig c) {
        float[] scaled = RotaryEmbedding.inverseFrequencies(c);
        ModelConfig plain = new ModelConfig(c.modelType(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(),
                c.numHiddenLayers(), c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(),
                c.ropeTheta(), null, c.maxPositionEmbeddings(), c.tieWordEmbeddings(), c.attentionBias(),
                c.slidingWindow(), c.bosTokenId(), c.eosTokenIds(), c.torchDtype(), c.raw());
        float[] unscaled = RotaryEmbedding.inverseFrequencies(plain);
        float[] f = new float[scaled.length];
        for (int i = 0; i < f.length; i++) f[i] = unscaled[i] / scaled[i];
        return f;
    }

    private static String modelName(ModelConfig c, Path dir) {
        String n = c.raw().path("_name_or_path").asText("");
        if (!n.isBlank()) return n;
        Path name = dir.toAbsolutePath().normalize().getFileName();
        return name == null ? "model" : name.toString();
    }
}
