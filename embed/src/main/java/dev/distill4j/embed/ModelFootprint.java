package dev.distill4j.embed;

import dev.distill4j.embed.encoder.OnnxGraph;
import dev.distill4j.model.io.SafetensorsReader;
import dev.distill4j.model.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a model costs to ship: its parameter count and its bytes on disk.
 *
 * @param parameters elements of every weight tensor
 * @param bytes      the model's files (a student folder without its evaluation outputs, or the ONNX file)
 */
public record ModelFootprint(long parameters, long bytes) {
    /** Files in a student folder that are evaluation outputs, not part of the model. */
    private static final List<String> NOT_MODEL = List.of("eval", "scorecard.json");

    /**
     * A student folder: tensors of every {@code *.safetensors} file, bytes of every file but eval outputs; a folder
     * that runs on ONNX Runtime ({@code model.onnx}, beside the same weights in safetensors) counts as its ONNX file,
     * the measure the teacher gets.
     */
    public static ModelFootprint ofFolder(Path dir) throws IOException {
        Path onnx = dir.resolve("model.onnx");
        if (Files.isRegularFile(onnx)) return new ModelFootprint(OnnxGraph.parameterCount(onnx), Files.size(onnx));
        long params = 0, bytes = 0;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                if (NOT_MODEL.contains(dir.relativize(p).getName(0).toString())) continue;
                bytes += Files.size(p);
                if (p.getFileName().toString().endsWith(".safetensors")) {
                    try (SafetensorsReader r = SafetensorsReader.open(p)) {
                        for (String name : r.names()) {
                            TensorInfo t = r.info(name);
                            params += t.numel();
                        }
                    }
                }
            }
        }
        return new ModelFootprint(params, bytes);
    }

    /** An ONNX model: elements of the graph's initialisers (counted by {@link OnnxGraph}), and the file's bytes. */
    public static ModelFootprint ofOnnx(byte[] onnx) throws IOException {
        return new ModelFootprint(OnnxGraph.parameterCount(onnx), onnx.length);
    }
}
