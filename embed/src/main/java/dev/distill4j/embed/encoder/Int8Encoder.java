package dev.distill4j.embed.encoder;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.embed.HfTokenizers;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.Pooling;
import dev.distill4j.model.ops.ModelFolders;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * An ONNX sentence encoder with int8 dense layers: a built-in teacher, a layers student, or any ONNX encoder folder,
 * copied to a new folder whose {@code model.onnx} is {@link OnnxQuantize}'s dynamic int8 graph with SmoothQuant
 * calibrated on sentences of the user's domain. Everything else in the folder (tokenizer, pooling, the float
 * safetensors a layers student keeps for training and for sentence-transformers) is copied as it is, and
 * {@value #REPORT} says what was done. The folder loads wherever an embedding model folder is taken; ONNX Runtime
 * runs the int8 graph.
 */
public final class Int8Encoder {
    private Int8Encoder() {}

    /** SmoothQuant's migration strength; 0.75 measured best on bge-small over real text (docs/embed.md). */
    public static final double DEFAULT_ALPHA = 0.75;
    /** Calibration sentences by default: the ranges settle within a few hundred. */
    public static final int DEFAULT_CALIBRATION = 256;
    public static final String REPORT = "quantization.json";
    private static final int BATCH = 32;
    /** Calibration sentences are cut at BERT's position limit, as the encoders embed them. */
    private static final int MAX_LENGTH = 512;

    /**
     * How the int8 graph is written: SmoothQuant's {@code alpha} (unused without calibration sentences);
     * {@code tokenRanges} quantises the feed-forward output's input with one range per token ({@link
     * OnnxQuantize#int8(byte[], java.util.function.Predicate, Map, double, boolean)}): closer to the float model and,
     * with the tanh GELU, 0–3 % slower, so the CLI's default; {@code exactGelu} keeps the erf GELU instead of its
     * tanh form ({@link OnnxGelu#tanhGelu}), which runs faster and moves the embeddings by much less than int8's
     * rounding does.
     */
    public record Recipe(double alpha, boolean tokenRanges, boolean exactGelu) {
        public Recipe {
            if (!(alpha > 0 && alpha < 1)) throw new InvalidInputException("alpha must be between 0 and 1, got " + alpha);
        }
    }

    public record Result(Path out, int matmuls, long floatWeightBytes, long int8WeightBytes, long onnxBytesBefore,
                         long onnxBytesAfter, int calibrationSentences, Recipe recipe, int tokenRangeInputs,
                         int tanhGelus) {
        /** One line for a terminal: what was quantised, how, and the sizes before and after. */
        public String summary() {
            return String.format(Locale.ROOT, "%d dense layers in int8 (%s%s%s), weights %.1f MB -> %.1f MB, "
                            + "model.onnx %.1f MB -> %.1f MB", matmuls,
                    calibrationSentences == 0 ? "dynamic" : String.format(Locale.ROOT,
                            "SmoothQuant alpha %.2f on %d sentences", recipe.alpha(), calibrationSentences),
                    tokenRangeInputs > 0 ? ", per-token ranges for " + tokenRangeInputs + " feed-forward outputs" : "",
                    tanhGelus > 0 ? ", " + tanhGelus + " GELUs in tanh form" : "",
                    floatWeightBytes / 1e6, int8WeightBytes / 1e6, onnxBytesBefore / 1e6, onnxBytesAfter / 1e6);
        }

        /** A line for stderr when per-token ranges were asked for and changed nothing in this model, else null. */
        public String note() {
            return recipe.tokenRanges() && tokenRangeInputs == 0
                    ? "note: --token-ranges changed nothing: this model has no down-projection (a weight with more rows "
                    + "than columns, as a full-width feed-forward output has; --ffn-width at or under the hidden size "
                    + "leaves none)" : null;
        }
    }

    /**
     * Writes the int8 copy of {@code source} (a built-in teacher id or a folder with {@code model.onnx} or
     * {@code onnx/model.onnx} and {@code tokenizer.json}) to {@code out}, which must not exist; {@code calibration}
     * sentences set the SmoothQuant ranges (none: plain dynamic int8); {@code recipe} says how the graph is written.
     */
    public static Result write(String source, Path out, List<String> calibration, Recipe recipe) throws IOException {
        if (Files.exists(out)) throw new InvalidInputException(out + " already exists: give a new folder");
        OnnxEmbeddingModel.Builtin builtin = OnnxEmbeddingModel.Builtin.byId(source);
        Path dir = builtin == null ? Path.of(source) : null;
        byte[] onnx, tokenizer;
        Path onnxFile;
        if (builtin != null) {
            onnx = OnnxEmbeddingModel.onnxBytes(builtin.id);
            tokenizer = builtin.tokenizerJson();
            onnxFile = Path.of("model.onnx");
        } else {
            if (!Files.isDirectory(dir)) {
                throw new InvalidInputException("no model folder at " + dir + " (and '" + source + "' is not a built-in "
                        + "teacher: bge-small-en-v1.5, all-minilm-l6-v2)");
            }
            onnxFile = Files.isRegularFile(dir.resolve("model.onnx")) ? Path.of("model.onnx") : Path.of("onnx", "model.onnx");
            if (!Files.isRegularFile(dir.resolve(onnxFile)) || !Files.isRegularFile(dir.resolve("tokenizer.json"))) {
                throw new InvalidInputException(dir + " needs model.onnx (or onnx/model.onnx) and tokenizer.json; a "
                        + "layers student saved without its teacher's graph has no model.onnx to quantise");
            }
            onnx = Files.readAllBytes(dir.resolve(onnxFile));
            tokenizer = Files.readAllBytes(dir.resolve("tokenizer.json"));
        }

        Quantised q = quantise(onnx, tokenizer, calibration, recipe);

        // assembled beside the target, then one rename: a killed run leaves no half-written model folder behind
        ModelFolders.write(out, false, tmp -> {
            if (builtin != null) {
                Files.write(tmp.resolve("tokenizer.json"), tokenizer);
                writePooling(tmp, builtin.pooling(), OnnxGraph.parseStructure(onnx));
            } else {
                copyTree(dir, tmp, onnxFile);
            }
            Files.createDirectories(tmp.resolve(onnxFile).getParent());
            Files.write(tmp.resolve(onnxFile), q.model());
            writeReport(tmp, source, q.result(out, onnx.length, calibration.size(), recipe));
        });
        return q.result(out, onnx.length, calibration.size(), recipe);
    }

    /**
     * Replaces the float {@code model.onnx} of a folder (a layers student just saved) by its int8 graph, calibrated on
     * {@code calibration}, as {@link #write} does; the safetensors stay float. The new file replaces the old in one
     * rename.
     */
    public static Result inPlace(Path dir, List<String> calibration, Recipe recipe) throws IOException {
        Path onnxFile = dir.resolve("model.onnx");
        if (!Files.isRegularFile(onnxFile)) throw new InvalidInputException(dir + " has no model.onnx to quantise");
        byte[] onnx = Files.readAllBytes(onnxFile);
        Quantised q = quantise(onnx, Files.readAllBytes(dir.resolve("tokenizer.json")), calibration, recipe);
        Result result = q.result(dir, onnx.length, calibration.size(), recipe);
        AtomicFiles.writeBytes(onnxFile, q.model());
        writeReport(dir, dir.toString(), result);
        return result;
    }

    /** The int8 graph and what went into it. */
    private record Quantised(byte[] model, OnnxQuantize.Report report, int tanhGelus) {
        Result result(Path out, long bytesBefore, int calibrationSentences, Recipe recipe) {
            return new Result(out, report.matmuls(), report.floatWeightBytes(), report.int8WeightBytes(), bytesBefore,
                    model.length, calibrationSentences, recipe, report.tokenRangeInputs(), tanhGelus);
        }
    }

    private static Quantised quantise(byte[] onnx, byte[] tokenizer, List<String> calibration, Recipe recipe)
            throws IOException {
        Map<String, float[]> ranges = calibration.isEmpty() ? Map.of() : calibrate(onnx, tokenizer, calibration);
        OnnxQuantize.Report report = OnnxQuantize.int8(onnx, name -> true, ranges, recipe.alpha(), recipe.tokenRanges());
        if (recipe.exactGelu()) return new Quantised(report.model(), report, 0);
        OnnxGelu.GeluRewrite gelu = OnnxGelu.tanhGelu(report.model());
        return new Quantised(gelu.model(), report, gelu.replaced());
    }

    /**
     * SmoothQuant's ranges ({@link OnnxQuantize#calibrate}) of every quantisable MatMul input of {@code onnx}, over
     * {@code sentences} tokenised with {@code tokenizer} (tokenizer.json bytes) in batches of {@value #BATCH}.
     */
    public static Map<String, float[]> calibrate(byte[] onnx, byte[] tokenizer, List<String> sentences) throws IOException {
        HuggingFaceTokenizer tok = HfTokenizers.load(tokenizer, true, MAX_LENGTH);
        List<long[][]> batches = new ArrayList<>();
        for (int i = 0; i < sentences.size(); i += BATCH) {
            List<String> part = sentences.subList(i, Math.min(sentences.size(), i + BATCH));
            long[][] ids = new long[part.size()][];
            for (int j = 0; j < ids.length; j++) ids[j] = tok.encode(part.get(j)).getIds();
            batches.add(ids);
        }
        return OnnxQuantize.calibrate(onnx, name -> true, batches);
    }

    private static void writeReport(Path dir, String source, Result r) throws IOException {
        ObjectNode info = Json.object();
        info.put("source", source);
        info.put("method", r.calibrationSentences() == 0 ? "dynamic int8" : "dynamic int8 with SmoothQuant");
        info.put("weights", "int8, symmetric, one scale per output column");
        info.put("activations", "uint8, asymmetric, one range per tensor per batch (DynamicQuantizeLinear)"
                + (r.recipe().tokenRanges() ? "; feed-forward outputs' inputs: one range per token, zero point "
                        + OnnxQuantize.TOKEN_ZERO_POINT : ""));
        info.put("token_ranges", r.recipe().tokenRanges());
        info.put("token_range_inputs", r.tokenRangeInputs());
        info.put("gelu", r.tanhGelus() > 0 ? "tanh (com.microsoft.FastGelu)" : r.recipe().exactGelu() ? "erf (exact)" : "as the source");
        info.put("tanh_gelus", r.tanhGelus());
        info.put("quantized_matmuls", r.matmuls());
        info.put("calibration_sentences", r.calibrationSentences());
        if (r.calibrationSentences() > 0) info.put("smoothquant_alpha", r.recipe().alpha());
        AtomicFiles.writeString(dir.resolve(REPORT), Json.writePretty(info));
    }

    /** sentence-transformers' pooling description, so the folder pools as the built-in teacher does. */
    private static void writePooling(Path dir, Pooling pooling, OnnxGraph g) throws IOException {
        Files.createDirectories(dir.resolve("1_Pooling"));
        ObjectNode p = Json.object();
        long width = 0;
        for (OnnxGraph.Tensor t : g.initializers().values()) {
            if (t.name().endsWith("word_embeddings.weight") && t.dims().length == 2) width = t.dims()[1];
        }
        if (width > 0) p.put("word_embedding_dimension", width);
        p.put("pooling_mode_cls_token", pooling == Pooling.CLS);
        p.put("pooling_mode_mean_tokens", pooling == Pooling.MEAN);
        p.put("pooling_mode_max_tokens", false);
        p.put("pooling_mode_mean_sqrt_len_tokens", false);
        Files.writeString(dir.resolve("1_Pooling/config.json"), Json.writePretty(p));
    }

    private static void copyTree(Path from, Path to, Path skip) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path rel = from.relativize(f);
                if (rel.equals(skip) || rel.toString().isEmpty()) continue;
                if (Files.isDirectory(f)) Files.createDirectories(to.resolve(rel.toString()));
                else Files.copy(f, to.resolve(rel.toString()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }
}
