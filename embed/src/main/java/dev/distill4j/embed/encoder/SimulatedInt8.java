package dev.distill4j.embed.encoder;

import ai.djl.ndarray.NDArray;
import dev.distill4j.model.nn.Scalars;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Map;

/**
 * Quantisation-aware training (Jacob et al. 2018) of the one int8 step that costs a BERT student its fidelity:
 * the feed-forward output projection's input, the GELU output {@code g}, which {@link OnnxQuantize} smooths and
 * rounds to uint8 with one range per batch. Keeping just that projection in float gives back all but 0.001 of the
 * recall@10 int8 costs an eleven-layer student (0.842 → 0.853, float 0.854; docs/embed.md); the query, key, value,
 * attention-output and intermediate inputs cost 0.001–0.002 each. So training sees that rounding, as ONNX Runtime
 * will do it, and learns weights it does not hurt:
 * <pre>
 *   s  = m^α / w^(1−α)              per channel c: m = max |g_c| on the calibration sentences, w = max_d |W_2[d, c]|
 *   x  = g / s                      SmoothQuant's division (OnnxQuantize multiplies W_2's rows by s)
 *   Δ  = (max(max x, 0) − min(min x, 0)) / 255,   z = clamp(round(−min(min x, 0) / Δ), 0, 255)
 *   x̂  = (clamp(round(x / Δ) + z, 0, 255) − z) · Δ          DynamicQuantizeLinear's range over the whole batch
 *   g' = (x + sg(x̂ − x)) · s                                 straight through: the forward sees x̂, the gradient x
 * </pre>
 * The weights' own int8 rounding (per column, 127 levels) is left out: on its own it keeps Spearman 0.9996 against
 * the float model. The range and the smoothing are constants to the gradient, as in PyTorch's fake quantisation.
 */
final class SimulatedInt8 implements BertEncoder.FfnHook {
    private final Map<String, NDArray> params;
    private final double alpha;
    private final float[][] channelMax;

    /**
     * @param params     the student's parameters by HF name (live: the smoothing follows {@code W_2} as it trains)
     * @param channelMax per layer, per channel, max |g| on the calibration sentences ({@link #calibrate}), as
     *                   {@link OnnxQuantize#calibrate} will measure it on the same sentences for the export
     * @param alpha      SmoothQuant's migration strength, as {@link OnnxQuantize} will use it
     */
    SimulatedInt8(Map<String, NDArray> params, float[][] channelMax, double alpha) {
        this.params = params;
        this.alpha = alpha;
        this.channelMax = channelMax;
    }

    /**
     * Per layer and channel, the largest |GELU output| over {@code batches}, padded positions included (the
     * quantiser sees them): what {@link OnnxQuantize#calibrate} measures on the ONNX export.
     */
    static float[][] calibrate(BertEncoder encoder, List<long[][]> batches) {
        float[][] max = new float[encoder.config().numHiddenLayers()][encoder.config().intermediateSize()];
        for (long[][] ids : batches) {
            try (NDManager m = NDManager.newBaseManager()) {
                encoder.states(m, ids, (layer, g) -> {
                    float[] b = g.abs().reshape(-1, max[layer].length).max(new int[] {0}).toFloatArray();
                    for (int c = 0; c < b.length; c++) max[layer][c] = Math.max(max[layer][c], b[c]);
                    return g;
                });
            }
        }
        return max;
    }

    @Override
    public NDArray apply(int layer, NDArray g) {
        float[] m = channelMax[layer];
        // a detached view of W_2 lives in the parameter's manager: moved to the batch's, it goes with the batch
        NDArray w2 = params.get(BertWeights.layerPrefix(layer) + "output.dense.weight").stopGradient();
        w2.attach(g.getManager());
        float[] w = w2.abs().max(new int[] {0}).toFloatArray();                                          // [I] of [D, I]
        float[] s = new float[m.length];
        for (int c = 0; c < s.length; c++) {
            double v = Math.pow(Math.max(m[c], 1e-5), alpha) / Math.pow(Math.max(w[c], 1e-5), 1 - alpha);
            s[c] = (float) Math.max(v, 1e-5);
        }
        NDArray smooth = g.getManager().create(s);
        return roundTrip(g.div(smooth)).mul(smooth);
    }

    /**
     * {@code x} as DynamicQuantizeLinear and a uint8 GEMM see it (one asymmetric range over the whole tensor, zero
     * always representable), with the gradient of the identity (straight-through estimator).
     */
    static NDArray roundTrip(NDArray x) {
        NDArray seen = x.stopGradient();
        double lo = Math.min(seen.min().getFloat(), 0), hi = Math.max(seen.max().getFloat(), 0);
        if (hi - lo <= 0) return x;
        double step = (hi - lo) / 255, zero = Math.max(0, Math.min(255, Math.rint(-lo / step)));
        NDArray levels = Scalars.div(seen, step).round().add(Scalars.of(seen, zero)).clip(0, 255);
        NDArray rounded = Scalars.mul(levels.sub(Scalars.of(seen, zero)), step);
        return x.add(rounded.sub(seen));
    }
}
