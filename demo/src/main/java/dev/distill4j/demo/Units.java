package dev.distill4j.demo;

import java.math.BigDecimal;
import java.util.SplittableRandom;

/**
 * Unit conversions by a power of ten or by 60, in exact decimal arithmetic ({@link BigDecimal}) so no answer carries
 * a float artefact. Answers are bare numbers; the unit is in the question.
 */
final class Units {
    /** A conversion {@code 1 big = factor small}. */
    private record Pair(String big, String bigName, String small, String smallName, int factor) {}

    private static final Pair[] PAIRS = {
        new Pair("km", "kilometres", "m", "metres", 1000),
        new Pair("m", "metres", "cm", "centimetres", 100),
        new Pair("kg", "kilograms", "g", "grams", 1000),
        new Pair("h", "hours", "min", "minutes", 60),
    };

    private Units() {}

    static Draft draw(SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0, 1 -> down(r, PAIRS[r.nextInt(PAIRS.length)]);
            case 2 -> up(r, PAIRS[r.nextInt(PAIRS.length)]);
            default -> r.nextBoolean() ? kmToCm(r) : hoursAndMinutes(r);
        };
    }

    /** big → small: multiply. Values have at most two decimals, like "3.25 km". */
    private static Draft down(SplittableRandom r, Pair p) {
        BigDecimal v = BigDecimal.valueOf(r.nextInt(1, 400), r.nextInt(3)).stripTrailingZeros();
        BigDecimal out = v.multiply(BigDecimal.valueOf(p.factor));
        String q = r.nextBoolean() ? "Convert " + plain(v) + " " + p.big + " to " + p.smallName + "."
                : "How many " + p.smallName + " are in " + plain(v) + " " + p.big + "?";
        return Draft.of(q, plain(out), "1 " + p.big + " = " + p.factor + " " + p.small + ".",
                plain(v) + " × " + p.factor + " = " + plain(out) + ".");
    }

    /** small → big: divide, choosing the value so the quotient has at most two decimals. */
    private static Draft up(SplittableRandom r, Pair p) {
        BigDecimal out = BigDecimal.valueOf(r.nextInt(1, 400), r.nextInt(3)).stripTrailingZeros();
        if (p.factor == 60) out = BigDecimal.valueOf(r.nextInt(1, 40) * 25L, 2).stripTrailingZeros(); // quarters
        BigDecimal v = out.multiply(BigDecimal.valueOf(p.factor)).stripTrailingZeros();
        String q = r.nextBoolean() ? "Convert " + plain(v) + " " + p.small + " to " + p.bigName + "."
                : "How many " + p.bigName + " are in " + plain(v) + " " + p.small + "?";
        return Draft.of(q, plain(out), "1 " + p.big + " = " + p.factor + " " + p.small + ".",
                plain(v) + " ÷ " + p.factor + " = " + plain(out) + ".");
    }

    private static Draft kmToCm(SplittableRandom r) {
        BigDecimal km = BigDecimal.valueOf(r.nextInt(1, 100), r.nextInt(2)).stripTrailingZeros();
        BigDecimal m = km.multiply(BigDecimal.valueOf(1000));
        BigDecimal cm = m.multiply(BigDecimal.valueOf(100));
        return Draft.of("Convert " + plain(km) + " km to centimetres.", plain(cm),
                plain(km) + " × 1000 = " + plain(m) + " m.", plain(m) + " × 100 = " + plain(cm) + " cm.");
    }

    private static Draft hoursAndMinutes(SplittableRandom r) {
        int h = r.nextInt(1, 13);
        int min = r.nextInt(1, 60);
        int total = h * 60 + min;
        return Draft.of("How many minutes are in " + h + " h " + min + " min?", Integer.toString(total),
                h + " h = " + h + " × 60 = " + h * 60 + " min.", h * 60 + " + " + min + " = " + total + ".");
    }

    static String plain(BigDecimal v) {
        return v.signum() == 0 ? "0" : v.stripTrailingZeros().toPlainString();
    }
}
