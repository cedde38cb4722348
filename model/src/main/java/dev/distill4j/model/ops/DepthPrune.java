package dev.distill4j.model.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Depth pruning as in Minitron (Muralidharan et al., 2024): a student that keeps some of a teacher's decoder layers,
 * renumbered from 0, with the teacher's embeddings, final norm and LM head, so it starts close to the teacher
 * instead of from noise.
 *
 * <p>Works tensor by tensor from the teacher's files and reads only the kept layers, so a teacher larger than
 * memory in F32 can be pruned into a student that fits. Weights are copied bit for bit: they are saved in the
 * teacher's own dtype, and BF16/F16 → F32 → BF16/F16 is exact.
 */
public final class DepthPrune {
    private static final Pattern LAYER = Pattern.compile("^model\\.layers\\.(\\d+)\\.(.+)$");
    private static final Pattern RANGE = Pattern.compile("^(\\d+)\\s*-\\s*(\\d+)$");

    private DepthPrune() {}

    /** What was written. */
    public record Result(Path dir, ModelConfig config, int[] kept, int teacherLayers, long parameters, DType dtype) {}

    /**
     * Parses a layer list such as {@code 0,2,4} or {@code 0-3,10,11} against a model with {@code layers} layers.
     * Layers must be distinct and ascending: a student keeps the teacher's layer order.
     */
    public static int[] parseLayers(String spec, int layers) {
        if (spec == null || spec.isBlank()) throw new InvalidInputException("the layer list is empty: give e.g. 0,2,4");
        TreeSet<Integer> seen = new TreeSet<>();
        int[] out = new int[0];
        int count = 0;
        for (String part : spec.split(",")) {
            String p = part.trim();
            int from;
            int to;
            Matcher m = RANGE.matcher(p);
            try {
                if (m.matches()) {
                    from = Integer.parseInt(m.group(1));
                    to = Integer.parseInt(m.group(2));
                    if (to < from) throw new InvalidInputException("layer range '" + p + "' runs backwards: write " + to + "-" + from);
                } else {
                    from = to = Integer.parseInt(p);
                }
            } catch (NumberFormatException e) {
                throw new InvalidInputException("'" + p + "' in layer list '" + spec + "' is not a layer number "
                        + "or range (e.g. 0,2,4 or 0-3,8)");
            }
            for (int i = from; i <= to; i++) {
                if (i >= layers) {
                    throw new InvalidInputException("layer " + i + " does not exist: the model has " + layers
                            + " layers, numbered 0.." + (layers - 1));
                }
                if (!seen.add(i)) throw new InvalidInputException("layer " + i + " is listed twice in '" + spec + "'");
                if (count > 0 && i < out[count - 1]) {
                    throw new InvalidInputException("layer list '" + spec + "' is not ascending: a pruned model "
                            + "keeps the teacher's layer order (write " + sortedList(seen) + ")");
                }
                if (count == out.length) out = Arrays.copyOf(out, Math.max(8, 2 * count));
                out[count++] = i;
            }
        }
        return Arrays.copyOf(out, count);
    }

    private static String sortedList(TreeSet<Integer> s) {
        return String.join(",", s.stream().map(String::valueOf).toList());
    }

    /**
     * The teacher's config with {@code kept.length} layers. Per-layer lists some configs carry ({@code layer_types})
     * are cut to the kept layers so the config stays consistent.
     */
    public static ModelConfig prunedConfig(ModelConfig teacher, int[] kept) {
        ObjectNode n = teacher.toJson();
        n.put("num_hidden_layers", kept.length);
        JsonNode types = n.get("layer_types");
        if (types instanceof ArrayNode a && a.size() == teacher.numHiddenLayers()) {
            ArrayNode cut = n.putArray("layer_types");
            for (int i : kept) cut.add(a.get(i));
        }
        if (n.has("max_window_layers") && n.get("max_window_layers").asInt() > kept.length) {
            n.put("max_window_layers", kept.length);
        }
        return ModelConfig.fromJson(n, "the pruned config");
    }

    /** Reads {@code from}, keeps {@code layerSpec}'s layers and writes the student folder to {@code out}. */
    public static Result prune(Path from, String layerSpec, Path out, boolean overwrite) throws IOException {
        try (Checkpoint teacher = Checkpoint.open(from)) {
            teacher.validate();
            ModelConfig tc = teacher.config();
            int[] kept = parseLayers(layerSpec, tc.numHiddenLayers());
            ModelFolders.checkWritable(out, overwrite);
            ModelConfig sc = prunedConfig(tc, kept);
            DType dtype = teacher.info("model.embed_tokens.weight").dtype();
            if (dtype != DType.BF16 && dtype != DType.F16) dtype = DType.F32;
            Checkpoint.SaveOptions options = Checkpoint.SaveOptions.defaults().withDtype(dtype);
            if (Files.isRegularFile(from.resolve("tokenizer.json"))) options = options.withTokenizerFrom(from);
            var gen = GenerationConfig.read(from);
            if (gen.isPresent()) options = options.withGenerationConfig(gen.get());
            Checkpoint.SaveOptions opts = options;
            long params = Checkpoint.parameterCount(sc);
            try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
                Map<String, NDArray> weights = new LinkedHashMap<>();
                for (Checkpoint.ExpectedTensor e : Checkpoint.expectedTensors(sc)) {
                    weights.put(e.name(), teacher.read(manager, teacherName(e.name(), kept)));
                }
                ModelFolders.write(out, overwrite, dir -> Checkpoint.save(dir, sc, weights, opts));
            }
            return new Result(out, sc.withTorchDtype(dtype.torchName()), kept, tc.numHiddenLayers(), params, dtype);
        }
    }

    /** The teacher tensor a student tensor is copied from: student layer i is teacher layer kept[i]. */
    static String teacherName(String studentName, int[] kept) {
        Matcher m = LAYER.matcher(studentName);
        return m.matches() ? "model.layers." + kept[Integer.parseInt(m.group(1))] + "." + m.group(2) : studentName;
    }
}
