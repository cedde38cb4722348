package dev.distill4j.embed.encoder;

import static dev.distill4j.embed.encoder.OnnxGraph.*;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.distill4j.core.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A layer-dropped student as an ONNX model for ONNX Runtime: the teacher's own graph with the dropped layers' nodes
 * cut out, each kept layer reading the output of the kept layer before it, layers renumbered 0..k−1, and the
 * student's trained weights in place of the teacher's.
 *
 * <p>Editing the teacher's graph rather than writing a new one keeps the operator patterns ONNX Runtime's optimiser
 * fuses (LayerNorm, GELU, attention), so a student layer costs what a teacher layer costs. Layers are found by
 * their node names, the module paths Hugging Face's exporter writes ({@code /encoder/layer.3/attention/...}); a
 * layer's input is the one tensor it reads from outside that the next layer does not, its output the one tensor it
 * makes that something outside reads.
 */
public final class OnnxLayerDrop {
    private OnnxLayerDrop() {}

    private static final Pattern LAYER_NODE = Pattern.compile("(?:^|/)encoder/layer\\.(\\d+)/");
    /** A layer index inside a node, tensor or initialiser name: {@code /encoder/layer.4/…}, {@code encoder.layer.4.…}. */
    private static final Pattern LAYER_NAME = Pattern.compile("(encoder[./]layer\\.)(\\d+)([./])");

