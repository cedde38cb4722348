package dev.distill4j.model.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Repeats a measurement until the figures it reports have settled: on a shared 2-vCPU guest the same decode loop
 * moves by ±30–50 % from one run to the next (docs/benchmarks.md, session 7), so one median of three says little.
 * Each sample is a tuple of figures taken together (e.g. F32 tokens/s, int8 tokens/s and their ratio from one pair of
 * back-to-back runs, so a drift of the machine hits both); sampling goes on until every figure's interquartile range
 * is within {@code spread} of its median, at least {@code min} and at most {@code max} samples.
 */
final class Repeated {
    private Repeated() {}

    /** One figure over the samples: median and quartiles. */
    record Series(double median, double q1, double q3, int n) {
        /** Interquartile range relative to the median. */
        double spread() { return (q3 - q1) / Math.abs(median); }

        /** e.g. "1,234 (IQR 1,200–1,260, 9 samples)" with {@code format} for the numbers. */
        String describe(String format) {
            return String.format(format, median) + " (IQR " + String.format(format, q1).trim() + "–"
                    + String.format(format, q3).trim() + ", " + n + " samples)";
        }
    }

    /** Samples until settled (or {@code max}); one {@link Series} per figure of the tuple. */
    static Series[] until(Supplier<double[]> sample, int min, int max, double spread) {
        List<double[]> samples = new ArrayList<>();
        while (true) {
            samples.add(sample.get());
            Series[] s = series(samples);
            if (samples.size() >= max) return s;
            if (samples.size() >= min && Arrays.stream(s).allMatch(x -> x.spread() <= spread)) return s;
        }
    }

    static Series[] series(List<double[]> samples) {
        int k = samples.getFirst().length;
        Series[] out = new Series[k];
        for (int i = 0; i < k; i++) {
            int j = i;
            double[] v = samples.stream().mapToDouble(t -> t[j]).sorted().toArray();
            out[i] = new Series(quantile(v, 0.5), quantile(v, 0.25), quantile(v, 0.75), v.length);
        }
        return out;
    }

    /** Linear interpolation between order statistics (type 7, R's default). */
    static double quantile(double[] sorted, double p) {
        double h = (sorted.length - 1) * p;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
