package dev.distill4j.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Arithmetic with a constant whose tensor lives as long as the array it meets. Use these instead of DJL's
 * {@code Number} overloads ({@code x.mul(2)}, {@code x.div(t)}, {@code x.pow(-0.5)}, {@code x.maximum(floor)}) on
 * anything a backward pass will go through.
 *
 * <p>Why: DJL's PyTorch engine turns the number into a tensor over a Java direct buffer ({@code torch::from_blob}),
 * runs the op, and closes that tensor at once. Autograd has kept it for the backward pass (∂(x·c)/∂x = c,
 * ∂xᶜ/∂x = c·xᶜ⁻¹, …), but nothing keeps the buffer: once the garbage collector frees it, the backward reads freed
 * memory. Gradients came out slightly wrong, or NaN, whenever a collection fell between the forward and the
 * backward pass (rare at default heap settings, every few steps with a 2 MiB young generation; docs/training.md).
 * Here the constant is made in the array's own manager, so it stays until that scope closes, after the backward.
 * {@code add} and {@code sub} need no helper: their backward does not read the constant.
 */
public final class Scalars {
    private Scalars() {}

    /** {@code value} as a 0-d tensor of {@code like}'s type, owned by {@code like}'s manager. */
    public static NDArray of(NDArray like, double value) {
        // made in F32 directly for F32 arrays (every model here): one tensor per constant, not one plus a conversion
        NDArray c = like.getDataType() == DataType.FLOAT64 ? like.getManager().create(value)
                : like.getManager().create((float) value);
        return c.toType(like.getDataType(), false);
    }

    /** x · c */
    public static NDArray mul(NDArray x, double c) { return x.mul(of(x, c)); }

    /** x / c */
    public static NDArray div(NDArray x, double c) { return x.div(of(x, c)); }

    /** xᶜ */
    public static NDArray pow(NDArray x, double c) { return x.pow(of(x, c)); }

    /** max(x, c), element-wise */
    public static NDArray maximum(NDArray x, double c) { return x.maximum(of(x, c)); }
}
