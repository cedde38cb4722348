package dev.distill4j.embed.encoder;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX model a weight import needs, read straight from the protobuf wire format with
 * protobuf-java's {@link CodedInputStream} (field numbers from onnx.proto; no generated classes): the graph's
 * initialisers and Constant-node tensors, its nodes (name, op type, inputs, outputs, float/int attributes), and the
 * names of the graph's inputs and outputs.
 */
public record OnnxGraph(Map<String, Tensor> initializers, List<Node> nodes, List<String> inputs, List<String> outputs) {

    /** A dense tensor; {@code floats} for FLOAT data, {@code longs} for INT64/INT32 data, the other null. */
    public record Tensor(String name, long[] dims, int dataType, float[] floats, long[] longs) {
        public long numel() {
            long n = 1;
            for (long d : dims) n *= d;
            return n;
        }
    }

    /**
     * One operator; {@code attributes} holds its float and int attributes (epsilon, axis, …) as doubles,
     * {@code value} a Constant node's tensor (else null). {@code name} is the exporter's node name (a module path such
     * as {@code /encoder/layer.3/attention/self/query/MatMul} in Hugging Face exports; may be empty).
     */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs,
                       Map<String, Double> attributes, Tensor value) {}

    // onnx.proto TensorProto.DataType
    static final int FLOAT = 1, INT32 = 6, INT64 = 7;

    // ModelProto.graph, GraphProto.node/initializer/output/value_info, NodeProto fields, TensorProto fields,
    // ValueInfoProto.name, AttributeProto fields (the writer in OnnxLayerDrop uses them too)
    static final int MODEL_GRAPH = 7;
    static final int GRAPH_NODE = 1, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12, GRAPH_VALUE_INFO = 13;
    static final int NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5;
    static final int TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_FLOAT_DATA = 4, TENSOR_INT32_DATA = 5,
            TENSOR_INT64_DATA = 7, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9, TENSOR_DATA_LOCATION = 14;
    static final int VALUE_INFO_NAME = 1;
    private static final int ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_T = 5;

    /** Parses a whole {@code .onnx} file's bytes; a file that is not an ONNX model fails with a clear message. */
    public static OnnxGraph parse(byte[] model) throws IOException { return parse(model, true); }

    /**
     * As {@link #parse}, without the initialisers' values ({@code floats} and {@code longs} null; names, dims and
     * types kept; Constant nodes keep theirs): the structure of a model, without a copy of its weights.
     */
    public static OnnxGraph parseStructure(byte[] model) throws IOException { return parse(model, false); }

    private static OnnxGraph parse(byte[] model, boolean values) throws IOException {
        CodedInputStream in = newStream(model, 0, model.length);
        OnnxGraph graph = null;
        try {
            for (int tag; (tag = in.readTag()) != 0; ) {
                if (isMessage(tag, MODEL_GRAPH)) {
                    int limit = in.pushLimit(in.readRawVarint32());
                    graph = parseGraph(in, values);
                    in.popLimit(limit);
                } else {
                    in.skipField(tag);
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("not an ONNX model (the protobuf does not parse: " + e.getMessage() + ")", e);
        }
        if (graph == null) throw new IOException("not an ONNX model: it has no graph");
        return graph;
    }

    /**
     * Elements of the graph's initialisers, from their dims alone: a model's parameter count without decoding or
     * copying its weights (a teacher's footprint is taken at every load; {@link #parse} would copy them twice).
     */
    public static long parameterCount(byte[] model) throws IOException {
        return parameterCount(newStream(model, 0, model.length));
    }

    /** As {@link #parameterCount(byte[])}, for a file, memory-mapped rather than read onto the heap. */
    public static long parameterCount(Path model) throws IOException {
        try (FileChannel ch = FileChannel.open(model)) {
            CodedInputStream in = CodedInputStream.newInstance(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()));
            in.setSizeLimit(Integer.MAX_VALUE);
            return parameterCount(in);
        }
    }

    private static long parameterCount(CodedInputStream in) throws IOException {
        long count = 0;
        try {
            for (int tag; (tag = in.readTag()) != 0; ) {
                if (!isMessage(tag, MODEL_GRAPH)) {
                    in.skipField(tag);
                    continue;
                }
                int graph = in.pushLimit(in.readRawVarint32());
                for (int g; (g = in.readTag()) != 0; ) {
                    if (!isMessage(g, GRAPH_INITIALIZER)) {
                        in.skipField(g);
                        continue;
                    }
                    int tensor = in.pushLimit(in.readRawVarint32());
                    List<Long> dims = new ArrayList<>();
                    for (int t; (t = in.readTag()) != 0; ) {
                        if (WireFormat.getTagFieldNumber(t) == TENSOR_DIMS) {
                            readVarints(in, WireFormat.getTagWireType(t) == WireFormat.WIRETYPE_LENGTH_DELIMITED, dims);
                        } else {
                            in.skipField(t);
                        }
                    }
                    in.popLimit(tensor);
                    long n = 1;
                    for (long d : dims) n *= d;
                    count += n;
                }
                in.popLimit(graph);
            }
        } catch (IOException e) {
            throw new IOException("not an ONNX model (the protobuf does not parse: " + e.getMessage() + ")", e);
        }
        return count;
    }

    static boolean isMessage(int tag, int field) {
        return WireFormat.getTagFieldNumber(tag) == field
                && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
    }

    /** An initialiser, or the value of the Constant node that outputs {@code name}; null when neither. */
    public Tensor constant(String name) {
        Tensor t = initializers.get(name);
        if (t != null) return t;
        for (Node n : nodes) if (n.value() != null && n.outputs().contains(name)) return n.value();
        return null;
    }

    static CodedInputStream newStream(byte[] b, int off, int len) {
        CodedInputStream in = CodedInputStream.newInstance(b, off, len);
        in.setSizeLimit(Integer.MAX_VALUE);
        in.enableAliasing(true);
        return in;
    }

    private static OnnxGraph parseGraph(CodedInputStream in, boolean values) throws IOException {
        Map<String, Tensor> inits = new LinkedHashMap<>();
        List<Node> nodes = new ArrayList<>();
        List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        for (int tag; (tag = in.readTag()) != 0; ) {
            int field = WireFormat.getTagFieldNumber(tag);
            if (field == GRAPH_INITIALIZER) {
                Tensor t = parseTensor(in, values);
                inits.put(t.name(), t);
            } else if (field == GRAPH_NODE) {
                nodes.add(parseNode(in.readByteArray()));
            } else if (field == GRAPH_INPUT || field == GRAPH_OUTPUT) {
                (field == GRAPH_INPUT ? inputs : outputs).add(stringField(in.readByteArray(), VALUE_INFO_NAME));
            } else {
                in.skipField(tag);
            }
        }
        return new OnnxGraph(inits, nodes, inputs, outputs);
    }

    /** The first value of string field {@code field} of a message ("" when it has none). */
    static String stringField(byte[] bytes, int field) throws IOException { return stringField(bytes, 0, bytes.length, field); }

    /** As {@link #stringField(byte[], int)}, for the message at {@code bytes[offset, offset + length)}. */
    static String stringField(byte[] bytes, int offset, int length, int field) throws IOException {
        CodedInputStream in = newStream(bytes, offset, length);
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (WireFormat.getTagFieldNumber(tag) == field) return in.readString();
            in.skipField(tag);
        }
        return "";
    }

    private static Node parseNode(byte[] bytes) throws IOException {
        CodedInputStream in = newStream(bytes, 0, bytes.length);
        List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        String op = "", name = "";
        Map<String, Double> attrs = new LinkedHashMap<>();
        Tensor value = null;
        int tag;
        while ((tag = in.readTag()) != 0) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case NODE_INPUT -> inputs.add(in.readString());
                case NODE_OUTPUT -> outputs.add(in.readString());
                case NODE_OP_TYPE -> op = in.readString();
                case NODE_NAME -> name = in.readString();
                case NODE_ATTRIBUTE -> {
                    byte[] ab = in.readByteArray();
                    CodedInputStream a = newStream(ab, 0, ab.length);
                    String attrName = "";
                    Double number = null;
                    int at;
                    while ((at = a.readTag()) != 0) {
                        switch (WireFormat.getTagFieldNumber(at)) {
                            case ATTR_NAME -> attrName = a.readString();
                            case ATTR_F -> number = (double) a.readFloat();
                            case ATTR_I -> number = (double) a.readInt64();
                            case ATTR_T -> value = parseTensor(a, true);
                            default -> a.skipField(at);
                        }
                    }
                    if (number != null) attrs.put(attrName, number);
                }
                default -> in.skipField(tag);
            }
        }
        return new Node(name, op, inputs, outputs, attrs, value);
    }

    /** The TensorProto at the stream's position (its length prefix next); {@code values} false skips the data. */
    static Tensor parseTensor(CodedInputStream in, boolean values) throws IOException {
        int tensorLimit = in.pushLimit(in.readRawVarint32());
        List<Long> dims = new ArrayList<>();
        int type = 0;
        String name = "";
        byte[] raw = null;
        FloatList floats = new FloatList();
        List<Long> longs = new ArrayList<>();
        int tag;
        while ((tag = in.readTag()) != 0) {
            int field = WireFormat.getTagFieldNumber(tag);
            boolean packed = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
            boolean data = field == TENSOR_RAW_DATA || field == TENSOR_INT64_DATA || field == TENSOR_INT32_DATA
                    || field == TENSOR_FLOAT_DATA;
            if (data && !values) {
                in.skipField(tag);
                continue;
            }
            switch (field) {
                case TENSOR_DIMS -> readVarints(in, packed, dims);
                case TENSOR_DATA_TYPE -> type = in.readInt32();
                case TENSOR_NAME -> name = in.readString();
                case TENSOR_RAW_DATA -> raw = in.readByteArray();
                case TENSOR_INT64_DATA, TENSOR_INT32_DATA -> readVarints(in, packed, longs);
                case TENSOR_FLOAT_DATA -> {
                    if (packed) {
                        int limit = in.pushLimit(in.readRawVarint32());
                        while (in.getBytesUntilLimit() > 0) floats.add(in.readFloat());
                        in.popLimit(limit);
                    } else {
                        floats.add(in.readFloat());
                    }
                }
                case TENSOR_DATA_LOCATION -> {
                    if (in.readInt32() == 1) throw new IOException("tensor " + name + " keeps its data in an external file; "
                            + "export the model with its weights inside the .onnx file");
                }
                default -> in.skipField(tag);
            }
        }
        in.popLimit(tensorLimit);
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        if (!values) return new Tensor(name, shape, type, null, null);
        long n = 1;
        for (long d : shape) n *= d;
        float[] f = null;
        long[] l = null;
        if (type == FLOAT) {
            if (raw != null) {
                f = new float[raw.length / 4];
                ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
            } else {
                f = floats.toArray();
            }
            if (f.length != n) throw new IOException("tensor " + name + " holds " + f.length + " floats, its shape needs " + n);
        } else if (type == INT64 || type == INT32) {
            if (raw != null) {
                ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
                int width = type == INT64 ? 8 : 4;
                l = new long[raw.length / width];
                for (int i = 0; i < l.length; i++) l[i] = width == 8 ? bb.getLong() : bb.getInt();
            } else {
                l = longs.stream().mapToLong(Long::longValue).toArray();
            }
        }
        return new Tensor(name, shape, type, f, l);
    }

    private static void readVarints(CodedInputStream in, boolean packed, List<Long> out) throws IOException {
        if (!packed) {
            out.add(in.readInt64());
            return;
        }
        int limit = in.pushLimit(in.readRawVarint32());
        while (in.getBytesUntilLimit() > 0) out.add(in.readInt64());
        in.popLimit(limit);
    }

    private static final class FloatList {
        private float[] a = new float[16];
        private int n;

        void add(float x) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, n * 2);
            a[n++] = x;
        }

        float[] toArray() { return java.util.Arrays.copyOf(a, n); }
    }

    /** Per tensor, the nodes (by index) that read it. */
    public Map<String, List<Integer>> readers() {
        Map<String, List<Integer>> readers = new HashMap<>();
        for (int i = 0; i < nodes().size(); i++) {
            for (String in : nodes().get(i).inputs()) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
        }
        return readers;
    }

    /** Per tensor, the node (by index) that writes it. */
    public Map<String, Integer> producers() {
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < nodes().size(); i++) for (String out : nodes().get(i).outputs()) producer.put(out, i);
        return producer;
    }
}
