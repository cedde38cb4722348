package dev.distill4j.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Turns a [B, S] padding mask (1 = token, 0 = padding; left padding allowed) into what attention needs: position
 * ids and an additive mask combining causality, padding and an optional sliding window.
 */
final class AttentionMask {
    /** Added to masked scores. Finite so a query that sees nothing (a padding row) yields a uniform row, not NaN. */
    static final float MASKED = -1e30f;

    private AttentionMask() {}

    /** The mask on the host as [B][S]; all ones when {@code mask} is null. */
    static int[][] toHost(NDArray mask, int b, int s) {
        int[][] out = new int[b][s];
        if (mask == null) {
            for (int[] row : out) java.util.Arrays.fill(row, 1);
            return out;
        }
        Shape shape = mask.getShape();
        if (shape.dimension() != 2 || shape.get(0) != b || shape.get(1) != s) {
            throw new IllegalArgumentException("attention mask has shape " + shape + " but must be [" + b + ", "
                    + s + "] (batch, cached + new positions)");
        }
        int[] flat = mask.toType(DataType.INT32, false).toIntArray();
        for (int bi = 0; bi < b; bi++) System.arraycopy(flat, bi * s, out[bi], 0, s);
        return out;
    }

    /**
     * Position ids of the last {@code t} columns, as HF derives them for left padding:
     * {@code cumsum(mask) − 1}, with padding positions set to 1.
     */
    static int[][] positionIds(int[][] mask, int t) {
        int[][] pos = new int[mask.length][t];
        for (int bi = 0; bi < mask.length; bi++) {
            int s = mask[bi].length;
            int running = 0;
            for (int j = 0; j < s; j++) {
                running += mask[bi][j];
                int i = j - (s - t);
                if (i >= 0) pos[bi][i] = mask[bi][j] == 0 ? 1 : running - 1;
            }
        }
        return pos;
    }

    /**
     * Additive mask [B, 1, 1, T, S] (broadcasts over kv heads and query groups). Query i sits at column
     * {@code S − T + i}; key j is visible when it is not in the future, not padding and, with a window, when
     * {@code query − j < window}.
     */
    static NDArray additive(NDManager m, int[][] mask, int t, Integer window) {
        int b = mask.length;
        int s = b == 0 ? 0 : mask[0].length;
        int past = s - t;
        float[] add = new float[b * t * s];
        for (int bi = 0; bi < b; bi++) {
            for (int i = 0; i < t; i++) {
                int q = past + i;
                for (int j = 0; j < s; j++) {
                    boolean visible = j <= q && mask[bi][j] != 0 && (window == null || q - j < window);
                    if (!visible) add[(bi * t + i) * s + j] = MASKED;
                }
            }
        }
        return m.create(add, new Shape(b, 1, 1, t, s));
    }
}
