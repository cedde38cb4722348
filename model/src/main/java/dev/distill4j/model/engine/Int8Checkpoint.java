package dev.distill4j.model.engine;

import dev.distill4j.core.io.FileTrees;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.io.SafetensorsReader;
import dev.distill4j.model.io.TensorInfo;
import dev.distill4j.model.nn.CausalLM;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The saved form of an int8 model: a model folder like any other (config.json, tokenizer, chat template,
 * generation_config.json) whose {@code model.safetensors} holds
 * <ul>
 *   <li>every covered matrix ({@link Int8#covers}) {@code NAME} as {@code I8 [rows, cols]}, and its scales as
 *       {@code NAME_scale}, {@code F32 [rows, ⌈cols / 32⌉]}: weight (r, c) = NAME[r, c] · NAME_scale[r, c / 32]
 *       (blocks of 32 along each row; the last block of a row may be shorter);</li>
 *   <li>everything else (norms, biases) as F32, under its usual name;</li>
 * </ul>
 * and whose config.json says {@code "quantization_config": {"quant_method": "distill4j_int8", "block_size": 32,
 * "scale_dtype": "float32"}}. The file is standard safetensors (any reader opens it), but no Hugging Face loader
 * understands the method: it is distill4j's. Loading gives the int8 engine its blocks as saved (no re-quantization) and
 * the DJL model their dequantized F32 values.
 */
public final class Int8Checkpoint {
    public static final String METHOD = "distill4j_int8";
    static final String SCALE_SUFFIX = "_scale";
    private static final String WEIGHTS = "model.safetensors";

    private Int8Checkpoint() {}

    /** Whether the config describes a folder saved by {@link #save}. */
    public static boolean isInt8(ModelConfig c) {
        return METHOD.equals(c.raw().path("quantization_config").path("quant_method").asText(null));
    }

    /** Whether {@code dir}'s config.json names this format (false for any other folder, valid or not). */
    public static boolean isInt8Folder(Path dir) {
        try {
            return METHOD.equals(Json.MAPPER.readTree(Files.readString(dir.resolve("config.json")))
                    .path("quantization_config").path("quant_method").asText(null));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** What {@link #read} gives: F32 values of every parameter (dequantized matrices) and the int8 engine. */
    public record Loaded(Map<String, float[]> dequantized, DecodeEngine engine) {}

    /**
     * Writes {@code model} quantized to int8 as a new folder {@code out} (which must not exist), with the other files
     * of {@code source} (tokenizer, chat template, generation config) copied beside it. The folder appears whole or
     * not at all (written under a temporary name, then renamed).
     */
    public static void save(CausalLM model, Path source, Path out) throws IOException {
        if (Files.exists(out)) throw new InvalidInputException(out + " already exists: choose a new folder for the int8 model");
        ModelConfig c = model.config();
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".tmp");
        try {
            try (Stream<Path> files = Files.list(source)) {
                for (Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    if (!Files.isRegularFile(f) || name.endsWith(".safetensors") || name.equals("config.json")
                            || name.equals("model.safetensors.index.json")) {
                        continue;
                    }
                    Files.copy(f, tmp.resolve(name));
                }
            }
            ObjectNode config = c.toJson();
            ObjectNode q = config.putObject("quantization_config");
            q.put("quant_method", METHOD).put("block_size", Kernels.BLOCK).put("scale_dtype", "float32");
            Files.writeString(tmp.resolve("config.json"), Json.MAPPER.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(config));
            writeWeights(model, tmp.resolve(WEIGHTS));
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            FileTrees.deleteQuietly(tmp);   // a leftover temporary folder is harmless
            throw e;
        }
    }

    private static void writeWeights(CausalLM model, Path file) throws IOException {
        Map<String, Object> data = new LinkedHashMap<>();      // name → byte[] (I8) or float[] (F32)
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (var e : model.parameters().entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue().getShape().getShape();
            float[] w = e.getValue().toFloatArray();
            if (Int8.covers(name)) {
                Matrix.Q8 m = Matrix.Q8.quantize(w, (int) shape[0], (int) shape[1]);
                data.put(name, m.q());
                shapes.put(name, shape);
                data.put(name + SCALE_SUFFIX, m.scale());
                shapes.put(name + SCALE_SUFFIX, new long[] {shape[0], Kernels.blocks((int) shape[1])});
            } else {
                data.put(name, w);
                shapes.put(name, shape);
            }
        }
        ObjectNode header = Json.object();
        header.putObject("__metadata__").put("format", "pt").put("quantization", METHOD);
        long offset = 0;
        for (var e : data.entrySet()) {
            long bytes = e.getValue() instanceof byte[] b ? b.length : 4L * ((float[]) e.getValue()).length;
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", e.getValue() instanceof byte[] ? "I8" : "F32");
            var shape = t.putArray("shape");
            for (long d : shapes.get(e.getKey())) shape.add(d);
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = Json.MAPPER.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;                 // data starts 8-byte aligned, as safetensors writes
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.position() < head.capacity()) head.put((byte) ' ');
            write(ch, head.flip());
            for (Object v : data.values()) {
                if (v instanceof byte[] b) {
                    write(ch, ByteBuffer.wrap(b));
                } else {
                    float[] f = (float[]) v;
                    ByteBuffer buf = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
                    buf.asFloatBuffer().put(f);
                    write(ch, buf);
                }
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void write(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Reads a folder written by {@link #save}; every missing or mis-shaped tensor is a clear error. */
    public static Loaded read(Path dir) throws IOException {
        ModelConfig c = ModelConfig.read(dir);
        if (!isInt8(c)) throw new IOException(dir + " is not an int8 folder (no quantization_config " + METHOD + ")");
        Path file = dir.resolve(WEIGHTS);
        Map<String, float[]> floats = new LinkedHashMap<>();
        Map<String, Matrix> matrices = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file); FileChannel ch = FileChannel.open(file)) {
            for (var e : CausalLM.parameterShapes(c).entrySet()) {
                String name = e.getKey();
                if (!r.contains(name)) throw new IOException(file + ": missing tensor " + name);
                TensorInfo info = r.info(name);
                if (Int8.covers(name)) {
                    int rows = (int) e.getValue().get(0);
                    int cols = (int) e.getValue().get(1);
                    TensorInfo si = r.contains(name + SCALE_SUFFIX) ? r.info(name + SCALE_SUFFIX) : null;
                    if (info.dtype() != DType.I8 || info.numel() != (long) rows * cols || si == null
                            || si.dtype() != DType.F32 || si.numel() != (long) rows * Kernels.blocks(cols)) {
                        throw new IOException(file + ": " + name + " must be I8 [" + rows + ", " + cols + "] with "
                                + name + SCALE_SUFFIX + " F32 [" + rows + ", " + Kernels.blocks(cols) + "]");
                    }
                    byte[] q = new byte[rows * cols];
                    ByteBuffer buf = ByteBuffer.wrap(q);
                    long at = info.begin();
                    while (buf.hasRemaining()) {
                        int n = ch.read(buf, at);
                        if (n < 0) throw new IOException(file + " is truncated");
                        at += n;
                    }
                    Matrix.Q8 m = new Matrix.Q8(q, r.readFloats(name + SCALE_SUFFIX), rows, cols);
                    matrices.put(name, m);
                    floats.put(name, m.dequantize());
                } else {
                    if (info.numel() != e.getValue().size()) {
                        throw new IOException(file + ": " + name + " has " + info.numel() + " values, the config implies "
                                + e.getValue().size());
                    }
                    floats.put(name, r.readFloats(name));
                }
            }
        }
        Weights w = Weights.build(c, Quantization.INT8, floats::get, matrices::get);
        return new Loaded(floats, DecodeEngine.of(w));
    }
}
