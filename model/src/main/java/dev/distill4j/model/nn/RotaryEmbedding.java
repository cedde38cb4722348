package dev.distill4j.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.model.config.ModelConfig;

/**
 * Rotary position embeddings (Su et al. 2021) in Hugging Face's rotate-half layout: dimension i and i + d/2 form a
 * pair rotated by angle {@code position · inv_freq[i]}, with {@code inv_freq[i] = θ^(−2i/d)}.
 *
 * <p>{@code rope_scaling}: {@code linear} divides positions by {@code factor}; {@code llama3} rescales inv_freq
 * by wavelength band exactly as HF's {@code _compute_llama3_parameters}: long wavelengths (beyond
 * {@code original_max / low_freq_factor}) are divided by {@code factor}, short ones (below
 * {@code original_max / high_freq_factor}) kept, and the band between interpolated smoothly.
 */
public final class RotaryEmbedding {
    private final int headDim;
    private final float[] invFreq;      // [d/2], already scaled (linear scaling folded in)

    public RotaryEmbedding(ModelConfig c) {
        this.headDim = c.headDim();
        this.invFreq = inverseFrequencies(c);
    }

    /** The (scaled) inverse frequencies, computed in F32 like HF. */
    public static float[] inverseFrequencies(ModelConfig c) {
        int d = c.headDim();
        float[] inv = new float[d / 2];
        for (int i = 0; i < d / 2; i++) {
            // HF: 1 / base ** (arange(0, d, 2).float() / d), computed in float32
            inv[i] = (float) (1.0 / Math.pow(c.ropeTheta(), (float) (2 * i) / (float) d));
        }
        ModelConfig.RopeScaling s = c.ropeScaling();
        if (s == null) return inv;
        switch (s.type()) {
            case "linear" -> {
                // positions / factor  ==  inv_freq / factor
                for (int i = 0; i < inv.length; i++) inv[i] = (float) (inv[i] / s.factor());
            }
            case "llama3" -> {
                double oldContext = s.originalMaxPositionEmbeddings();
                double lowFreqWavelen = oldContext / s.lowFreqFactor();
                double highFreqWavelen = oldContext / s.highFreqFactor();
                for (int i = 0; i < inv.length; i++) {
                    float f = inv[i];
                    float wavelen = (float) (2 * Math.PI / f);
                    float scaled = wavelen > lowFreqWavelen ? (float) (f / s.factor()) : f;
                    boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
                    if (medium) {
                        float smooth = (float) ((oldContext / wavelen - s.lowFreqFactor())
                                / (s.highFreqFactor() - s.lowFreqFactor()));
                        scaled = (float) ((1 - smooth) * scaled / s.factor() + smooth * scaled);
                    }
                    inv[i] = scaled;
                }
            }
            default -> throw new IllegalArgumentException("rope_scaling type '" + s.type()
                    + "' is not supported (supported: linear, llama3)");
        }
        return inv;
    }

    /**
     * The rotation of one forward pass, in the [B, T, heads, d] layout the projections come out in (so the
     * element-wise work runs on contiguous memory). {@code sin} is signed, [−sin, sin], so that
     * {@code rotate_half(x)·sin = swap_halves(x)·sin_signed} needs no negation pass. The query tables also carry
     * attention's 1/√d scale, so that the [T × S] scores need no scaling pass of their own: RoPE is linear, so
     * rotating a scaled query equals scaling the rotated one.
     *
     * @param cos       [B, T, 1, d]
     * @param sin       [B, T, 1, d], signed
     * @param queryCos  cos / √d
     * @param querySin  sin / √d
     */
    public record Tables(NDArray cos, NDArray sin, NDArray queryCos, NDArray querySin) {
        /** Keys: x·cos + rotate_half(x)·sin. x: [B, T, H_kv, d]. */
        public NDArray rotateKeys(NDArray x) {
            return rotate(x, cos, sin);
        }

        /** Queries, rotated and scaled by 1/√d. x: [B, T, H, d]. */
        public NDArray rotateQueries(NDArray x) {
            return rotate(x, queryCos, querySin);
        }

        private static NDArray rotate(NDArray x, NDArray cos, NDArray signedSin) {
            NDList halves = x.split(2, 3);                          // x1 = x[..., :d/2], x2 = x[..., d/2:]
            NDArray swapped = halves.get(1).concat(halves.get(0), 3); // [x2, x1]; with [−sin, sin] = rotate_half·sin
            return x.mul(cos).add(swapped.mul(signedSin));
        }
    }

    /**
     * The tables for the given positions.
     *
     * @param positions [B][T] absolute position ids
     */
    public Tables tables(NDManager m, int[][] positions) {
        int b = positions.length;
        int t = b == 0 ? 0 : positions[0].length;
        int half = headDim / 2;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float[] cos = new float[b * t * headDim];
        float[] sin = new float[b * t * headDim];
        float[] qCos = new float[cos.length];
        float[] qSin = new float[sin.length];
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t; ti++) {
                int base = (bi * t + ti) * headDim;
                for (int i = 0; i < half; i++) {
                    float angle = (float) positions[bi][ti] * invFreq[i];   // F32 product as HF
                    float cv = (float) Math.cos(angle);
                    float sv = (float) Math.sin(angle);
                    cos[base + i] = cv;          // emb = cat(freqs, freqs)
                    cos[base + half + i] = cv;
                    sin[base + i] = -sv;
                    sin[base + half + i] = sv;
                }
                for (int i = 0; i < headDim; i++) {
                    qCos[base + i] = cos[base + i] * scale;
                    qSin[base + i] = sin[base + i] * scale;
                }
            }
        }
        Shape shape = new Shape(b, t, 1, headDim);
        return new Tables(m.create(cos, shape), m.create(sin, shape), m.create(qCos, shape), m.create(qSin, shape));
    }
}
