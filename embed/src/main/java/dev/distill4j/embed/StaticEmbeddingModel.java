package dev.distill4j.embed;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.io.SafetensorsReader;
import dev.distill4j.model.io.SafetensorsWriter;
import dev.distill4j.model.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A static (Model2Vec-style) sentence embedder: one vector per vocabulary token, a sentence is the normalised
 * sum of its tokens' vectors. No transformer runs at inference; tokenising is most of the cost.
 *
 * <p>Folder layout: {@code tokenizer.json}, {@code model.safetensors} (tensor {@code embeddings} [V, d], F32, the
 * frequency weights already folded in), {@code config.json}.
 */
public final class StaticEmbeddingModel implements EmbeddingModel {
    public static final String TENSOR = "embeddings";
    /** Below this many texts, splitting the work across threads costs more than it saves. */
    private static final int PARALLEL_FROM = 64;

    private final String name;
    private final HuggingFaceTokenizer tokenizer;
    /** BERT's tokenizer in Java where it gives the reference's ids (most real text, several times faster), else null. */
    private final WordPieceTokenizer fast;
    private final byte[] tokenizerJson;
    private final float[] table;  // [V, d] row-major
    private final int vocab;
    private final int dim;
    private final ObjectNode config;

    public StaticEmbeddingModel(String name, byte[] tokenizerJson, float[] table, int vocab, int dim, ObjectNode config)
            throws IOException {
        if ((long) vocab * dim != table.length) throw new IllegalArgumentException("table holds " + table.length + " floats, not " + vocab + "×" + dim);
        this.name = name;
        this.tokenizerJson = tokenizerJson;
        this.table = table;
        this.vocab = vocab;
        this.dim = dim;
        this.config = config;
        this.tokenizer = HfTokenizers.load(tokenizerJson, false, 0);
        this.fast = WordPieceTokenizer.of(Json.MAPPER.readTree(tokenizerJson));
    }

    @Override
    public float[][] embed(List<String> texts) { return embedCounting(texts).vectors(); }

    @Override
    public Embedded embedCounting(List<String> texts) {
        float[][] out = new float[texts.size()][];
        int[] tokens = new int[out.length];
        IntStream indices = IntStream.range(0, out.length);
        // Texts are independent and the table is read-only: a large request uses every core, as the ONNX teacher does
        if (out.length >= PARALLEL_FROM) indices = indices.parallel();
        indices.forEach(i -> {
            long[] ids = tokenize(texts.get(i));
            out[i] = embedOne(ids);
            tokens[i] = ids.length;
        });
        return new Embedded(out, tokens);
    }

    @Override
    public int countTokens(String text) { return tokenize(text).length; }

    @Override
    public boolean acceptsTokenIds() { return true; }

    @Override
    public float[][] embedTokenIds(List<long[]> ids) {
        for (int i = 0; i < ids.size(); i++) {
            for (long id : ids.get(i)) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("token id " + id + " in input " + i + " is outside "
                            + name + "'s vocabulary (0.." + (vocab - 1) + ")");
                }
            }
        }
        float[][] out = new float[ids.size()][];
        for (int i = 0; i < out.length; i++) out[i] = embedOne(ids.get(i));
        return out;
    }

    /** Token ids of {@code text}, no special tokens: the rows a sentence sums. */
    public long[] tokenize(String text) {
        long[] ids = fast == null ? null : fast.encode(text);
        return ids != null ? ids : tokenizer.encode(text, false, false).getIds();
    }

    private float[] embedOne(long[] ids) { return pool(table, dim, inTable(ids)); }

    /** The table rows a text looks up: its tokens without special tokens, ids outside the table dropped. */
    int[] tokenIds(String text) { return inTable(tokenize(text)); }

    private int[] inTable(long[] ids) {
        return java.util.Arrays.stream(ids).filter(id -> id >= 0 && id < vocab).mapToInt(id -> (int) id).toArray();
    }

    /** The sentence vector: the normalised sum of rows {@code ids} of a row-major [·, dim] table. */
    static float[] pool(float[] table, int dim, int[] ids) {
        float[] v = new float[dim];
        for (int id : ids) {
            int base = id * dim;
            for (int k = 0; k < dim; k++) v[k] += table[base + k];
        }
        // Normalising makes the sum and the mean the same direction, so no division by the token count
        return Vectors.normalize(v);
    }

    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeBytes(dir.resolve("tokenizer.json"), tokenizerJson);
        new SafetensorsWriter().metadata("format", "distill4j-static")
                .add(TENSOR, table, vocab, dim).write(dir.resolve("model.safetensors"), DType.F32);
        AtomicFiles.writeString(dir.resolve("config.json"), Json.writePretty(config));
    }

    public static StaticEmbeddingModel load(Path dir) throws IOException {
        Path cfg = dir.resolve("config.json"), st = dir.resolve("model.safetensors"), tok = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(cfg) || !Files.isRegularFile(st) || !Files.isRegularFile(tok)) {
            throw new IOException(dir + " is not a static student (needs config.json, model.safetensors, tokenizer.json): "
                    + "build one with 'distill embed distill'");
        }
        JsonNode config = Json.MAPPER.readTree(cfg.toFile());
        try (SafetensorsReader r = SafetensorsReader.open(st)) {
            if (!r.contains(TENSOR)) throw new IOException(st + " has no '" + TENSOR + "' tensor");
            TensorInfo info = r.info(TENSOR);
            long[] shape = info.shape();
            if (shape.length != 2) throw new IOException(st + ": '" + TENSOR + "' must be [vocab, dim]");
            return new StaticEmbeddingModel(dir.getFileName().toString(), Files.readAllBytes(tok), r.readFloats(TENSOR),
                    (int) shape[0], (int) shape[1], config.isObject() ? (ObjectNode) config : Json.object());
        }
    }

    /** Row {@code id} of the table (a copy). */
    public float[] row(int id) {
        float[] r = new float[dim];
        System.arraycopy(table, id * dim, r, 0, dim);
        return r;
    }

    /** The whole [V, d] table (a copy). */
    public float[] tableCopy() { return table.clone(); }

    /** The tokenizer.json bytes the student tokenises with (a copy). */
    public byte[] tokenizerJson() { return tokenizerJson.clone(); }

    public int vocabSize() { return vocab; }

    public ObjectNode config() { return config.deepCopy(); }

    @Override
    public int dimension() { return dim; }

    @Override
    public String name() { return name; }

    @Override
    public void close() { tokenizer.close(); }
}
