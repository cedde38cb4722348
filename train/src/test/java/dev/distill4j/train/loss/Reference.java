package dev.distill4j.train.loss;

/** Plain double-precision math, independent of DJL, that the tests compare the tensor code against. */
final class Reference {
    private Reference() {}

    static double[] softmax(double[] z, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v / temperature);
        double sum = 0;
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] / temperature - max);
            sum += p[i];
        }
        for (int i = 0; i < z.length; i++) p[i] /= sum;
        return p;
    }

    static double crossEntropy(double[] z, int target) {
        return -Math.log(softmax(z, 1)[target]);
    }

    static double kl(double[] p, double[] q) {
        double d = 0;
        for (int i = 0; i < p.length; i++) if (p[i] > 0) d += p[i] * Math.log(p[i] / q[i]);
        return d;
    }

    static double[] mix(double[] a, double[] b, double w) {
        double[] m = new double[a.length];
        for (int i = 0; i < a.length; i++) m[i] = w * a[i] + (1 - w) * b[i];
        return m;
    }

    static double[] row(double[] flat, int row, int width) {
        double[] r = new double[width];
        System.arraycopy(flat, row * width, r, 0, width);
        return r;
    }
}
