package dev.distill4j.train.loss;

import dev.distill4j.model.nn.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Shape plumbing shared by the losses: every loss works on rows [N, V], whatever batch shape the caller has. */
final class Rows {
    private Rows() {}

    /** [B, T, V] or [N, V] → [N, V]. */
    static NDArray of(NDArray logits) {
        Shape shape = logits.getShape();
        if (shape.dimension() < 2) {
            throw new IllegalArgumentException("logits must be [N, V] or [B, T, V], got " + shape);
        }
        long vocab = shape.get(shape.dimension() - 1);
        return shape.dimension() == 2 ? logits : logits.reshape(-1, vocab);
    }

    /** As {@link #of(NDArray)}, checking that {@code teacher} gives one row of alternatives per position. */
    static NDArray of(NDArray logits, TopKTeacher teacher) {
        NDArray z = of(logits);
        long n = z.getShape().get(0);
        if (teacher.positions() != n) {
            throw new IllegalArgumentException("the teacher covers " + teacher.positions()
                    + " positions but the logits have " + n + " rows");
        }
        return z;
    }

    /** A mask or per-position tensor of any shape with N elements → [N] in the given type. */
    static NDArray perRow(NDArray values, long rows, DataType type, String what) {
        if (values.size() != rows) {
            throw new IllegalArgumentException(what + " has " + values.size() + " elements but the logits have "
                    + rows + " rows; give one " + what + " entry per position");
        }
        NDArray flat = values.reshape(rows);
        return flat.getDataType() == type ? flat : flat.toType(type, false);
    }

    /** z / T, without the [N, V] copy when T = 1. */
    static NDArray tempered(NDArray logits, double temperature) {
        return temperature == 1.0 ? logits : Scalars.div(logits, temperature);
    }

    /** Number of positions with mask = 1. */
    static long count(NDArray mask) {
        return Math.round(mask.sum().toType(DataType.FLOAT64, false).getDouble());
    }

    static double value(NDArray scalar) {
        return scalar.toType(DataType.FLOAT64, false).getDouble();
    }
}
