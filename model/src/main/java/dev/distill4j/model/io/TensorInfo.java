package dev.distill4j.model.io;

import java.util.Arrays;

/**
 * One tensor's header entry.
 *
 * @param name   HF parameter name
 * @param dtype  element type on disk
 * @param shape  dimensions, outermost first
 * @param begin  absolute byte offset of the first element in the file (header included)
 * @param end    absolute byte offset just past the last element
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public long numel() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public long byteSize() { return end - begin; }

    public String shapeString() { return Arrays.toString(shape); }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() { return name.hashCode() * 31 + Arrays.hashCode(shape); }

    @Override
    public String toString() { return name + " " + dtype + shapeString(); }
}
