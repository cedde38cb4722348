package dev.distill4j.model.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.nn.KvCache;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The DJL fallback {@link StepDecoder}: {@link CausalLM} forwards with {@link KvCache}s, for checkpoints or
 * machines the inference engine does not serve.
 *
 * <p>A step runs all its rows as one forward. Rows of different lengths are right-aligned in one stacked cache
 * [B, H_kv, S, hd] with S the longest row; a shorter row's first columns are zero padding that its attention mask
 * hides, so its position ids and its logits are those it would get alone (the trick {@code Generator} uses for a
 * left-padded batch). The stacked cache is kept between steps: while the same states step together — the steady
 * state of continuous batching — a step is exactly one forward and nothing is copied. When the set changes, the new
 * stack is gathered from the old one (one index-select per layer for the rows that stay), the newcomers' own caches
 * are padded and appended, and columns that have become padding in every row are trimmed, so a long sequence that
 * left no longer costs its batch-mates attention work. A state that leaves the stack without being closed (it is
 * prefilled, copied or left out of a step) first gets its own positions back as its own cache.
 *
 * <p>Not thread-safe, like every {@link StepDecoder}.
 */
public final class DjlStepDecoder implements StepDecoder {
    private final CausalLM model;
    private final NDManager manager;
    private final int layers;
    private Stack stack;    // the stacked cache of the last step, or null

    /** A decoder over {@code model}'s weights; its caches live in a sub-manager of the model's, freed by close. */
    public DjlStepDecoder(CausalLM model) {
        this.model = model;
        this.manager = model.manager().newSubManager();
        try (KvCache probe = model.newCache(manager)) {
            this.layers = probe.layers();
        }
    }

    /** The rows of the last step, in the stacked cache's row order (null: a row closed since). */
    private static final class Stack {
        final List<Row> rows;
        KvCache cache;      // null until the first forward when every row was empty
        int columns;        // S

        Stack(List<Row> rows, KvCache cache, int columns) {
            this.rows = rows;
            this.cache = cache;
            this.columns = columns;
        }
    }

    /** One sequence: its positions live either in its own cache or in a row of the stack. */
    private final class Row implements State {
        int length;
        KvCache own;        // [1, H_kv, length, hd] per layer; null while empty or while in the stack
        Stack in;           // the stack holding this sequence's row, or null
        int row;
        boolean closed;

        @Override public int length() {
            check();
            return length;
        }

        @Override public State copy() {
            check();
            Row c = new Row();
            c.length = length;
            c.own = alone(this);
            return c;
        }

        @Override public void close() {
            if (closed) return;
            closed = true;
            if (in != null) in.rows.set(row, null);
            in = null;
            if (own != null) own.close();
            own = null;
        }

        DjlStepDecoder decoder() { return DjlStepDecoder.this; }

        void check() {
            if (closed) throw new IllegalStateException("this decoder state was closed");
        }

        /** Takes the row out of the stack into its own cache. */
        void leaveStack() {
            if (in == null) return;
            own = alone(this);
            in.rows.set(row, null);
            in = null;
        }
    }

    @Override public int vocabSize() { return model.config().vocabSize(); }

    @Override public int maxPositions() { return model.config().maxPositionEmbeddings(); }

    @Override public State newState() { return new Row(); }

    @Override
    public float[] prefill(State state, int[] tokens) {
        Row r = row(state);
        if (tokens.length == 0) throw new IllegalArgumentException("prefill needs at least one token");
        checkRoom(r, tokens.length);
        r.leaveStack();
        if (r.own == null) r.own = model.newCache(manager);
        float[] logits;
        try (NDManager step = manager.newSubManager()) {
            logits = model.forwardLast(step.create(tokens, new Shape(1, tokens.length)), null, r.own).toFloatArray();
        }
        r.length += tokens.length;
        return logits;
    }

