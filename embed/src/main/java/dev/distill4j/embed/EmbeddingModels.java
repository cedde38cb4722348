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

    /** Whether {@code dir} holds a student this module can load (its config.json names an embedding model type). */
    public static boolean isStudent(Path dir) {
        try {
            return Files.isRegularFile(dir.resolve("config.json")) && kind(dir) != null;
        } catch (IOException e) {
            return false;
        }
    }

    /** Loads a student folder written by {@code distill embed distill}, whatever its kind. */
    public static EmbeddingModel student(Path dir) throws IOException {
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
            case "bert" -> EncoderStudent.open(dir);
            default -> throw new IllegalStateException("unhandled student kind " + kind);
        };
    }

    private static String kind(Path dir) throws IOException {
        String type = modelType(dir);
        return "static".equals(type) || "bert".equals(type) ? type : null;
    }

    /** The {@code model_type} of a model folder's config.json ("" when it names none). */
    public static String modelType(Path dir) throws IOException {
        JsonNode config = Json.MAPPER.readTree(dir.resolve("config.json").toFile());
        return config.path("model_type").asText("");
    }
}
