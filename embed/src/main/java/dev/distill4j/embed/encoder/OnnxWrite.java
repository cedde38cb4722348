package dev.distill4j.embed.encoder;

import static dev.distill4j.embed.encoder.OnnxGraph.*;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writing ONNX models on the protobuf wire, for the graph rewrites ({@link OnnxQuantize}, {@link OnnxGelu}): a
 * model is copied field by field with its graph message replaced, and the new nodes, attributes and tensors are
 * encoded by hand (field numbers from onnx.proto; no generated classes), so everything a rewrite does not touch
 * stays byte for byte as the exporter wrote it.
 */
final class OnnxWrite {
    private OnnxWrite() {}

    // onnx.proto: ModelProto.opset_import, OperatorSetIdProto, NodeProto.domain, AttributeProto, TensorProto types
    static final int MODEL_OPSET_IMPORT = 8, OPSET_DOMAIN = 1, OPSET_VERSION = 2;
    static final int NODE_DOMAIN = 7;
    static final int ATTR_NAME = 1, ATTR_I = 3, ATTR_INTS = 8, ATTR_TYPE = 20, ATTR_TYPE_INT = 2, ATTR_TYPE_INTS = 7;

    // ValueInfoProto.type, TypeProto.tensor_type, TypeProto.Tensor.elem_type
    static final int VALUE_INFO_TYPE = 2, TYPE_TENSOR_TYPE = 1, TYPE_TENSOR_ELEM_TYPE = 1;

    /** ONNX Runtime's contributed operators (the fused int8 GEMMs). */
    static final String MS_DOMAIN = "com.microsoft";

    /** The model with {@code names} added to the graph's outputs (float tensors of any shape). */
    static byte[] withOutputs(byte[] model, List<String> names) throws IOException {
        List<byte[]> outputs = new ArrayList<>();
        for (String name : names) {
            ByteArrayOutputStream tensorType = new ByteArrayOutputStream(), type = new ByteArrayOutputStream(),
                    info = new ByteArrayOutputStream();
            CodedOutputStream t = CodedOutputStream.newInstance(tensorType);
            t.writeInt32(TYPE_TENSOR_ELEM_TYPE, FLOAT);
            t.flush();
            CodedOutputStream ty = CodedOutputStream.newInstance(type);
            ty.writeByteArray(TYPE_TENSOR_TYPE, tensorType.toByteArray());
            ty.flush();
            CodedOutputStream v = CodedOutputStream.newInstance(info);
            v.writeString(VALUE_INFO_NAME, name);
            v.writeByteArray(VALUE_INFO_TYPE, type.toByteArray());
            v.flush();
            outputs.add(info.toByteArray());
        }
        return withGraph(model, (start, length) -> graph(model, start, length, null, List.of(), Set.of(), outputs));
    }

    /** The graph message's new bytes, from where the old one starts in the model and its length. */
    interface GraphRewrite {
        byte[] apply(int start, int length) throws IOException;
    }

    /** The model with its graph message replaced by {@code rewrite}'s, every other field copied as it is. */
    static byte[] withGraph(byte[] model, GraphRewrite rewrite) throws IOException {
        return withGraph(model, rewrite, null);
    }

