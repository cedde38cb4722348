package dev.distill4j.embed;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.embed.encoder.EncoderStudent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one place that turns what a user typed into an embedding model: a teacher spec ({@code --teacher}) or a
 * student folder ({@code --student}, {@code distill serve --model}, the LangChain4j adapter, eval).
 */
public final class EmbeddingModels {
    /** The student tokenizer of a teacher that has none to share (an API teacher), unless another is given. */
    public static final String DEFAULT_STUDENT_TOKENIZER = "bge-small-en-v1.5";

    private EmbeddingModels() {}

    /** A built-in teacher id ({@code bge-small-en-v1.5}, {@code all-minilm-l6-v2}) or an ONNX model folder. */
    public static EmbeddingModel teacher(String spec) throws IOException {
        if (isUrl(spec)) {
            throw new InvalidInputException("the API teacher " + spec + " needs a model name and a run folder: "
                    + "pass them with --teacher-model NAME [--run DIR] (EmbeddingModels.teacher(spec, options))");
        }
        return OnnxEmbeddingModel.load(spec);
    }

    /**
     * As {@link #teacher(String)}, and an {@code http://} or {@code https://} base URL of an OpenAI-compatible
     * server, reached with {@code api} (model, key variable, run folder for the harvested embeddings, pacing); the
     * key is read from the environment.
     */
    public static EmbeddingModel teacher(String spec, ApiEmbeddingTeacher.Options api) throws IOException {
        if (!isUrl(spec)) return teacher(spec);
        if (api == null) return teacher(spec);
        return ApiEmbeddingTeacher.open(java.net.URI.create(spec.trim()), api, System.getenv());
    }

    /**
     * A tokenizer.json for a student of a teacher that has none to share (an API): a built-in teacher id (its
     * tokenizer), a tokenizer.json file, or a folder holding one.
     */
    public static byte[] tokenizerJson(String spec) throws IOException {
        OnnxEmbeddingModel.Builtin b = OnnxEmbeddingModel.Builtin.byId(spec);
        if (b != null) return b.tokenizerJson();
        Path p = Path.of(spec);
        if (Files.isDirectory(p)) p = p.resolve("tokenizer.json");
        if (!Files.isRegularFile(p)) {
            throw new IOException("no tokenizer at '" + spec + "': use bge-small-en-v1.5, all-minilm-l6-v2, a "
                    + "tokenizer.json file or a folder with one");
        }
        return Files.readAllBytes(p);
    }

    /** Whether a teacher spec names an API server rather than a built-in model or a folder. */
    public static boolean isUrl(String spec) {
        String s = spec.trim().toLowerCase(java.util.Locale.ROOT);
        return s.startsWith("http://") || s.startsWith("https://");
    }

    /**
     * Whether {@code dir} holds a student this module can load: a folder {@code distill embed distill} wrote (its
     * config.json names an embedding model type), or any ONNX sentence encoder ({@link #isOnnxEncoder}).
     */
    public static boolean isStudent(Path dir) {
        try {
            return kind(dir) != null;
        } catch (IOException e) {
            return false;
        }
    }

    /** Encoder architectures whose ONNX exports pool to sentence embeddings (config.json model_type). */
    private static final java.util.Set<String> ENCODERS = java.util.Set.of("bert", "roberta", "xlm-roberta", "mpnet",
            "distilbert", "albert", "electra", "deberta", "deberta-v2", "nomic_bert", "modernbert", "camembert");

    /**
     * Whether {@code dir} is an ONNX sentence encoder in the Hugging Face / sentence-transformers layout, written by
     * anyone: {@code model.onnx} (or {@code onnx/model.onnx}) and {@code tokenizer.json}, and either a
     * sentence-transformers description ({@code modules.json} or {@code 1_Pooling/}) or a config.json of an encoder
     * architecture (or none). Decoder exports (model_type llama, gpt2, ...) are not taken for encoders.
     */
    public static boolean isOnnxEncoder(Path dir) {
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) return false;
        if (!Files.isRegularFile(dir.resolve("model.onnx")) && !Files.isRegularFile(dir.resolve("onnx/model.onnx"))) return false;
        if (Files.isRegularFile(dir.resolve("modules.json")) || Files.isDirectory(dir.resolve("1_Pooling"))) return true;
        if (!Files.isRegularFile(dir.resolve("config.json"))) return true;
        try {
            return ENCODERS.contains(modelType(dir).toLowerCase(java.util.Locale.ROOT));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Any embedding model a user names for scoring: a built-in id ({@code all-minilm-l6-v2}), a student folder, or
     * an ONNX encoder folder.
     */
    public static EmbeddingModel model(String spec) throws IOException {
        if (OnnxEmbeddingModel.Builtin.byId(spec) != null) return OnnxEmbeddingModel.load(spec);
        return student(Path.of(spec));
    }

    /** Loads a student folder written by {@code distill embed distill}, whatever its kind, or an ONNX encoder folder. */
    public static EmbeddingModel student(Path dir) throws IOException {
        if ("onnx".equals(kind(dir))) return OnnxEmbeddingModel.load(dir, null);
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IOException(dir + " is not an embedding student (no config.json): build one with 'distill embed distill'");
        }
        String kind = kind(dir);
        if (kind == null) {
            throw new IOException(dir + "/config.json does not describe an embedding student (model_type '"
                    + modelType(dir) + "'); build one with 'distill embed distill'");
        }
        return switch (kind) {
            case "static" -> StaticEmbeddingModel.load(dir);
            case "onnx" -> OnnxEmbeddingModel.load(dir, null);
            case "bert" -> EncoderStudent.open(dir);
            default -> throw new IllegalStateException("unhandled student kind " + kind);
        };
    }

    /**
     * static, bert (a distill4j layer-dropped student, or a Hugging Face BERT checkpoint without ONNX), onnx (any
     * other ONNX encoder folder) or null.
     */
    private static String kind(Path dir) throws IOException {
        JsonNode config = Files.isRegularFile(dir.resolve("config.json")) ? Json.MAPPER.readTree(dir.resolve("config.json").toFile()) : null;
        String type = config == null ? "" : config.path("model_type").asText("");
        if ("static".equals(type)) return type;
        if ("bert".equals(type) && config.has("distill4j")) return type;
        if (isOnnxEncoder(dir)) return "onnx";
        return "bert".equals(type) ? type : null;
    }

    /**
     * The {@code model_type} of a model folder's config.json ("" when it names none); "onnx" for an ONNX encoder
     * folder distill4j did not write.
     */
    public static String modelType(Path dir) throws IOException {
        if ("onnx".equals(kind(dir))) return "onnx";
        if (!Files.isRegularFile(dir.resolve("config.json"))) return "";
        JsonNode config = Json.MAPPER.readTree(dir.resolve("config.json").toFile());
        return config.path("model_type").asText("");
    }
}
