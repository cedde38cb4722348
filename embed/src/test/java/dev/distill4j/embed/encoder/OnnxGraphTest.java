package dev.distill4j.embed.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The wire-format reader on hand-built ONNX bytes (field numbers of onnx.proto), and its errors. */
class OnnxGraphTest {

    @Test
    void readsInitialisersInFloatDataAndRawDataAndNodes() throws Exception {
        byte[] packed = tensor("w", new long[] {2, 3}, 1, false);
        byte[] raw = tensor("encoder.layer.0.attention.self.query.bias", new long[] {3}, 1, true);
        byte[] node = message(out -> {
            out.writeString(1, "x");
            out.writeString(1, "w");
            out.writeString(2, "y");
            out.writeString(4, "MatMul");
            out.writeByteArray(5, message(a -> {
                a.writeString(1, "epsilon");
                a.writeFloat(2, 1e-5f);
            }));
        });
        byte[] graph = message(out -> {
            out.writeByteArray(1, node);
            out.writeString(2, "g");
            out.writeByteArray(5, packed);
            out.writeByteArray(5, raw);
        });
        byte[] model = message(out -> {
            out.writeInt64(1, 8);                 // ir_version
            out.writeString(2, "test");           // producer_name
            out.writeByteArray(7, graph);
        });
        OnnxGraph g = OnnxGraph.parse(model);
        assertThat(g.initializers()).containsOnlyKeys("w", "encoder.layer.0.attention.self.query.bias");
        assertThat(g.initializers().get("w").dims()).containsExactly(2, 3);
        assertThat(g.initializers().get("w").floats()).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(g.initializers().get("encoder.layer.0.attention.self.query.bias").floats()).containsExactly(0, 1, 2);
        assertThat(g.nodes()).singleElement().satisfies(n -> {
            assertThat(n.opType()).isEqualTo("MatMul");
            assertThat(n.inputs()).containsExactly("x", "w");
            assertThat(n.outputs()).containsExactly("y");
            assertThat(n.attributes().get("epsilon")).isCloseTo(1e-5, org.assertj.core.data.Offset.offset(1e-9));
        });
        assertThatThrownBy(() -> BertWeights.fromOnnx(g)).hasMessageStartingWith("not a BERT-style encoder export");

        // the structure alone: names, dims, types and nodes, no values
        OnnxGraph s = OnnxGraph.parseStructure(model);
        assertThat(s.initializers().keySet()).containsExactlyElementsOf(g.initializers().keySet());
        assertThat(s.initializers().get("w").dims()).containsExactly(2, 3);
        assertThat(s.initializers().get("w").dataType()).isEqualTo(OnnxGraph.FLOAT);
        assertThat(s.initializers().get("w").floats()).isNull();
        assertThat(s.nodes()).isEqualTo(g.nodes());
    }

    @Test
    void garbageIsNotAnOnnxModel() {
        byte[] text = "certainly not protobuf, just some text".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> OnnxGraph.parse(text)).hasMessageStartingWith("not an ONNX model");
    }

    private static byte[] tensor(String name, long[] dims, int type, boolean rawData) throws IOException {
        int n = 1;
        for (long d : dims) n *= (int) d;
        int count = n;
        return message(out -> {
            for (long d : dims) out.writeInt64(1, d);
            out.writeInt32(2, type);
            out.writeString(8, name);
            if (rawData) {
                java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(count * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < count; i++) bb.putFloat(i);
                out.writeByteArray(9, bb.array());
            } else {
                out.writeTag(4, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
                out.writeUInt32NoTag(count * 4);
                for (int i = 0; i < count; i++) out.writeFloatNoTag(i);
            }
        });
    }

    interface Body { void write(CodedOutputStream out) throws IOException; }

    private static byte[] message(Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        body.write(out);
        out.flush();
        return bytes.toByteArray();
    }
}
