package dev.distill4j.embed.encoder;

import dev.distill4j.core.InvalidInputException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A BERT encoder's weights under Hugging Face {@code BertModel} names ({@code embeddings.word_embeddings.weight},
 * {@code encoder.layer.3.attention.self.query.weight}, …), linear weights in HF's [out, in] layout.
 */
public record BertWeights(BertConfig config, Map<String, Tensor> tensors) {

    /** One F32 tensor, row-major. */
    public record Tensor(long[] shape, float[] data) {}

    static final String[] EMBEDDINGS = {"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
            "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};

    /** A layer's tensors, without the {@code encoder.layer.N.} prefix; linear weights come with a bias. */
    static final String[] LAYER = {"attention.self.query.weight", "attention.self.query.bias",
            "attention.self.key.weight", "attention.self.key.bias", "attention.self.value.weight", "attention.self.value.bias",
            "attention.output.dense.weight", "attention.output.dense.bias",
            "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
            "intermediate.dense.weight", "intermediate.dense.bias", "output.dense.weight", "output.dense.bias",
            "output.LayerNorm.weight", "output.LayerNorm.bias"};

    public static String layerPrefix(int layer) { return "encoder.layer." + layer + "."; }

    /**
     * Maps an ONNX export of a BERT encoder (as Hugging Face's exporter writes it) to HF names. Biases and
     * LayerNorm parameters keep their PyTorch names as initialisers; the linear weights are anonymous
     * ({@code onnx::MatMul_1525}, [in, out]), so each is named after the bias the next Add node adds to its product,
     * and transposed. The head count comes from the attention scale 1/√head_dim, the LayerNorm ε from the
     * constant added to the variance.
     */
    public static BertWeights fromOnnx(OnnxGraph g) throws IOException {
        Map<String, OnnxGraph.Node> producer = new HashMap<>();
        for (OnnxGraph.Node n : g.nodes()) for (String out : n.outputs()) producer.put(out, n);
        Map<String, Tensor> named = new HashMap<>();
        for (var e : onnxNames(g).entrySet()) {
            OnnxGraph.Tensor t = g.initializers().get(e.getValue().initializer());
            named.put(e.getKey(), e.getValue().transposed() ? transpose(t) : new Tensor(t.dims(), t.floats()));
        }
        Tensor word = named.get(EMBEDDINGS[0]);
        if (word == null) throw notBert("it has no embeddings.word_embeddings.weight initialiser");
        for (String e : EMBEDDINGS) if (!named.containsKey(e)) throw notBert("it has no " + e + " initialiser");
        int layers = 0;
        while (named.containsKey(layerPrefix(layers) + LAYER[0])) layers++;
        if (layers == 0) throw notBert("no encoder.layer.0 query weight was found (a MatMul followed by the query bias)");
        for (int l = 0; l < layers; l++) {
            for (String p : LAYER) if (!named.containsKey(layerPrefix(l) + p)) throw notBert("layer " + l + " lacks " + p);
        }
        int hidden = (int) word.shape()[1];
        int headDim = headDim(g, producer);
        if (headDim <= 0 || hidden % headDim != 0) throw notBert("the attention scale 1/√head_dim was not found");
        BertConfig config = new BertConfig((int) word.shape()[0], hidden, layers, hidden / headDim,
                (int) named.get(layerPrefix(0) + "intermediate.dense.bias").shape()[0],
                (int) named.get(EMBEDDINGS[1]).shape()[0], (int) named.get(EMBEDDINGS[2]).shape()[0],
                layerNormEps(g, producer));
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (String e : EMBEDDINGS) ordered.put(e, named.get(e));
        for (int l = 0; l < layers; l++) for (String p : LAYER) ordered.put(layerPrefix(l) + p, named.get(layerPrefix(l) + p));
        return new BertWeights(config, ordered);
    }

    /** Where a Hugging Face tensor lives in an ONNX export: its initialiser, stored [in, out] when transposed. */
    public record OnnxName(String initializer, boolean transposed) {}

    /**
     * The HF name of every BERT weight an ONNX export holds: biases and LayerNorm parameters by their own
     * initialiser names, linear weights by the bias that the Add after their MatMul adds.
     */
    public static Map<String, OnnxName> onnxNames(OnnxGraph g) {
        Map<String, OnnxName> names = new LinkedHashMap<>();
        for (OnnxGraph.Tensor t : g.initializers().values()) {
            String hf = hfName(t.name());
            if (hf != null && t.dataType() == OnnxGraph.FLOAT) names.put(hf, new OnnxName(t.name(), false));
        }
        Map<String, List<OnnxGraph.Node>> consumers = new HashMap<>();
        for (OnnxGraph.Node n : g.nodes()) {
            for (String in : n.inputs()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        }
        for (OnnxGraph.Node n : g.nodes()) {
            if (!n.opType().equals("MatMul") || n.inputs().size() != 2) continue;
            OnnxGraph.Tensor w = g.initializers().get(n.inputs().get(1));
            if (w == null || w.dataType() != OnnxGraph.FLOAT || w.dims().length != 2) continue;
            for (OnnxGraph.Node add : consumers.getOrDefault(n.outputs().get(0), List.of())) {
                if (!add.opType().equals("Add")) continue;
                for (String in : add.inputs()) {
                    String bias = hfName(in);
                    if (bias != null && bias.endsWith(".bias") && g.initializers().containsKey(in)) {
                        names.put(bias.substring(0, bias.length() - ".bias".length()) + ".weight", new OnnxName(w.name(), true));
                    }
                }
            }
        }
        return names;
    }

    /**
     * DistilBERT-style layer dropping: the embeddings and the given teacher layers, renumbered 0..k−1 in the given
     * order. The arrays are shared, not copied (training works on its own device copies).
     */
    public BertWeights keepLayers(int... layers) {
        if (layers.length == 0) throw new InvalidInputException("keep at least one layer");
        Map<String, Tensor> kept = new LinkedHashMap<>();
        for (String e : EMBEDDINGS) kept.put(e, tensors.get(e));
        for (int i = 0; i < layers.length; i++) {
            int from = layers[i];
            if (from < 0 || from >= config.numHiddenLayers()) {
                throw new InvalidInputException("layer " + from + " does not exist: the teacher has layers 0.."
                        + (config.numHiddenLayers() - 1));
            }
            for (String p : LAYER) kept.put(layerPrefix(i) + p, tensors.get(layerPrefix(from) + p));
        }
        return new BertWeights(config.withLayers(layers.length), kept);
    }

    /**
     * Width pruning of the feed-forward blocks: each layer keeps the {@code width} neurons of its intermediate layer
     * with the largest {@code importance[layer][neuron]} ({@link BertEncoder#ffnImportance}), in their original order:
     * rows of {@code intermediate.dense} (weight [I, D], bias [I]) and columns of {@code output.dense.weight}
     * ([D, I]). Each layer's FFN then costs width / I of the teacher's, and the model is still a Hugging Face
     * {@code BertModel} with {@code intermediate_size = width}.
     */
    public BertWeights pruneFfn(int width, float[][] importance) {
        int full = config.intermediateSize(), d = config.hiddenSize();
        if (width < 1 || width > full) {
            throw new InvalidInputException("--ffn-width must be between 1 and the teacher's " + full + ", got " + width);
        }
        if (importance.length != config.numHiddenLayers()) {
            throw new IllegalArgumentException(importance.length + " layers of importance for " + config.numHiddenLayers() + " layers");
        }
        Map<String, Tensor> out = new LinkedHashMap<>(tensors);
        for (int l = 0; l < importance.length; l++) {
            float[] score = importance[l];
            if (score.length != full) throw new IllegalArgumentException("layer " + l + " has " + score.length + " scores for " + full + " neurons");
            int[] keep = java.util.stream.IntStream.range(0, full).boxed()
                    .sorted((a, b) -> Float.compare(score[b], score[a])).limit(width)
                    .mapToInt(Integer::intValue).sorted().toArray();
            String pre = layerPrefix(l);
            Tensor w1 = tensors.get(pre + "intermediate.dense.weight"), b1 = tensors.get(pre + "intermediate.dense.bias");
            Tensor w2 = tensors.get(pre + "output.dense.weight");
            float[] nw1 = new float[width * d], nb1 = new float[width], nw2 = new float[d * width];
            for (int i = 0; i < width; i++) {
                System.arraycopy(w1.data(), keep[i] * d, nw1, i * d, d);
                nb1[i] = b1.data()[keep[i]];
                for (int r = 0; r < d; r++) nw2[r * width + i] = w2.data()[r * full + keep[i]];
            }
            out.put(pre + "intermediate.dense.weight", new Tensor(new long[] {width, d}, nw1));
            out.put(pre + "intermediate.dense.bias", new Tensor(new long[] {width}, nb1));
            out.put(pre + "output.dense.weight", new Tensor(new long[] {d, width}, nw2));
        }
        return new BertWeights(config.withIntermediateSize(width), out);
    }

    /** The PyTorch name with any model prefix ({@code bert.}, {@code model.}) removed; null for other names. */
    private static String hfName(String onnxName) {
        for (String root : new String[] {"embeddings.", "encoder.layer."}) {
            int i = onnxName.indexOf(root);
            if (i == 0 || (i > 0 && onnxName.charAt(i - 1) == '.')) return onnxName.substring(i);
        }
        return null;
    }

    private static Tensor transpose(OnnxGraph.Tensor w) { return transpose(new Tensor(w.dims(), w.floats())); }

    /** A matrix's transpose: HF's [out, in] linear weight ↔ ONNX's [in, out] MatMul operand. */
    static Tensor transpose(Tensor w) {
        int rows = (int) w.shape()[0], cols = (int) w.shape()[1];
        float[] src = w.data(), dst = new float[src.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
        return new Tensor(new long[] {cols, rows}, dst);
    }

    /** head_dim from the scores' scaling just before the first Softmax: Div by √d or Mul by 1/√d. */
    private static int headDim(OnnxGraph g, Map<String, OnnxGraph.Node> producer) {
        for (OnnxGraph.Node n : g.nodes()) {
            if (!n.opType().equals("Softmax")) continue;
            List<OnnxGraph.Node> frontier = List.of(producer.getOrDefault(n.inputs().get(0), n));
            for (int depth = 0; depth < 4 && !frontier.isEmpty(); depth++) {
                List<OnnxGraph.Node> next = new ArrayList<>();
                for (OnnxGraph.Node p : frontier) {
                    Float c = scalarInput(g, p);
                    if (c != null && p.opType().equals("Div")) return Math.round(c * c);
                    if (c != null && p.opType().equals("Mul") && c > 0 && c < 1) return Math.round(1 / (c * c));
                    for (String in : p.inputs()) if (producer.containsKey(in)) next.add(producer.get(in));
                }
                frontier = next;
            }
            return -1;
        }
        return -1;
    }

    /** ε of the first LayerNorm: the LayerNormalization attribute, or the constant added under the Sqrt. */
    private static double layerNormEps(OnnxGraph g, Map<String, OnnxGraph.Node> producer) {
        for (OnnxGraph.Node n : g.nodes()) {
            if (n.opType().equals("LayerNormalization")) return n.attributes().getOrDefault("epsilon", 1e-5);
            if (n.opType().equals("Sqrt")) {
                OnnxGraph.Node add = producer.get(n.inputs().get(0));
                Float c = add != null && add.opType().equals("Add") ? scalarInput(g, add) : null;
                if (c != null) return Double.parseDouble(Float.toString(c));   // 1e-12, not 9.9999998e-13
            }
        }
        return 1e-12;
    }

    private static Float scalarInput(OnnxGraph g, OnnxGraph.Node n) {
        for (String in : n.inputs()) {
            OnnxGraph.Tensor t = g.constant(in);
            if (t != null && t.floats() != null && t.floats().length == 1) return t.floats()[0];
        }
        return null;
    }

    private static IOException notBert(String why) {
        return new IOException("not a BERT-style encoder export: " + why + "; use an ONNX export of a BERT model "
                + "(e.g. bge-small-en-v1.5, all-MiniLM-L6-v2) from Hugging Face's exporter");
    }
}
