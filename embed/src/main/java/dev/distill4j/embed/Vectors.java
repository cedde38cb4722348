package dev.distill4j.embed;

/** Small dense-vector helpers shared by models and metrics. */
public final class Vectors {
    private Vectors() {}

    /** Scales {@code v} in place to unit length; a zero vector stays zero (an empty text has no direction). */
    public static float[] normalize(float[] v) {
        double s = 0;
        for (float x : v) s += (double) x * x;
        if (s == 0) return v;
        float inv = (float) (1 / Math.sqrt(s));
        for (int i = 0; i < v.length; i++) v[i] *= inv;
        return v;
    }

    public static double dot(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("dimension mismatch: " + a.length + " vs " + b.length);
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    public static double cosine(float[] a, float[] b) {
        double na = Math.sqrt(dot(a, a)), nb = Math.sqrt(dot(b, b));
        return na == 0 || nb == 0 ? 0 : dot(a, b) / (na * nb);
    }
}