    /** As {@link #withGraph(byte[], GraphRewrite)}, importing operator set 1 of {@code domain} when the model does not. */
    static byte[] withGraph(byte[] model, GraphRewrite rewrite, String domain) throws IOException {
        boolean imported = domain == null || importsDomain(model, domain);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(model.length / 2);
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        CodedInputStream in = newStream(model, 0, model.length);
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (!isMessage(tag, MODEL_GRAPH)) {
                in.skipField(tag, out);
                continue;
            }
            int length = in.readRawVarint32(), start = in.getTotalBytesRead();
            out.writeByteArray(MODEL_GRAPH, rewrite.apply(start, length));
            in.skipRawBytes(length);
        }
        if (!imported) {
            ByteArrayOutputStream opset = new ByteArrayOutputStream();
            CodedOutputStream o = CodedOutputStream.newInstance(opset);
            o.writeString(OPSET_DOMAIN, domain);
            o.writeInt64(OPSET_VERSION, 1);
            o.flush();
            out.writeByteArray(MODEL_OPSET_IMPORT, opset.toByteArray());
        }
        out.flush();
        return bytes.toByteArray();
    }

    /** The graph message: its fields less the dropped weights and the old nodes, the new weights, then the nodes. */
    static byte[] graph(byte[] model, int start, int length, List<byte[]> plan,
                                Iterable<byte[]> newInitializers, Set<String> dropped, List<byte[]> newOutputs)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(length / 3);
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        List<byte[]> oldNodes = new ArrayList<>();
        CodedInputStream in = newStream(model, start, length);
        while (!in.isAtEnd()) {
            int tag = in.readTag(), field = WireFormat.getTagFieldNumber(tag);
            if (field == GRAPH_NODE && plan != null) {
                oldNodes.add(in.readByteArray());
            } else if (field == GRAPH_INITIALIZER) {
                int size = in.readRawVarint32(), at = start + in.getTotalBytesRead();
                in.skipRawBytes(size);
                if (dropped.contains(stringField(model, at, size, TENSOR_NAME))) continue;
                out.writeTag(GRAPH_INITIALIZER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                out.writeUInt32NoTag(size);
                out.writeRawBytes(model, at, size);
            } else {
                in.skipField(tag, out);
            }
        }
        for (byte[] t : newInitializers) out.writeByteArray(GRAPH_INITIALIZER, t);
        for (byte[] o : newOutputs) out.writeByteArray(GRAPH_OUTPUT, o);
        if (plan == null) {
            out.flush();
            return bytes.toByteArray();
        }
        // the plan holds, per original node, null (copy it), or its replacement nodes closed by an empty marker
        int old = 0;
        for (byte[] p : plan) {
            if (p == null) {
                out.writeByteArray(GRAPH_NODE, oldNodes.get(old++));
            } else if (p.length == 0) {
                old++;
            } else {
                out.writeByteArray(GRAPH_NODE, p);
            }
        }
        if (old != oldNodes.size()) throw new IOException("the graph's nodes changed while it was rewritten");
        out.flush();
        return bytes.toByteArray();
    }

    static byte[] node(String name, String op, List<String> inputs, List<String> outputs, String domain,
                               byte[]... attributes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        for (String i : inputs) out.writeString(NODE_INPUT, i);
        for (String o : outputs) out.writeString(NODE_OUTPUT, o);
        out.writeString(NODE_NAME, name);
        out.writeString(NODE_OP_TYPE, op);
        for (byte[] a : attributes) out.writeByteArray(NODE_ATTRIBUTE, a);
        out.writeString(NODE_DOMAIN, domain);
        out.flush();
        return bytes.toByteArray();
    }

    /** An integer attribute ({@code AttributeProto} with one {@code i}), or a list of them when {@code list}. */
    static byte[] attribute(String name, boolean list, long... values) throws IOException {
        ByteArrayOutputStream attr = new ByteArrayOutputStream();
        CodedOutputStream a = CodedOutputStream.newInstance(attr);
        a.writeString(ATTR_NAME, name);
        for (long v : values) a.writeInt64(list ? ATTR_INTS : ATTR_I, v);
        a.writeInt32(ATTR_TYPE, list ? ATTR_TYPE_INTS : ATTR_TYPE_INT);
        a.flush();
        return attr.toByteArray();
    }

    static byte[] tensor(String name, long[] dims, int type, byte[] raw) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length + 64);
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        for (long d : dims) out.writeInt64(TENSOR_DIMS, d);
        out.writeInt32(TENSOR_DATA_TYPE, type);
        out.writeString(TENSOR_NAME, name);
        out.writeByteArray(TENSOR_RAW_DATA, raw);
        out.flush();
        return bytes.toByteArray();
    }

    static byte[] longTensor(String name, long[] dims, long... values) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return tensor(name, dims, INT64, b.array());
    }

    static byte[] floatTensor(String name, long[] dims, float... values) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(values.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return tensor(name, dims, FLOAT, b.array());
    }

    private static boolean importsDomain(byte[] model, String domain) throws IOException {
        return opsetImports(model).containsKey(domain);
    }

    /** The model's operator set imports: domain ("" for the default) → version (−1 when absent). */
    static Map<String, Long> opsetImports(byte[] model) throws IOException {
        Map<String, Long> imports = new HashMap<>();
        CodedInputStream in = newStream(model, 0, model.length);
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (!isMessage(tag, MODEL_OPSET_IMPORT)) {
                in.skipField(tag);
                continue;
            }
            int limit = in.pushLimit(in.readRawVarint32());
            String domain = "";
            long v = -1;
            for (int t; (t = in.readTag()) != 0; ) {
                int f = WireFormat.getTagFieldNumber(t);
                if (f == OPSET_DOMAIN) domain = in.readString();
                else if (f == OPSET_VERSION) v = in.readInt64();
                else in.skipField(t);
            }
            in.popLimit(limit);
            imports.put(domain, v);
        }
        return imports;
    }
}
