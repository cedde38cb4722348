package dev.distill4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.io.ModelInfo;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Describe a model folder: family, parameters, dtype, vocabulary, context, shape, size.",
                "",
                "Reads config.json and the safetensors headers only (fast, even for large models) and checks every "
                        + "tensor the config implies, so a broken download is reported here rather than later."},
        footer = {"", "Examples:", "  distill model info models/SmolLM2-135M-Instruct",
                "  distill model info runs/math/student --json | jq .parameters"})
final class ModelInfoCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "Model folder.")
    Path dir;

    @Option(names = "--json", description = "Print as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(dir)) throw new UserError("no model folder at " + dir);
        ModelInfo i = ModelInfo.read(dir);
        PrintStream out = System.out;
        if (json) {
            ObjectNode n = Json.object();
            n.put("dir", dir.toString());
            n.setAll((ObjectNode) Json.MAPPER.valueToTree(i));
            out.println(Json.writePretty(n));
            return 0;
        }
        out.println("model " + dir);
        out.printf(Locale.ROOT, "  family       %s%n", i.family());
        out.printf(Locale.ROOT, "  parameters   %s (%s), %s without embeddings%n", ProgressBar.count(i.parameters()),
                ModelInfo.humanCount(i.parameters()), ModelInfo.humanCount(i.nonEmbeddingParameters()));
        out.printf(Locale.ROOT, "  dtype        %s%n", i.dtype());
        out.printf(Locale.ROOT, "  vocabulary   %s tokens%n", ProgressBar.count(i.vocabSize()));
        out.printf(Locale.ROOT, "  context      %s tokens%n", ProgressBar.count(i.contextLength()));
        out.printf(Locale.ROOT, "  layers       %d × hidden %d, MLP %d%n", i.layers(), i.hiddenSize(), i.intermediateSize());
        out.printf(Locale.ROOT, "  attention    %d query / %d key-value heads, head dim %d%n", i.heads(), i.kvHeads(),
                i.headDim());
        out.printf(Locale.ROOT, "  embeddings   %s%n", i.tiedEmbeddings() ? "tied (LM head shares them)" : "separate LM head");
        out.printf(Locale.ROOT, "  size         %s on disk (%s of weights)%n", ModelInfo.humanBytes(i.diskBytes()),
                ModelInfo.humanBytes(i.weightBytes()));
        return 0;
    }
}
