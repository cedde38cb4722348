package dev.distill4j.embed.langchain4j;

import dev.distill4j.embed.EmbeddingModels;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A distill4j embedding model (a student folder, or any teacher) as a LangChain4j {@link EmbeddingModel}, so
 * embedding stores, ingestors and content retrievers run on it in-process.
 *
 * <pre>{@code
 * try (DistillEmbeddingModel model = DistillEmbeddingModel.load(Path.of("runs/embed/static"))) {
 *     Response<List<Embedding>> r = model.embedAll(List.of(TextSegment.from("hello")));
 * }
 * }</pre>
 */
public final class DistillEmbeddingModel implements EmbeddingModel, AutoCloseable {
    private final dev.distill4j.embed.EmbeddingModel model;
    private final boolean owns;

    /** Wraps {@code model}; the caller keeps ownership and closes it. */
    public DistillEmbeddingModel(dev.distill4j.embed.EmbeddingModel model) {
        this(model, false);
    }

    private DistillEmbeddingModel(dev.distill4j.embed.EmbeddingModel model, boolean owns) {
        this.model = Objects.requireNonNull(model, "model");
        this.owns = owns;
    }

    /** Loads a student folder written by {@code distill embed distill}; {@link #close()} releases it. */
    public static DistillEmbeddingModel load(Path studentDir) throws IOException {
        return new DistillEmbeddingModel(EmbeddingModels.student(studentDir), true);
    }

    /** Loads a teacher ({@code bge-small-en-v1.5}, {@code all-minilm-l6-v2}, an ONNX folder); {@link #close()} releases it. */
    public static DistillEmbeddingModel teacher(String spec) throws IOException {
        return new DistillEmbeddingModel(EmbeddingModels.teacher(spec), true);
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        List<String> texts = new ArrayList<>(segments.size());
        for (TextSegment s : segments) texts.add(s.text());
        dev.distill4j.embed.EmbeddingModel.Embedded e = model.embedCounting(texts);
        List<Embedding> out = new ArrayList<>(texts.size());
        for (float[] v : e.vectors()) out.add(Embedding.from(v));
        return Response.from(out, new TokenUsage(Math.toIntExact(e.totalTokens())));
    }

    /** Known without embedding anything (LangChain4j's default embeds a probe text). */
    @Override
    public int dimension() { return model.dimension(); }

    @Override
    public String modelName() { return model.name(); }

    /** The wrapped distill4j model. */
    public dev.distill4j.embed.EmbeddingModel model() { return model; }

    @Override
    public void close() {
        if (owns) model.close();
    }
}
