package dev.distill4j.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

/**
 * Keys and values of every past position, per layer, so decoding one token costs one position's work.
 * Holds its arrays in its own manager: close the cache to free them.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;     // per layer [B, H_kv, S, hd], after RoPE
    private final NDArray[] values;   // per layer [B, H_kv, S, hd]
    private int length;               // S: positions cached

    public KvCache(NDManager parent, int layers) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /**
     * A cache holding the given per-layer arrays ([B, H_kv, S, hd] each, after RoPE) as if {@code length} positions
     * had been fed: how a step decoder stacks several sequences' caches into one batch and splits them again. The
     * arrays move into the new cache's manager, so closing the cache frees them.
     */
    public static KvCache of(NDManager parent, NDArray[] keys, NDArray[] values, int length) {
        if (keys.length != values.length) {
            throw new IllegalArgumentException(keys.length + " key layers but " + values.length + " value layers");
        }
        KvCache c = new KvCache(parent, keys.length);
        for (int l = 0; l < keys.length; l++) {
            if (keys[l] == null || values[l] == null) throw new IllegalArgumentException("layer " + l + " has no arrays");
            long s = keys[l].getShape().get(2);
            if (s != length || values[l].getShape().get(2) != length) {
                throw new IllegalArgumentException("layer " + l + " holds " + s + " positions, not " + length);
            }
            keys[l].attach(c.manager);
            values[l].attach(c.manager);
            c.keys[l] = keys[l];
            c.values[l] = values[l];
        }
        c.length = length;
        return c;
    }

    /** Number of layers. */
    public int layers() { return keys.length; }

    /** Positions already cached (the "past" of the next forward). */
    public int length() { return length; }

    /** Appends this step's keys and values ([B, H_kv, T, hd]) to a layer; returns the layer's full {k, v}. */
    NDList append(int layer, NDArray k, NDArray v) {
        keys[layer] = extend(keys[layer], k);
        values[layer] = extend(values[layer], v);
        return new NDList(keys[layer], values[layer]);
    }

    private NDArray extend(NDArray old, NDArray step) {
        NDArray full = old == null ? step.duplicate() : old.concat(step, 2);
        full.attach(manager);
        if (old != null) old.close();
        return full;
    }

    /** Called once all layers appended {@code t} positions. */
    void advance(int t) { length += t; }

    /** Layer's keys [B, H_kv, S, hd], or null before the first forward. */
    public NDArray keys(int layer) { return keys[layer]; }

    public NDArray values(int layer) { return values[layer]; }

    @Override
    public void close() { manager.close(); }
}
