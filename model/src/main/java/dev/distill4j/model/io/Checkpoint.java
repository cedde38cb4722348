package dev.distill4j.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.nn.CausalLM;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Hugging Face model folder: {@code config.json} plus weights in {@code model.safetensors} or in shards listed
 * by {@code model.safetensors.index.json}. Opening maps the files and reads their headers; {@link #validate()}
 * checks every tensor the config implies (name, float dtype, shape); {@link #load} returns them as F32 NDArrays
 * keyed by HF name. {@link #save} writes the layout transformers and vLLM load.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String CONFIG_FILE = "config.json";
    /** HF's default {@code max_shard_size} ("5GB", decimal). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;
    /** Tokenizer files copied next to saved weights when present in the source folder. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "chat_template.jinja", "chat_template.json", "added_tokens.json", "vocab.json",
            "merges.txt", "tokenizer.model");

    private static final Logger log = LoggerFactory.getLogger(Checkpoint.class);
    private static final Pattern SHARD_NAME = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

    /** A tensor the config implies, with the shape HF's modelling code creates for it. */
    public record ExpectedTensor(String name, long[] shape) {
        public ExpectedTensor {
            shape = shape.clone();
        }

        @Override
        public long[] shape() { return shape.clone(); }

        public long numel() { return SafetensorsWriter.numel(shape); }

        @Override
        public boolean equals(Object o) {
            return o instanceof ExpectedTensor e && name.equals(e.name) && Arrays.equals(shape, e.shape);
        }

        @Override
        public int hashCode() { return name.hashCode() * 31 + Arrays.hashCode(shape); }

        @Override
        public String toString() { return name + Arrays.toString(shape); }
    }

    /**
     * How to save.
     *
     * @param dtype             F32, BF16 (round to nearest even) or F16
     * @param maxShardBytes     tensor bytes per file before a new shard starts; a tensor larger than this gets a
     *                          shard of its own, as in HF
     * @param tokenizerSource   folder whose tokenizer files are copied alongside, or null
     * @param generationConfig  written as generation_config.json, or null for none
     */
    public record SaveOptions(DType dtype, long maxShardBytes, Path tokenizerSource, GenerationConfig generationConfig) {
        public SaveOptions {
            if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
                throw new InvalidInputException("checkpoints are saved as F32, BF16 or F16, not " + dtype);
            }
            if (maxShardBytes <= 0) throw new IllegalArgumentException("maxShardBytes must be positive");
        }

        public static SaveOptions defaults() {
            return new SaveOptions(DType.BF16, DEFAULT_MAX_SHARD_BYTES, null, null);
        }

        public SaveOptions withDtype(DType d) { return new SaveOptions(d, maxShardBytes, tokenizerSource, generationConfig); }

        public SaveOptions withMaxShardBytes(long b) { return new SaveOptions(dtype, b, tokenizerSource, generationConfig); }

        public SaveOptions withTokenizerFrom(Path dir) { return new SaveOptions(dtype, maxShardBytes, dir, generationConfig); }

        public SaveOptions withGenerationConfig(GenerationConfig g) { return new SaveOptions(dtype, maxShardBytes, tokenizerSource, g); }
    }

    private final Path dir;
    private final ModelConfig config;
    private final List<SafetensorsReader> files;
    private final Map<String, SafetensorsReader> byTensor;

    private Checkpoint(Path dir, ModelConfig config, List<SafetensorsReader> files,
                       Map<String, SafetensorsReader> byTensor) {
        this.dir = dir;
        this.config = config;
        this.files = files;
        this.byTensor = byTensor;
    }

    /** Reads config.json and maps the weight files; does not validate tensors (see {@link #validate()}). */
    public static Checkpoint open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + " is not a folder: expected a Hugging Face model folder");
        ModelConfig config;
        try {
            config = ModelConfig.read(dir);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        List<SafetensorsReader> files = new ArrayList<>();
        Map<String, SafetensorsReader> byTensor = new TreeMap<>();
        try {
            Path index = dir.resolve(INDEX_FILE);
            Path single = dir.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) {
                // transformers prefers the single file too when both exist
                SafetensorsReader r = SafetensorsReader.open(single);
                files.add(r);
                for (String n : r.names()) byTensor.put(n, r);
            } else if (Files.isRegularFile(index)) {
                openShards(index, files, byTensor);
            } else {
                throw new IOException("no " + SINGLE_FILE + " or " + INDEX_FILE + " in " + dir
                        + (Files.exists(dir.resolve("pytorch_model.bin"))
                        ? ": only pytorch_model.bin found; re-save the model with safe_serialization=True" : ""));
            }
        } catch (IOException | RuntimeException e) {
            files.forEach(SafetensorsReader::close);
            throw e;
        }
        return new Checkpoint(dir, config, List.copyOf(files), Collections.unmodifiableMap(byTensor));
    }

    private static void openShards(Path index, List<SafetensorsReader> files, Map<String, SafetensorsReader> byTensor)
            throws IOException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(index));
        } catch (IOException e) {
            throw new IOException(index + " is not valid JSON: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new IOException(index + ": missing weight_map object");
        Map<String, SafetensorsReader> byFile = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String fileName = e.getValue().asText();
            if (fileName.isEmpty() || fileName.contains("/") || fileName.contains("\\") || fileName.startsWith(".")) {
                throw new IOException(index + ": tensor '" + e.getKey() + "' names an invalid shard file '"
                        + fileName + "'");
            }
            Path shard = index.resolveSibling(fileName);
            SafetensorsReader r = byFile.get(fileName);
            if (r == null) {
                if (!Files.isRegularFile(shard)) {
                    throw new IOException(index + ": tensor '" + e.getKey() + "' is in " + fileName
                            + ", which does not exist (incomplete download?)");
                }
                r = SafetensorsReader.open(shard);
                byFile.put(fileName, r);
                files.add(r);
            }
            if (!r.contains(e.getKey())) {
                throw new IOException(r.file() + ": tensor '" + e.getKey() + "' is listed in " + INDEX_FILE
                        + " but not in this file");
            }
            byTensor.put(e.getKey(), r);
        }
    }

    public Path dir() { return dir; }

    public ModelConfig config() { return config; }

    /** Every tensor in the weight files, expected or not, sorted. */
    public Set<String> tensorNames() { return byTensor.keySet(); }

    public TensorInfo info(String name) throws IOException {
        SafetensorsReader r = byTensor.get(name);
        if (r == null) throw new IOException(dir + ": no tensor '" + name + "'");
        return r.info(name);
    }

    /** One tensor as F32, for callers that load layer by layer instead of all at once. */
    public NDArray read(NDManager manager, String name) throws IOException {
        SafetensorsReader r = byTensor.get(name);
        if (r == null) throw new IOException(dir + ": no tensor '" + name + "'");
        return r.read(manager, name);
    }

    /** The weight file holding {@code name}. */
    public Path fileOf(String name) throws IOException {
        SafetensorsReader r = byTensor.get(name);
        if (r == null) throw new IOException(dir + ": no tensor '" + name + "'");
        return r.file();
    }

    /**
     * The tensors of a model with this config, in the order HF's modelling code registers them: the model's own
     * parameter list ({@link CausalLM#parameterShapes}), so a checkpoint is checked against what the model reads.
     */
    public static List<ExpectedTensor> expectedTensors(ModelConfig c) {
        List<ExpectedTensor> out = new ArrayList<>();
        CausalLM.parameterShapes(c).forEach((name, shape) -> out.add(new ExpectedTensor(name, shape.getShape())));
        return out;
    }

    /** Parameters of a model with this config (tied embeddings counted once). */
    public static long parameterCount(ModelConfig c) {
        long n = 0;
        for (ExpectedTensor t : expectedTensors(c)) n += t.numel();
        return n;
    }

    /**
     * Checks that every expected tensor is present, a float type and the right shape; lists all problems in one
     * message. Tensors the config does not imply (e.g. {@code rotary_emb.inv_freq}, or {@code lm_head.weight}
     * when embeddings are tied) are ignored.
     */
    public void validate() throws IOException {
        List<String> problems = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (ExpectedTensor e : expectedTensors(config)) {
            SafetensorsReader r = byTensor.get(e.name());
            if (r == null) {
                missing.add(e.name());
                continue;
            }
            TensorInfo t = r.info(e.name());
            // distill4j's saved int8 (model.engine.Int8Checkpoint): I8 matrices with F32 block scales beside them
            boolean int8 = t.dtype() == DType.I8 && byTensor.containsKey(e.name() + "_scale") && "distill4j_int8"
                    .equals(config.raw().path("quantization_config").path("quant_method").asText(null));
            if (!t.dtype().isFloating() && !int8) {
                problems.add(r.file() + ": tensor '" + e.name() + "' is " + t.dtype() + ", expected a float type");
            } else if (!Arrays.equals(t.shape(), e.shape())) {
                problems.add(r.file() + ": tensor '" + e.name() + "' has shape " + t.shapeString() + " but "
                        + dir.resolve(CONFIG_FILE) + " implies " + Arrays.toString(e.shape()));
            }
        }
        if (!missing.isEmpty()) {
            problems.add(0, dir + ": " + missing.size() + " tensor(s) that config.json (" + config.modelType() + ", "
                    + config.numHiddenLayers() + " layers) implies are missing: " + abbreviate(missing)
                    + " (do config.json and the weights belong to the same model?)");
        }
        if (!problems.isEmpty()) throw new IOException(String.join("\n", problems));
        Set<String> expected = new LinkedHashSet<>();
        expectedTensors(config).forEach(e -> expected.add(e.name()));
        for (String n : byTensor.keySet()) {
            if (!expected.contains(n)) log.debug("{}: ignoring tensor '{}' that {} does not use", dir, n, config.modelType());
        }
    }

    private static String abbreviate(List<String> names) {
        int shown = Math.min(5, names.size());
        String s = String.join(", ", names.subList(0, shown));
        return names.size() > shown ? s + ", ... (" + (names.size() - shown) + " more)" : s;
    }

    /** Validates, then reads every expected tensor as an F32 NDArray in {@code manager}, keyed by HF name. */
    public Map<String, NDArray> load(NDManager manager) throws IOException {
        validate();
        Map<String, NDArray> out = new LinkedHashMap<>();
        try {
            for (ExpectedTensor e : expectedTensors(config)) {
                NDArray a = byTensor.get(e.name()).read(manager, e.name());
                a.setName(e.name());
                out.put(e.name(), a);
            }
        } catch (IOException | RuntimeException ex) {
            out.values().forEach(NDArray::close);
            throw ex;
        }
        return out;
    }

    /** Reads config.json, validates and loads; the files are unmapped before returning. */
    public static Map<String, NDArray> load(Path dir, NDManager manager) throws IOException {
        try (Checkpoint c = open(dir)) {
            return c.load(manager);
        }
    }

    @Override
    public void close() {
        files.forEach(SafetensorsReader::close);
    }

    /**
     * Writes a Hugging Face model folder: config.json ({@code torch_dtype} set to the saved dtype), the weights
     * as one {@code model.safetensors} or as {@code model-0000i-of-0000N.safetensors} shards with
     * {@code model.safetensors.index.json}, optionally generation_config.json and the tokenizer files of
     * {@code options.tokenizerSource()}. Each file appears atomically; weight files of an earlier save that the
     * new layout does not use are removed last, so an interrupted save never leaves a folder that loads the
     * wrong weights silently.
     */
    public static void save(Path dir, ModelConfig cfg, Map<String, NDArray> weights, SaveOptions options)
            throws IOException {
        List<ExpectedTensor> expected = expectedTensors(cfg);
        Set<String> expectedNames = new LinkedHashSet<>();
        List<String> missing = new ArrayList<>();
        for (ExpectedTensor e : expected) {
            expectedNames.add(e.name());
            NDArray a = weights.get(e.name());
            if (a == null) {
                missing.add(e.name());
                continue;
            }
            long[] shape = a.getShape().getShape();
            if (!Arrays.equals(shape, e.shape())) {
                throw new IllegalArgumentException("cannot save " + dir + ": tensor '" + e.name() + "' has shape "
                        + Arrays.toString(shape) + " but the config implies " + Arrays.toString(e.shape()));
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("cannot save " + dir + ": " + missing.size()
                    + " tensor(s) the config implies are missing: " + abbreviate(missing));
        }
        for (String n : weights.keySet()) {
            if (!expectedNames.contains(n)) log.debug("not saving tensor '{}': {} does not use it", n, cfg.modelType());
        }
        Files.createDirectories(dir);

        List<List<ExpectedTensor>> shards = planShards(expected, options);
        Set<String> written = new LinkedHashSet<>();
        long totalBytes = 0;
        Map<String, String> weightMap = new TreeMap<>();
        for (int s = 0; s < shards.size(); s++) {
            String fileName = shards.size() == 1 ? SINGLE_FILE
                    : String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
            SafetensorsWriter w = new SafetensorsWriter();
            for (ExpectedTensor e : shards.get(s)) {
                w.add(e.name(), weights.get(e.name()));
                weightMap.put(e.name(), fileName);
            }
            totalBytes += w.dataBytes(options.dtype());
            w.write(dir.resolve(fileName), options.dtype());
            written.add(fileName);
        }
        if (shards.size() > 1) {
            ObjectNode index = Json.object();
            index.putObject("metadata").put("total_size", totalBytes);
            ObjectNode wm = index.putObject("weight_map");
            weightMap.forEach(wm::put);
            AtomicFiles.writeString(dir.resolve(INDEX_FILE), Json.writePretty(index) + "\n");
            written.add(INDEX_FILE);
        }
        AtomicFiles.writeString(dir.resolve(CONFIG_FILE),
                Json.writePretty(cfg.withTorchDtype(options.dtype().torchName()).toJson()) + "\n");
        if (options.generationConfig() != null) options.generationConfig().write(dir);
        if (options.tokenizerSource() != null) copyTokenizer(options.tokenizerSource(), dir);
        removeStaleWeights(dir, written);
    }

    /** Greedy in registration order, so layers stay together and shard 1 holds the embeddings, as in HF. */
    private static List<List<ExpectedTensor>> planShards(List<ExpectedTensor> tensors, SaveOptions o) {
        List<List<ExpectedTensor>> shards = new ArrayList<>();
        List<ExpectedTensor> current = new ArrayList<>();
        long bytes = 0;
        for (ExpectedTensor t : tensors) {
            long b = t.numel() * o.dtype().bytes();
            if (!current.isEmpty() && bytes + b > o.maxShardBytes()) {
                shards.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(t);
            bytes += b;
        }
        if (!current.isEmpty()) shards.add(current);
        return shards;
    }

    private static void copyTokenizer(Path src, Path dst) throws IOException {
        if (!Files.isDirectory(src)) throw new IOException("tokenizer source " + src + " is not a folder");
        if (Files.isSameFile(src, dst)) return;
        boolean any = false;
        for (String f : TOKENIZER_FILES) {
            Path p = src.resolve(f);
            if (Files.isRegularFile(p)) {
                AtomicFiles.write(dst.resolve(f), out -> Files.copy(p, out));
                any = true;
            }
        }
        if (!any) throw new IOException("no tokenizer files (tokenizer.json, ...) in " + src + " to copy");
    }

    private static void removeStaleWeights(Path dir, Set<String> keep) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                boolean weightFile = n.equals(SINGLE_FILE) || n.equals(INDEX_FILE) || SHARD_NAME.matcher(n).matches();
                if (weightFile && !keep.contains(n)) {
                    Files.delete(p);
                    log.debug("removed stale weight file {}", p);
                }
            }
        }
    }
}
