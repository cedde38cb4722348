package dev.distill4j.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Minimal test-only safetensors reader (F32 and BF16 → F32) until the io package's reader is merged; the lead
 * switches the tests to it then.
 */
public final class TestSafetensors {
    private TestSafetensors() {}

    public static Map<String, NDArray> read(Path file, NDManager m) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = Math.toIntExact(buf.getLong(0));
        JsonNode header = Json.MAPPER.readTree(new String(buf.array(), 8, headerLen, StandardCharsets.UTF_8));
        int dataStart = 8 + headerLen;
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            JsonNode t = e.getValue();
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = t.get("shape").get(i).asLong();
            int begin = dataStart + t.get("data_offsets").get(0).asInt();
            int n = Math.toIntExact(new Shape(shape).size());
            float[] data = new float[n];
            switch (t.get("dtype").asText()) {
                case "F32" -> { for (int i = 0; i < n; i++) data[i] = buf.getFloat(begin + 4 * i); }
                case "BF16" -> {
                    for (int i = 0; i < n; i++) data[i] = Float.intBitsToFloat((buf.getShort(begin + 2 * i) & 0xffff) << 16);
                }
                default -> throw new IOException("test loader reads F32/BF16 only, got " + t.get("dtype"));
            }
            out.put(e.getKey(), m.create(data, new Shape(shape)));
        }
        return out;
    }
}