    @Override
    public float[][] step(List<State> states, int[] tokens) {
        if (states.size() != tokens.length) {
            throw new IllegalArgumentException(states.size() + " states but " + tokens.length + " tokens");
        }
        if (states.isEmpty()) return new float[0][];
        List<Row> rows = new ArrayList<>(states.size());
        Set<Row> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (State s : states) {
            Row r = row(s);
            if (!seen.add(r)) throw new IllegalArgumentException("a state appears twice in one step");
            checkRoom(r, 1);
            rows.add(r);
        }
        if (!sameStack(rows)) restack(rows, seen);
        Stack st = stack;
        int b = st.rows.size();
        int s = st.columns;
        int[] input = new int[b];
        int[] mask = new int[b * (s + 1)];
        for (int i = 0; i < rows.size(); i++) input[rows.get(i).row] = tokens[i];
        for (int j = 0; j < b; j++) {
            // right-aligned: the row's positions are its last length columns, then the new token
            Arrays.fill(mask, j * (s + 1) + s - st.rows.get(j).length, (j + 1) * (s + 1), 1);
        }
        if (st.cache == null) st.cache = model.newCache(manager);
        float[] logits;
        try (NDManager step = manager.newSubManager()) {
            logits = model.forwardLast(step.create(input, new Shape(b, 1)), step.create(mask, new Shape(b, s + 1)),
                    st.cache).toFloatArray();                                    // [B·V]
        }
        st.columns++;
        int v = vocabSize();
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            r.length++;
            out[i] = Arrays.copyOfRange(logits, r.row * v, (r.row + 1) * v);
        }
        return out;
    }

    /** Whether {@code rows} are exactly the rows of the current stack (in any order). */
    private boolean sameStack(List<Row> rows) {
        if (stack == null || stack.rows.size() != rows.size()) return false;
        for (Row r : rows) if (r.in != stack) return false;
        return true;
    }

    /**
     * A new stack for {@code rows}: the rows of the old stack that stay are gathered from it in one index-select
     * per layer, newcomers' own caches are left-padded and appended, and the width becomes the longest row's length.
     * Old rows that do not take part keep their positions in their own caches.
     */
    private void restack(List<Row> rows, Set<Row> taking) {
        Stack old = stack;
        if (old != null) {
            for (Row r : old.rows) if (r != null && !taking.contains(r)) r.leaveStack();
        }
        List<Row> kept = new ArrayList<>();
        List<Row> fresh = new ArrayList<>();
        int width = 0;
        for (Row r : rows) {
            (old != null && r.in == old ? kept : fresh).add(r);
            width = Math.max(width, r.length);
        }
        List<Row> order = new ArrayList<>(kept);
        order.addAll(fresh);
        KvCache cache = null;
        if (width > 0) {
            NDArray[] keys = new NDArray[layers];
            NDArray[] values = new NDArray[layers];
            try (NDManager tmp = manager.newSubManager()) {
                long[] pick = new long[kept.size()];
                for (int i = 0; i < pick.length; i++) pick[i] = kept.get(i).row;
                NDArray index = kept.isEmpty() ? null : tmp.create(pick);
                for (int l = 0; l < layers; l++) {
                    keys[l] = stackLayer(tmp, old, index, fresh, width, l, true);
                    values[l] = stackLayer(tmp, old, index, fresh, width, l, false);
                }
                cache = KvCache.of(manager, keys, values, width);
            }
        }
        Stack next = new Stack(order, cache, width);
        for (int i = 0; i < order.size(); i++) {
            Row r = order.get(i);
            r.in = next;
            r.row = i;
            if (r.own != null) r.own.close();
            r.own = null;
        }
        if (old != null && old.cache != null) old.cache.close();
        stack = next;
    }

    /** One layer's keys (or values) of the new stack, [rows, H_kv, width, hd]. */
    private NDArray stackLayer(NDManager tmp, Stack old, NDArray index, List<Row> fresh, int width, int layer,
                               boolean keys) {
        NDList parts = new NDList();
        NDArray like = null;
        if (index != null) {
            NDArray all = keys ? old.cache.keys(layer) : old.cache.values(layer);
            like = all;
            parts.add(fit(tmp, all.get(index), old.columns, width));
        }
        for (Row r : fresh) {
            if (r.own != null) {
                like = keys ? r.own.keys(layer) : r.own.values(layer);
            }
        }
        for (Row r : fresh) {
            if (r.own == null) {
                Shape s = like.getShape();      // an empty row among others: all padding
                parts.add(tmp.zeros(new Shape(1, s.get(1), width, s.get(3)), like.getDataType()));
            } else {
                parts.add(fit(tmp, keys ? r.own.keys(layer) : r.own.values(layer), r.length, width));
            }
        }
        // a lone newcomer's own array may come back unchanged: the new cache takes it over from the old one
        return parts.size() == 1 ? parts.head() : NDArrays.concat(parts, 0);
    }

    /** Right-aligns [B, H_kv, from, hd] to {@code width} columns: drops leading columns or pads with zeros. */
    private static NDArray fit(NDManager tmp, NDArray a, int from, int width) {
        if (from == width) return a;
        if (from > width) return a.get(new NDIndex(":, :, {}:, :", from - width));
        Shape s = a.getShape();
        NDArray pad = tmp.zeros(new Shape(s.get(0), s.get(1), width - from, s.get(3)), a.getDataType());
        return pad.concat(a, 2);
    }

    /** A new cache with {@code r}'s positions alone, [1, H_kv, length, hd] per layer; null when it is empty. */
    private KvCache alone(Row r) {
        if (r.length == 0) return null;
        KvCache src = r.in != null ? r.in.cache : r.own;
        int at = r.in != null ? r.row : 0;
        int from = src.length() - r.length;
        NDArray[] keys = new NDArray[layers];
        NDArray[] values = new NDArray[layers];
        NDIndex slice = new NDIndex("{}:{}, :, {}:, :", at, at + 1, from);
        for (int l = 0; l < layers; l++) {
            // a copy, not a view: the source is replaced at its next step and should not be kept alive by this one
            try (NDArray k = src.keys(l).get(slice); NDArray v = src.values(l).get(slice)) {
                keys[l] = k.duplicate();
                values[l] = v.duplicate();
            }
        }
        return KvCache.of(manager, keys, values, r.length);
    }

    private Row row(State s) {
        if (!(s instanceof Row r) || r.decoder() != this) {
            throw new IllegalArgumentException("the state was not made by this decoder");
        }
        r.check();
        return r;
    }

    private void checkRoom(Row r, int more) {
        if (r.length + more > maxPositions()) {
            throw new IllegalArgumentException("the sequence would hold " + (r.length + more) + " positions, past the "
                    + "model's " + maxPositions() + " (max_position_embeddings)");
        }
    }

    @Override
    public void close() {
        stack = null;
        manager.close();
    }
}
