package dev.distill4j.demo;

import java.math.BigDecimal;
import java.util.SplittableRandom;

/**
 * Metric conversions by a power of ten, in exact decimal arithmetic ({@link BigDecimal}) so no answer carries a
 * float artefact. The working names the factor and then moves the decimal point, which is what the conversion is:
 * digits are copied, the point moves and zeros are added or dropped. Answers are bare numbers; the unit is in the
 * question.
 *
 * <pre>
 * Convert 3.25 km to metres.
 * Step 1: 1 km = 1000 m, so multiply by 1000.
 * Step 2: 3.25 × 1000 = 3250.
 * Answer: 3250
 * </pre>
 */
final class Units {
    /** A conversion {@code 1 big = factor small}. */
    private record Pair(String big, String bigName, String small, String smallName, int factor) {}

    private static final Pair[] PAIRS = {
        new Pair("km", "kilometres", "m", "metres", 1000),
        new Pair("m", "metres", "cm", "centimetres", 100),
        new Pair("cm", "centimetres", "mm", "millimetres", 10),
        new Pair("kg", "kilograms", "g", "grams", 1000),
        new Pair("L", "litres", "mL", "millilitres", 1000),
    };

    private Units() {}

    static Draft draw(SplittableRandom r) {
        Pair p = PAIRS[r.nextInt(PAIRS.length)];
        return r.nextBoolean() ? down(r, p) : up(r, p);
    }

    /** big → small: multiply. Values have one to three digits and at most two decimals, like "3.25 km". */
    private static Draft down(SplittableRandom r, Pair p) {
        BigDecimal v = value(r);
        BigDecimal out = v.multiply(BigDecimal.valueOf(p.factor));
        String q = r.nextBoolean() ? "Convert " + plain(v) + " " + p.big + " to " + p.smallName + "."
                : "How many " + p.smallName + " are in " + plain(v) + " " + p.big + "?";
        return Draft.of(q, plain(out), "1 " + p.big + " = " + p.factor + " " + p.small + ", so multiply by "
                + p.factor + ".", plain(v) + " × " + p.factor + " = " + plain(out) + ".");
    }

    /** small → big: divide; the quotient is drawn first, so it has one to three digits and at most two decimals. */
    private static Draft up(SplittableRandom r, Pair p) {
        BigDecimal out = value(r);
        BigDecimal v = out.multiply(BigDecimal.valueOf(p.factor)).stripTrailingZeros();
        String q = r.nextBoolean() ? "Convert " + plain(v) + " " + p.small + " to " + p.bigName + "."
                : "How many " + p.bigName + " are in " + plain(v) + " " + p.small + "?";
        return Draft.of(q, plain(out), "1 " + p.big + " = " + p.factor + " " + p.small + ", so divide by "
                + p.factor + ".", plain(v) + " ÷ " + p.factor + " = " + plain(out) + ".");
    }

    private static BigDecimal value(SplittableRandom r) {
        return BigDecimal.valueOf(r.nextInt(1, 1000), r.nextInt(3)).stripTrailingZeros();
    }

    static String plain(BigDecimal v) {
        return v.signum() == 0 ? "0" : v.stripTrailingZeros().toPlainString();
    }
}
