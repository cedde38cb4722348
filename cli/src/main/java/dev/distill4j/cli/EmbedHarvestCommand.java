package dev.distill4j.cli;

import dev.distill4j.embed.ApiEmbeddingTeacher;
import dev.distill4j.embed.EmbedCorpus;
import dev.distill4j.embed.EmbeddingModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "harvest", mixinStandardHelpOptions = true,
        description = {"Embed a corpus through an OpenAI-compatible /v1/embeddings API and keep the vectors in a run "
                + "(samples.db, table embeddings). Resumable: a rerun, also after a kill, asks only for texts not "
                + "stored yet; each distinct text is asked once."},
        footer = {
                "",
                "Example:",
                "  distill embed harvest --teacher https://api.openai.com/v1 \\",
                "      --teacher-model text-embedding-3-small \\",
                "      --corpus texts.jsonl --run runs/te3 --price-in 0.02"})
final class EmbedHarvestCommand implements Callable<Integer> {
    @Option(names = "--teacher", required = true, paramLabel = "URL",
            description = "Base URL of an OpenAI-compatible API, e.g. http://localhost:8000/v1.")
    String teacher;

    @Option(names = "--corpus", required = true, paramLabel = "FILE",
            description = "Texts to embed: lines, or JSONL with \"text\".")
    Path corpus;

    @CommandLine.Mixin
    EmbedApiOptions api;

    @Override
    public Integer call() throws Exception {
        if (!EmbeddingModels.isUrl(teacher)) {
            throw new UserError("--teacher must be an http(s):// API base URL: built-in and ONNX teachers run "
                    + "in-process and need no harvest", Errors.USAGE);
        }
        if (!Files.isRegularFile(corpus)) throw new UserError("no corpus file at " + corpus);
        List<String> texts = EmbedCorpus.read(corpus);
        ApiEmbeddingTeacher.Options options = api.forTeacher(teacher);
        try (var t = (ApiEmbeddingTeacher) EmbeddingModels.teacher(teacher, options)) {
            int[] lastPct = {-1};
            ApiEmbeddingTeacher.Harvest h = t.harvest(texts, (done, total) -> {
                int pct = (int) (100L * done / total);
                if (pct / 10 != lastPct[0] / 10) {
                    System.err.printf(Locale.ROOT, "embedding: %d / %d texts%n", done, total);
                    lastPct[0] = pct;
                }
            });
            System.out.printf(Locale.ROOT, "%d texts (%d distinct): %d already stored, %d embedded in %d requests "
                            + "(%d retries), %d tokens, $%.4f, %.1f s%n", h.texts(), h.distinct(), h.alreadyStored(),
                    h.fetched(), h.requests(), h.retries(), h.promptTokens(), h.costUsd(), h.elapsed().toNanos() / 1e9);
            System.out.println("run " + t.store().dbFile() + ": " + t.store().embeddingCount() + " embeddings stored");
        }
        return 0;
    }
}
