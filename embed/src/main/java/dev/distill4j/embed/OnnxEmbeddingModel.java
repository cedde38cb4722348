package dev.distill4j.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A BERT-style sentence encoder exported to ONNX, run in-process by ONNX Runtime, with its own Hugging Face
 * tokenizer (DJL's binding), pooling, truncation and L2 normalisation. Texts are embedded in batches of similar
 * length so padding costs little. Teachers (the built-in ones, an ONNX folder) and the layer-dropped students'
 * ONNX exports both run here.
 */
public final class OnnxEmbeddingModel implements TokenizedEmbeddingModel {
    /** The pretrained encoders shipped inside LangChain4j's Maven Central jars (ONNX + tokenizer.json). */
    public enum Builtin {
        BGE_SMALL_EN_V15("bge-small-en-v1.5", "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json", Pooling.CLS, 512),
        ALL_MINILM_L6_V2("all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json", Pooling.MEAN, 256);

        public final String id;
        final String onnxResource;
        final String tokenizerResource;
        final Pooling pooling;
        final int maxLength;

        Builtin(String id, String onnxResource, String tokenizerResource, Pooling pooling, int maxLength) {
            this.id = id;
            this.onnxResource = onnxResource;
            this.tokenizerResource = tokenizerResource;
            this.pooling = pooling;
            this.maxLength = maxLength;
        }

        public Pooling pooling() { return pooling; }

        /** This model's tokenizer.json, from its jar. */
        public byte[] tokenizerJson() throws IOException { return resource(tokenizerResource); }

        public static Builtin byId(String id) {
            for (Builtin b : values()) if (b.id.equalsIgnoreCase(id)) return b;
            return null;
        }
    }

    private static final int DEFAULT_BATCH = 32;

    private final String name;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final byte[] tokenizerJson;
    private final Pooling pooling;
    private final int maxLength;
    private final int hidden;
    private final boolean needsTypeIds;
    private final int batchSize;
    private final long[] frame;     // tokenize(""), e.g. [CLS] [SEP]: given ids go before the closing special token
    /** BERT's tokenizer in Java where it gives the reference's ids, framed and cut as the reference does; else null. */
    private final WordPieceTokenizer fast;
    private final int vocab;
    private final ModelFootprint footprint;

    private OnnxEmbeddingModel(String name, byte[] onnx, byte[] tokenizerJson, Pooling pooling, int maxLength,
                                 int batchSize) throws IOException {
        this.name = name;
        this.tokenizerJson = tokenizerJson;
        this.pooling = pooling;
        this.maxLength = maxLength;
        this.batchSize = batchSize;
        this.footprint = ModelFootprint.ofOnnx(onnx);
        try {
            env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(onnx, options);
            needsTypeIds = session.getInputNames().contains("token_type_ids");
        } catch (OrtException e) {
            throw new IOException(name + ": ONNX Runtime cannot load the model: " + e.getMessage(), e);
        }
        tokenizer = HfTokenizers.load(tokenizerJson, true, maxLength);
        frame = tokenizer.encode("").getIds();
        JsonNode json = Json.MAPPER.readTree(tokenizerJson);
        fast = WordPieceTokenizer.of(json);
        vocab = HfTokenizers.vocabSize(json);
        hidden = run(new long[][] {tokenizer.encode("a").getIds()}, pooling)[0].length;
    }

    /** A built-in teacher by id ({@code bge-small-en-v1.5}, {@code all-minilm-l6-v2}) or an ONNX model folder. */
    public static OnnxEmbeddingModel load(String teacher) throws IOException {
        Builtin b = Builtin.byId(teacher);
        if (b != null) return load(b);
        Path dir = Path.of(teacher);
        if (Files.isDirectory(dir)) return load(dir, null);
        throw new IOException("unknown teacher '" + teacher + "': use bge-small-en-v1.5, all-minilm-l6-v2 or a folder "
                + "with model.onnx and tokenizer.json");
    }

    /** A model from its .onnx bytes and tokenizer.json, pooled and truncated as given. */
    public static OnnxEmbeddingModel of(String name, byte[] onnx, byte[] tokenizerJson, Pooling pooling, int maxLength)
            throws IOException {
        return new OnnxEmbeddingModel(name, onnx, tokenizerJson, pooling, maxLength, DEFAULT_BATCH);
    }

    public static OnnxEmbeddingModel load(Builtin b) throws IOException {
        return new OnnxEmbeddingModel(b.id, resource(b.onnxResource), resource(b.tokenizerResource), b.pooling,
                b.maxLength, DEFAULT_BATCH);
    }

    /**
     * Loads {@code model.onnx} (or {@code onnx/model.onnx}) and {@code tokenizer.json} from a folder. Pooling is
     * the given one, else sentence-transformers' {@code 1_Pooling/config.json}, else mean.
     */
    public static OnnxEmbeddingModel load(Path dir, Pooling pooling) throws IOException {
        Path onnx = dir.resolve("model.onnx");
        if (!Files.isRegularFile(onnx)) onnx = dir.resolve("onnx/model.onnx");
        Path tok = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(onnx) || !Files.isRegularFile(tok)) {
            throw new IOException(dir + " needs model.onnx (or onnx/model.onnx) and tokenizer.json");
        }
        if (pooling == null) pooling = poolingOf(dir);
        int maxLength = 512;
        Path cfg = dir.resolve("config.json");
        if (Files.isRegularFile(cfg)) {
            maxLength = Math.min(maxLength, Json.MAPPER.readTree(cfg.toFile()).path("max_position_embeddings").asInt(512));
        }
        return new OnnxEmbeddingModel(dir.getFileName().toString(), Files.readAllBytes(onnx), Files.readAllBytes(tok),
                pooling, maxLength, DEFAULT_BATCH);
    }

    /** The .onnx bytes of a teacher spec ({@link #load(String)}'s), for importing its weights. */
    public static byte[] onnxBytes(String teacher) throws IOException {
        Builtin b = Builtin.byId(teacher);
        if (b != null) return resource(b.onnxResource);
        Path onnx = Path.of(teacher).resolve("model.onnx");
        if (!Files.isRegularFile(onnx)) onnx = Path.of(teacher).resolve("onnx/model.onnx");
        if (!Files.isRegularFile(onnx)) throw new IOException("no model.onnx (or onnx/model.onnx) for teacher '" + teacher + "'");
        return Files.readAllBytes(onnx);
    }

    private static Pooling poolingOf(Path dir) throws IOException {
        Path p = dir.resolve("1_Pooling/config.json");
        if (!Files.isRegularFile(p)) return Pooling.MEAN;
        JsonNode n = Json.MAPPER.readTree(p.toFile());
        return n.path("pooling_mode_cls_token").asBoolean(false) ? Pooling.CLS : Pooling.MEAN;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = OnnxEmbeddingModel.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) throw new IOException("resource " + name + " is not on the classpath (the langchain4j-embeddings jar is missing)");
            return in.readAllBytes();
        }
    }

    @Override
    public boolean acceptsTokenIds() { return true; }

    /** Wraps each input in the model's special tokens and truncates it as a text would be, then embeds. */
    @Override
    public float[][] embedTokenIds(List<long[]> ids) {
        long[][] framed = new long[ids.size()][];
        for (int i = 0; i < framed.length; i++) {
            for (long id : ids.get(i)) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("token id " + id + " in input " + i + " is outside "
                            + name + "'s vocabulary (0.." + (vocab - 1) + ")");
                }
            }
            framed[i] = withSpecialTokens(ids.get(i));
        }
        return embedIds(framed);
    }

    /**
     * {@code ids} inside the special tokens a text gets ({@code [CLS] ids [SEP]}), cut to the model's maximum
     * length as the tokenizer cuts a text.
     */
    public long[] withSpecialTokens(long[] ids) {
        if (frame.length == 0) return Arrays.copyOf(ids, Math.min(ids.length, maxLength));
        int keep = Math.min(ids.length, maxLength - frame.length);
        long[] x = new long[frame.length + keep];
        System.arraycopy(frame, 0, x, 0, frame.length - 1);
        System.arraycopy(ids, 0, x, frame.length - 1, keep);
        x[x.length - 1] = frame[frame.length - 1];
        return x;
    }

    /** Embeds already tokenised inputs (special tokens included); batches by length, returns in input order. */
    @Override
    public float[][] embedIds(long[][] ids) { return embedIds(ids, pooling); }

    /** As {@link #embedIds(long[][])} with another pooling than the model's own. */
    public float[][] embedIds(long[][] ids, Pooling pooling) {
        Integer[] order = new Integer[ids.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> ids[i].length));
        float[][] out = new float[ids.length][];
        for (int start = 0; start < order.length; start += batchSize) {
            int end = Math.min(order.length, start + batchSize);
            long[][] batch = new long[end - start][];
            for (int i = start; i < end; i++) batch[i - start] = ids[order[i]];
            float[][] vs = run(batch, pooling);
            for (int i = start; i < end; i++) out[order[i]] = vs[i - start];
        }
        return out;
    }

    /**
     * A BERT-style encoder's inputs for a batch of token-id rows: ids padded with 0 to the longest row, the attention
     * mask marking the real tokens, and zero token types when the graph takes them. The caller closes the tensors.
     */
    public static Map<String, OnnxTensor> inputs(OrtEnvironment env, long[][] batch, boolean typeIds) throws OrtException {
        int b = batch.length, t = 0;
        for (long[] x : batch) t = Math.max(t, x.length);
        long[] ids = new long[b * t], mask = new long[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(batch[i], 0, ids, i * t, batch[i].length);
            Arrays.fill(mask, i * t, i * t + batch[i].length, 1L);
        }
        long[] shape = {b, t};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            if (typeIds) inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b * t]), shape));
            return inputs;
        } catch (OrtException | RuntimeException e) {
            inputs.values().forEach(OnnxTensor::close);
            throw e;
        }
    }

    private float[][] run(long[][] batch, Pooling pooling) {
        int b = batch.length, t = 0;
        for (long[] x : batch) t = Math.max(t, x.length);
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs = inputs(env, batch, needsTypeIds);
            try (OrtSession.Result r = session.run(inputs)) {
                OnnxTensor states = (OnnxTensor) r.get(0);
                long[] s = states.getInfo().getShape();
                int h = (int) s[2];
                FloatBuffer fb = states.getFloatBuffer();
                float[] flat = new float[fb.remaining()];
                fb.get(flat);
                float[][] out = new float[b][];
                for (int i = 0; i < b; i++) out[i] = Vectors.normalize(pooling.pool(flat, i * t * h, batch[i].length, h));
                return out;
            }
        } catch (OrtException e) {
            throw new IllegalStateException(name + ": ONNX Runtime failed: " + e.getMessage(), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /** Token ids of {@code text} with the special tokens the model expects ([CLS] … [SEP]). */
    public long[] tokenize(String text) {
        long[] ids = fast == null ? null : fast.encode(text);
        return ids != null ? withSpecialTokens(ids) : tokenizer.encode(text).getIds();
    }

    /** The tokenizer.json this teacher uses, so a student can share the vocabulary. */
    public byte[] tokenizerJson() { return tokenizerJson.clone(); }

    public Pooling pooling() { return pooling; }

    public int maxLength() { return maxLength; }

    /** Parameters (initialiser elements) and bytes of the ONNX file, for efficiency reports. */
    public ModelFootprint footprint() { return footprint; }

    @Override
    public int dimension() { return hidden; }

    @Override
    public String name() { return name; }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
        tokenizer.close();
    }

}
