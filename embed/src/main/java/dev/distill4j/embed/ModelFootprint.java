package dev.distill4j.embed;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
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

    /** A student folder: tensors of every {@code *.safetensors} file, bytes of every file but eval outputs. */
    public static ModelFootprint ofFolder(Path dir) throws IOException {
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

    /**
     * An ONNX model: elements of the graph's initialisers (ModelProto.graph = 7, GraphProto.initializer = 5,
     * TensorProto.dims = 1), read from the wire format without generated classes; tensor bytes are skipped, not
     * copied.
     */
    public static ModelFootprint ofOnnx(byte[] onnx) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(onnx);
        in.setSizeLimit(Integer.MAX_VALUE);
        long params = 0;
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (!isMessage(tag, 7)) {
                in.skipField(tag);
                continue;
            }
            int graph = in.pushLimit(in.readRawVarint32());
            for (int g; (g = in.readTag()) != 0; ) {
                if (!isMessage(g, 5)) {
                    in.skipField(g);
                    continue;
                }
                int tensor = in.pushLimit(in.readRawVarint32());
                params += elements(in);
                in.popLimit(tensor);
            }
            in.popLimit(graph);
        }
        return new ModelFootprint(params, onnx.length);
    }

    private static boolean isMessage(int tag, int field) {
        return WireFormat.getTagFieldNumber(tag) == field
                && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
    }

    /** Product of a TensorProto's dims (packed or not); a scalar has none and one element. */
    private static long elements(CodedInputStream in) throws IOException {
        long n = 1;
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (WireFormat.getTagFieldNumber(tag) != 1) {
                in.skipField(tag);
            } else if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                n *= in.readInt64();
            } else {
                int packed = in.pushLimit(in.readRawVarint32());
                while (!in.isAtEnd()) n *= in.readInt64();
                in.popLimit(packed);
            }
        }
        return n;
    }
}
