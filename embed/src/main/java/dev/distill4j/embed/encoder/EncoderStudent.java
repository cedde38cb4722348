package dev.distill4j.embed.encoder;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.embed.TokenizedEmbeddingModel;
import dev.distill4j.embed.HfTokenizers;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.Pooling;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.io.SafetensorsReader;
import dev.distill4j.model.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A BERT sentence encoder run in-process on DJL: the layer-dropped student of an ONNX teacher (or, with all its
 * layers, the teacher itself). Tokenises with the teacher's tokenizer.json, pools as the teacher, L2-normalises.
 *
 * <p>Folder layout (Hugging Face BERT, also a sentence-transformers model): {@code config.json} ({@code model_type
 * bert} plus a {@code distill4j} section: teacher, kept layers, pooling, max length), {@code model.safetensors}
 * (HF {@code BertModel} names, F32), {@code tokenizer.json}, {@code modules.json}, {@code 1_Pooling/config.json},
 * {@code sentence_bert_config.json}; and {@code model.onnx}, the same weights in the teacher's ONNX graph less the
 * dropped layers ({@link OnnxLayerDrop}), when the student has a {@link Graph} (distilled from an ONNX teacher, or
 * loaded from a folder with one).
 *
 * <p>DJL trains the student; {@link #open} runs a saved one on ONNX Runtime when it has {@code model.onnx}, because
 * ONNX Runtime's fused kernels embed 1.2–1.3× faster than libtorch on this CPU (docs/benchmarks.md).
 */
public final class EncoderStudent implements TokenizedEmbeddingModel {
    public static final String SECTION = "distill4j";
    /**
     * Batches hold up to 128 texts of similar length, fewer where they are long: the padded batch stays within
     * {@value #BATCH_TOKENS} tokens, so a batch of 512-token texts does not build [B, H, T, T] scores of gigabytes.
     * 128 short sentences ran 711–749 sentences/s against 595–637 in batches of 32 (docs/benchmarks.md).
     */
    private static final int BATCH = 128;
    private static final int BATCH_TOKENS = 8192;
    /** The student's ONNX export, beside its safetensors. */
    public static final String ONNX_FILE = "model.onnx";

    private final String name;
    private final NDManager manager;
    private final BertEncoder encoder;
    private final HuggingFaceTokenizer tokenizer;
    private final byte[] tokenizerJson;
    private final Pooling pooling;
    private final int maxLength;
    private final ObjectNode info;
    private final Graph graph;

    /**
     * An ONNX graph the student's weights can be written into ({@link OnnxLayerDrop}): its teacher's export and the
     * teacher layers it keeps, or a saved student's own {@value #ONNX_FILE} with all its layers.
     */
    public record Graph(OnnxBytes onnx, int[] layers) {
        /** The .onnx bytes, read only when a save needs them: a loaded student's model.onnx is 76 MB it may never use. */
        @FunctionalInterface
        public interface OnnxBytes {
            byte[] read() throws IOException;
        }
    }

    /**
     * A student with no ONNX graph: it saves safetensors only and runs on DJL.
     *
     * @param info what to record in config.json's {@value #SECTION} section (teacher, kept layers, training)
     */
    public EncoderStudent(String name, BertWeights weights, byte[] tokenizerJson, Pooling pooling, int maxLength,
                          ObjectNode info) throws IOException {
        this(name, weights, tokenizerJson, pooling, maxLength, info, null);
    }

    /**
     * @param info  what to record in config.json's {@value #SECTION} section (teacher, kept layers, training)
     * @param graph where {@link #save} writes the weights as {@value #ONNX_FILE}; null for no ONNX export
     */
    public EncoderStudent(String name, BertWeights weights, byte[] tokenizerJson, Pooling pooling, int maxLength,
                          ObjectNode info, Graph graph) throws IOException {
        this.graph = graph;
        this.name = name;
        this.pooling = pooling;
        this.maxLength = Math.min(maxLength, weights.config().maxPositionEmbeddings());
        this.tokenizerJson = tokenizerJson;
        this.info = info;
        this.tokenizer = HfTokenizers.load(tokenizerJson, true, this.maxLength);
        this.manager = NDManager.newBaseManager();
        this.encoder = new BertEncoder(weights, manager);
    }

    /** Embeds tokenised inputs (special tokens included) in batches of similar length; results in input order. */
    public float[][] embedIds(long[][] ids) {
        Integer[] order = new Integer[ids.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> ids[i].length));
        float[][] out = new float[ids.length][];
        int d = encoder.config().hiddenSize();
        for (int start = 0, end; start < order.length; start = end) {
            end = start + 1;   // sorted by length: the last text of a batch is its longest
            while (end < order.length && end - start < BATCH
                    && (long) (end - start + 1) * ids[order[end]].length <= BATCH_TOKENS) end++;
            long[][] batch = new long[end - start][];
            for (int i = start; i < end; i++) batch[i - start] = ids[order[i]];
            float[] flat;
            try (NDManager m = manager.newSubManager()) {
                flat = encoder.embed(m, batch, pooling).toFloatArray();
            }
            for (int i = start; i < end; i++) out[order[i]] = Arrays.copyOfRange(flat, (i - start) * d, (i - start + 1) * d);
        }
        return out;
    }

    public long[] tokenize(String text) { return tokenizer.encode(text).getIds(); }

    public BertEncoder encoder() { return encoder; }

    NDManager manager() { return manager; }

    public Pooling pooling() { return pooling; }

    /** The {@value #SECTION} section of config.json (a copy). */
    public ObjectNode info() { return info.deepCopy(); }

    public void save(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("1_Pooling"));
        BertWeights w = encoder.weights();
        SafetensorsWriter st = new SafetensorsWriter().metadata("format", "pt");
        for (var e : w.tensors().entrySet()) st.add(e.getKey(), e.getValue().data(), e.getValue().shape());
        st.write(dir.resolve("model.safetensors"), DType.F32);
        if (graph != null) {
            AtomicFiles.write(dir.resolve(ONNX_FILE), out -> OnnxLayerDrop.write(graph.onnx().read(), graph.layers(), w, out));
        } else {
            Files.deleteIfExists(dir.resolve(ONNX_FILE));   // would hold other weights than the safetensors
        }
        ObjectNode config = w.config().toJson();
        ObjectNode section = info.deepCopy();
        section.put("pooling", pooling.name().toLowerCase(java.util.Locale.ROOT));
        section.put("max_length", maxLength);
        config.set(SECTION, section);
        AtomicFiles.writeString(dir.resolve("config.json"), Json.writePretty(config));
        AtomicFiles.writeBytes(dir.resolve("tokenizer.json"), tokenizerJson);
        // sentence-transformers: Transformer → Pooling → Normalize, so the folder loads there as it runs here
        ObjectNode poolingConfig = Json.object();
        poolingConfig.put("word_embedding_dimension", w.config().hiddenSize());
        poolingConfig.put("pooling_mode_cls_token", pooling == Pooling.CLS);
        poolingConfig.put("pooling_mode_mean_tokens", pooling == Pooling.MEAN);
        poolingConfig.put("pooling_mode_max_tokens", false);
        poolingConfig.put("pooling_mode_mean_sqrt_len_tokens", false);
        AtomicFiles.writeString(dir.resolve("1_Pooling/config.json"), Json.writePretty(poolingConfig));
        ArrayNode modules = Json.MAPPER.createArrayNode();
        modules.add(module(0, "", "sentence_transformers.models.Transformer"));
        modules.add(module(1, "1_Pooling", "sentence_transformers.models.Pooling"));
        modules.add(module(2, "2_Normalize", "sentence_transformers.models.Normalize"));
        Files.createDirectories(dir.resolve("2_Normalize"));
        AtomicFiles.writeString(dir.resolve("modules.json"), Json.writePretty(modules));
        ObjectNode sbert = Json.object();
        sbert.put("max_seq_length", maxLength);
        sbert.put("do_lower_case", false);
        AtomicFiles.writeString(dir.resolve("sentence_bert_config.json"), Json.writePretty(sbert));
    }

    private static ObjectNode module(int idx, String path, String type) {
        ObjectNode n = Json.object();
        n.put("idx", idx);
        n.put("name", Integer.toString(idx));
        n.put("path", path);
        n.put("type", type);
        return n;
    }

    /**
     * A saved student ready to embed: on ONNX Runtime when the folder has {@value #ONNX_FILE}, else on DJL
     * ({@link #load}).
     */
    public static TokenizedEmbeddingModel open(Path dir) throws IOException {
        Path onnx = dir.resolve(ONNX_FILE);
        if (!Files.isRegularFile(onnx)) return load(dir);
        Saved saved = Saved.read(dir);
        return OnnxEmbeddingModel.of(dir.getFileName().toString(), Files.readAllBytes(onnx),
                Files.readAllBytes(dir.resolve("tokenizer.json")), saved.pooling(), saved.maxLength());
    }

    /** Loads a folder written by {@link #save} onto DJL (to train or embed); pooling from the {@value #SECTION} section, else 1_Pooling. */
    public static EncoderStudent load(Path dir) throws IOException {
        Saved saved = Saved.read(dir);
        BertConfig bert = saved.bert();
        Path st = dir.resolve("model.safetensors");
        Map<String, BertWeights.Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(st)) {
            List<String> names = new java.util.ArrayList<>(List.of(BertWeights.EMBEDDINGS));
            for (int l = 0; l < bert.numHiddenLayers(); l++) for (String p : BertWeights.LAYER) names.add(BertWeights.layerPrefix(l) + p);
            for (String n : names) {
                String stored = r.contains(n) ? n : "bert." + n;   // HF's BertFor* checkpoints prefix "bert."
                if (!r.contains(stored)) throw new IOException(st + " lacks tensor " + n);
                tensors.put(n, new BertWeights.Tensor(r.info(stored).shape(), r.readFloats(stored)));
            }
        }
        Path onnx = dir.resolve(ONNX_FILE);
        Graph graph = Files.isRegularFile(onnx)
                ? new Graph(() -> Files.readAllBytes(onnx), java.util.stream.IntStream.range(0, bert.numHiddenLayers()).toArray())
                : null;
        return new EncoderStudent(dir.getFileName().toString(), new BertWeights(bert, tensors),
                Files.readAllBytes(dir.resolve("tokenizer.json")), saved.pooling(), saved.maxLength(), saved.info(), graph);
    }

    /** What a saved folder's config says: the BERT shape, pooling, maximum length and the {@value #SECTION} section. */
    private record Saved(BertConfig bert, Pooling pooling, int maxLength, ObjectNode info) {
        static Saved read(Path dir) throws IOException {
            Path cfg = dir.resolve("config.json"), st = dir.resolve("model.safetensors"), tok = dir.resolve("tokenizer.json");
            if (!Files.isRegularFile(cfg) || !Files.isRegularFile(st) || !Files.isRegularFile(tok)) {
                throw new IOException(dir + " is not a BERT student (needs config.json, model.safetensors, tokenizer.json): "
                        + "build one with 'distill embed distill --student layers:0,4,8'");
            }
            JsonNode config = Json.MAPPER.readTree(cfg.toFile());
            BertConfig bert = BertConfig.fromJson(config);
            JsonNode section = config.path(SECTION);
            Pooling pooling;
            if (section.has("pooling")) {
                pooling = Pooling.parse(section.get("pooling").asText());
            } else {
                JsonNode p = Files.isRegularFile(dir.resolve("1_Pooling/config.json"))
                        ? Json.MAPPER.readTree(dir.resolve("1_Pooling/config.json").toFile()) : Json.object();
                pooling = p.path("pooling_mode_cls_token").asBoolean(false) ? Pooling.CLS : Pooling.MEAN;
            }
            int maxLength = Math.min(section.path("max_length").asInt(bert.maxPositionEmbeddings()), bert.maxPositionEmbeddings());
            return new Saved(bert, pooling, maxLength, section.isObject() ? (ObjectNode) section.deepCopy() : Json.object());
        }
    }

    @Override
    public int dimension() { return encoder.config().hiddenSize(); }

    @Override
    public String name() { return name; }

    @Override
    public void close() {
        manager.close();
        tokenizer.close();
    }
}