    /**
     * The student's ONNX model.
     *
     * @param teacherOnnx the teacher's .onnx bytes (a Hugging Face export of a BERT encoder)
     * @param kept        the teacher layers the student keeps, in student order, each at most once
     * @param student     the student's weights (HF names, layers 0..k−1), shaped as the teacher's
     */
    public static byte[] write(byte[] teacherOnnx, int[] kept, BertWeights student) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(teacherOnnx.length / 2);
        write(teacherOnnx, kept, student, bytes);
        return bytes.toByteArray();
    }

    /**
     * As {@link #write(byte[], int[], BertWeights)}, streamed to {@code sink}: no copy of the teacher's or the
     * student's weights is made (the student's floats go out in 64 KiB chunks), so exporting a model needs little
     * more heap than the two models already take.
     */
    public static void write(byte[] teacherOnnx, int[] kept, BertWeights student, OutputStream sink) throws IOException {
        OnnxGraph g = OnnxGraph.parseStructure(teacherOnnx);
        Layers layers = Layers.find(g);
        int teacherLayers = layers.count();
        if (student.config().numHiddenLayers() != kept.length) {
            throw new InvalidInputException("the student has " + student.config().numHiddenLayers()
                    + " layers but keeps " + kept.length + " teacher layers");
        }
        Map<Integer, Integer> renumber = new HashMap<>();
        for (int i = 0; i < kept.length; i++) {
            if (kept[i] < 0 || kept[i] >= teacherLayers) {
                throw new InvalidInputException("layer " + kept[i] + " does not exist: the teacher graph has layers 0.."
                        + (teacherLayers - 1));
            }
            if (renumber.put(kept[i], i) != null) throw new InvalidInputException("layer " + kept[i] + " is kept twice");
        }

        // Wiring: kept layer i reads what kept layer i−1 wrote (the embeddings for i = 0). The last kept layer's
        // output swaps names with the teacher's last one (last_hidden_state), so the graph's outputs stay as they are.
        Map<String, String> hiddenInput = new HashMap<>();
        for (int i = 0; i < kept.length; i++) {
            String from = i == 0 ? layers.input(0) : layers.output(kept[i - 1]);
            hiddenInput.put(layers.input(kept[i]), from);
        }
        String lastOut = layers.output(teacherLayers - 1), studentLast = layers.output(kept[kept.length - 1]);
        UnaryOperator<String> rename = name -> renumber(
                name.equals(studentLast) ? lastOut : name.equals(lastOut) ? studentLast : name, renumber);

        List<Integer> order = new ArrayList<>(layers.before());
        for (int f : kept) order.addAll(layers.nodes(f));
        order.addAll(layers.after());
        checkTopological(g, order, hiddenInput, layers);

        Map<String, BertWeights.Tensor> replaced = studentInitializers(g, kept, student);
        Set<String> usedInitializers = new HashSet<>();
        for (int n : order) {
            OnnxGraph.Node node = g.nodes().get(n);
            for (String in : node.inputs()) if (g.initializers().containsKey(in)) usedInitializers.add(in);
        }
        Set<String> produced = new HashSet<>();
        for (int n : order) for (String out : g.nodes().get(n).outputs()) produced.add(rename.apply(out));
        produced.addAll(g.inputs());

        CodedInputStream in = newStream(teacherOnnx, 0, teacherOnnx.length);
        CodedOutputStream out = CodedOutputStream.newInstance(sink, 1 << 16);
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (!isMessage(tag, MODEL_GRAPH)) {
                in.skipField(tag, out);
                continue;
            }
            int length = in.readRawVarint32(), start = in.getTotalBytesRead();
            List<Piece> graph = graph(teacherOnnx, start, length, g, order, layers, hiddenInput, rename,
                    usedInitializers, replaced, produced);
            in.skipRawBytes(length);
            long size = 0;
            for (Piece piece : graph) size += piece.size();
            if (size > Integer.MAX_VALUE) throw new IOException("the student's graph exceeds protobuf's 2 GB limit");
            out.writeTag(MODEL_GRAPH, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag((int) size);
            for (Piece piece : graph) piece.writeTo(out);
        }
        out.flush();
    }

    /** A field of the graph message to write, with its exact size (the graph's length prefix comes first). */
    private sealed interface Piece {
        long size();

        void writeTo(CodedOutputStream out) throws IOException;

        /** A whole field (tag included) copied from the teacher's bytes. */
        record Copied(byte[] source, int offset, int length) implements Piece {
            public long size() { return length; }

            public void writeTo(CodedOutputStream out) throws IOException { out.writeRawBytes(source, offset, length); }
        }

        /** A small message field: a node or tensor with new names. */
        record Message(int field, byte[] payload) implements Piece {
            public long size() { return CodedOutputStream.computeByteArraySize(field, payload); }

            public void writeTo(CodedOutputStream out) throws IOException { out.writeByteArray(field, payload); }
        }

        /** An initialiser holding the student's floats as raw little-endian data. */
        record Floats(String name, long[] dims, float[] values) implements Piece {
            private int payload() {
                int size = 0;
                for (long d : dims) size += CodedOutputStream.computeInt64Size(TENSOR_DIMS, d);
                return size + CodedOutputStream.computeInt32Size(TENSOR_DATA_TYPE, FLOAT)
                        + CodedOutputStream.computeStringSize(TENSOR_NAME, name)
                        + CodedOutputStream.computeTagSize(TENSOR_RAW_DATA)
                        + CodedOutputStream.computeUInt32SizeNoTag(values.length * 4) + values.length * 4;
            }

            public long size() {
                int p = payload();
                return CodedOutputStream.computeTagSize(GRAPH_INITIALIZER) + CodedOutputStream.computeUInt32SizeNoTag(p) + p;
            }

            public void writeTo(CodedOutputStream out) throws IOException {
                out.writeTag(GRAPH_INITIALIZER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                out.writeUInt32NoTag(payload());
                for (long d : dims) out.writeInt64(TENSOR_DIMS, d);
                out.writeInt32(TENSOR_DATA_TYPE, FLOAT);
                out.writeString(TENSOR_NAME, name);
                out.writeTag(TENSOR_RAW_DATA, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                out.writeUInt32NoTag(values.length * 4);
                ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < values.length; ) {
                    chunk.clear();
                    int n = Math.min(values.length - i, chunk.capacity() / 4);
                    chunk.asFloatBuffer().put(values, i, n);
                    out.writeRawBytes(chunk.array(), 0, n * 4);
                    i += n;
                }
            }
        }
    }

    /**
     * The graph message's fields: other fields as they were, used initialisers (student values where it has them),
     * value infos of tensors that still exist, then the kept nodes in {@code order}.
     */
    private static List<Piece> graph(byte[] model, int start, int length, OnnxGraph g, List<Integer> order, Layers layers,
                                     Map<String, String> hiddenInput, UnaryOperator<String> rename,
                                     Set<String> usedInitializers, Map<String, BertWeights.Tensor> replaced, Set<String> produced)
            throws IOException {
        List<Piece> pieces = new ArrayList<>();
        List<byte[]> nodes = new ArrayList<>();
        CodedInputStream in = newStream(model, start, length);
        while (!in.isAtEnd()) {
            int fieldStart = start + in.getTotalBytesRead();
            int tag = in.readTag(), field = WireFormat.getTagFieldNumber(tag);
            if (field == GRAPH_NODE) {
                nodes.add(in.readByteArray());
            } else if (field == GRAPH_INITIALIZER || field == GRAPH_VALUE_INFO) {
                int size = in.readRawVarint32(), at = start + in.getTotalBytesRead();
                in.skipRawBytes(size);
                String name = stringField(model, at, size, field == GRAPH_INITIALIZER ? TENSOR_NAME : VALUE_INFO_NAME);
                boolean keep = g.initializers().containsKey(name) ? usedInitializers.contains(name)
                        : produced.contains(rename.apply(name));
                if (!keep) continue;
                if (replaced.containsKey(name)) {
                    BertWeights.Tensor t = replaced.get(name);
                    pieces.add(new Piece.Floats(rename.apply(name), t.shape(), t.data()));
                } else {
                    pieces.add(new Piece.Message(field, renameFields(Arrays.copyOfRange(model, at, at + size),
                            Map.of(field == GRAPH_INITIALIZER ? TENSOR_NAME : VALUE_INFO_NAME, rename))));
                }
            } else {
                in.skipField(tag);
                pieces.add(new Piece.Copied(model, fieldStart, start + in.getTotalBytesRead() - fieldStart));
            }
        }
        if (nodes.size() != g.nodes().size()) throw new IOException("the graph's nodes changed while it was rewritten");
        for (int n : order) {
            int layer = layers.layerOf(n);
            UnaryOperator<String> input = name -> rename.apply(layer >= 0 ? hiddenInput.getOrDefault(name, name) : name);
            pieces.add(new Piece.Message(GRAPH_NODE, renameFields(nodes.get(n),
                    Map.of(NODE_INPUT, input, NODE_OUTPUT, rename, NODE_NAME, rename))));
        }
        return pieces;
    }

    /**
     * Teacher initialiser name → the student's tensor for it, in the teacher's layout ([in, out] for MatMul weights).
     * A student's tensor has the teacher's shape, except that a width-pruned student ({@link BertWeights#pruneFfn})
     * has fewer feed-forward neurons: nothing in a BERT graph fixes that width but the weights themselves.
     */
    private static Map<String, BertWeights.Tensor> studentInitializers(OnnxGraph g, int[] kept, BertWeights student) {
        Map<String, BertWeights.OnnxName> names = BertWeights.onnxNames(g);
        Map<String, BertWeights.Tensor> replaced = new HashMap<>();
        int width = student.config().intermediateSize();
        for (var e : student.tensors().entrySet()) {
            String teacherName = teacherName(e.getKey(), kept);
            BertWeights.OnnxName where = names.get(teacherName);
            if (where == null) throw new IllegalArgumentException("the teacher graph has no tensor " + teacherName);
            BertWeights.Tensor t = where.transposed() ? BertWeights.transpose(e.getValue()) : e.getValue();
            long[] dims = g.initializers().get(where.initializer()).dims();
            boolean fits = dims.length == t.shape().length;
            for (int a = 0; fits && a < dims.length; a++) {
                fits = dims[a] == t.shape()[a] || (t.shape()[a] == width && dims[a] > width && e.getKey().contains("dense"));
            }
            if (!fits) {
                throw new IllegalArgumentException("student tensor " + e.getKey() + " is " + Arrays.toString(t.shape())
                        + " but the teacher graph's " + where.initializer() + " is " + Arrays.toString(dims)
                        + ": the student was not built from this teacher");
            }
            replaced.put(where.initializer(), t);
        }
        return replaced;
    }

    /** {@code encoder.layer.i.…} of the student → {@code encoder.layer.kept[i].…} of the teacher. */
    private static String teacherName(String studentName, int[] kept) {
        Matcher m = LAYER_NAME.matcher(studentName);
        if (!m.find()) return studentName;
        return studentName.substring(0, m.start(2)) + kept[Integer.parseInt(m.group(2))] + studentName.substring(m.end(2));
    }

    private static String renumber(String name, Map<Integer, Integer> renumber) {
        Matcher m = LAYER_NAME.matcher(name);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            Integer to = renumber.get(Integer.parseInt(m.group(2)));
            m.appendReplacement(sb, Matcher.quoteReplacement(m.group(1) + (to == null ? m.group(2) : to) + m.group(3)));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Every input of every kept node is made earlier in {@code order}, is an initialiser or a graph input. */
    private static void checkTopological(OnnxGraph g, List<Integer> order, Map<String, String> hiddenInput, Layers layers) {
        Set<String> ready = new HashSet<>(g.inputs());
        ready.addAll(g.initializers().keySet());
        ready.add("");   // an omitted optional input
        for (int n : order) {
            OnnxGraph.Node node = g.nodes().get(n);
            for (String in : node.inputs()) {
                String x = layers.layerOf(n) >= 0 ? hiddenInput.getOrDefault(in, in) : in;
                if (!ready.contains(x)) {
                    throw new InvalidInputException("cannot drop layers from this graph: node '" + node.name()
                            + "' reads '" + x + "', which a dropped layer makes");
                }
            }
            ready.addAll(node.outputs());
        }
    }

    /** A copy of a message with its string fields {@code renames} passed through their functions, the rest as is. */
    private static byte[] renameFields(byte[] message, Map<Integer, UnaryOperator<String>> renames) throws IOException {
        CodedInputStream in = newStream(message, 0, message.length);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(message.length + 64);
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        for (int tag; (tag = in.readTag()) != 0; ) {
            UnaryOperator<String> f = renames.get(WireFormat.getTagFieldNumber(tag));
            if (f != null && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                out.writeString(WireFormat.getTagFieldNumber(tag), f.apply(in.readString()));
            } else {
                in.skipField(tag, out);
            }
        }
        out.flush();
        return bytes.toByteArray();
    }

    /** The teacher graph's encoder layers: their nodes (by index), and each layer's one input and one output tensor. */
    private record Layers(TreeMap<Integer, List<Integer>> nodesByLayer, int[] layerOfNode, List<Integer> before,
                          List<Integer> after, String[] inputs, String[] outputs) {

        static Layers find(OnnxGraph g) {
            int n = g.nodes().size();
            int[] layerOf = new int[n];
            TreeMap<Integer, List<Integer>> byLayer = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                Matcher m = LAYER_NODE.matcher(g.nodes().get(i).name());
                layerOf[i] = m.find() ? Integer.parseInt(m.group(1)) : -1;
                if (layerOf[i] >= 0) byLayer.computeIfAbsent(layerOf[i], k -> new ArrayList<>()).add(i);
            }
            if (byLayer.isEmpty()) {
                throw new InvalidInputException("the teacher graph names no node /encoder/layer.N/…: layers can be dropped "
                        + "only from a Hugging Face export that keeps module names");
            }
            int count = byLayer.lastKey() + 1;
            if (byLayer.size() != count) throw new IllegalArgumentException("the teacher graph's layers are not numbered 0.." + (count - 1));
            int first = byLayer.firstEntry().getValue().get(0), last = 0;
            for (List<Integer> nodes : byLayer.values()) last = Math.max(last, nodes.get(nodes.size() - 1));
            List<Integer> before = new ArrayList<>(), after = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (layerOf[i] >= 0) continue;
                if (i < first) before.add(i);
                else if (i > last) after.add(i);
                else throw new IllegalArgumentException("node '" + g.nodes().get(i).name() + "' sits between the encoder layers "
                        + "but belongs to none: this graph's layers cannot be dropped");
            }
            Map<String, Integer> producer = new HashMap<>();
            for (int i = 0; i < n; i++) for (String out : g.nodes().get(i).outputs()) producer.put(out, layerOf[i]);
            Map<String, Set<Integer>> readers = new HashMap<>();
            for (int i = 0; i < n; i++) {
                for (String in : g.nodes().get(i).inputs()) readers.computeIfAbsent(in, k -> new HashSet<>()).add(layerOf[i]);
            }
            String[] inputs = new String[count], outputs = new String[count];
            List<Set<String>> external = new ArrayList<>();
            for (int l = 0; l < count; l++) {
                Set<String> ext = new LinkedHashSet<>(), out = new LinkedHashSet<>();
                for (int i : byLayer.get(l)) {
                    for (String in : g.nodes().get(i).inputs()) {
                        Integer p = producer.get(in);
                        if (p != null && p != l) ext.add(in);
                    }
                    for (String o : g.nodes().get(i).outputs()) {
                        boolean readOutside = g.outputs().contains(o);
                        for (int reader : readers.getOrDefault(o, Set.of())) readOutside |= reader != l;
                        if (readOutside) out.add(o);
                    }
                }
                if (out.size() != 1) {
                    throw new IllegalArgumentException("encoder layer " + l + " of the teacher graph has " + out.size()
                            + " outputs read outside it " + out + "; a BERT layer has one (its hidden states)");
                }
                outputs[l] = out.iterator().next();
                external.add(ext);
            }
            for (int l = 1; l < count; l++) {
                if (!external.get(l).contains(outputs[l - 1])) {
                    throw new IllegalArgumentException("encoder layer " + l + " does not read layer " + (l - 1) + "'s output");
                }
                inputs[l] = outputs[l - 1];
            }
            // layer 0's hidden input: what it reads that layer 1 does not (both read the attention mask); with one
            // layer there is nothing to drop and nothing to rewire
            Set<String> first0 = new LinkedHashSet<>(external.get(0));
            if (count > 1) {
                first0.removeAll(external.get(1));
                if (first0.size() != 1) {
                    throw new IllegalArgumentException("cannot tell which tensor encoder layer 0 reads as its hidden states: " + first0);
                }
            }
            inputs[0] = first0.size() == 1 ? first0.iterator().next() : null;
            return new Layers(byLayer, layerOf, before, after, inputs, outputs);
        }

        int count() { return inputs.length; }

        List<Integer> nodes(int layer) { return nodesByLayer.get(layer); }

        int layerOf(int node) { return layerOfNode[node]; }

        String input(int layer) { return inputs[layer]; }

        String output(int layer) { return outputs[layer]; }
    }
}
