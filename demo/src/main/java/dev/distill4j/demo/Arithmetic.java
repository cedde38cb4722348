package dev.distill4j.demo;

import java.util.SplittableRandom;

/**
 * Two-operation integer arithmetic on two-digit numbers and a one-digit factor, worked one operation per step, so
 * every intermediate result is written out before it is used.
 */
final class Arithmetic {
    private static final String[] ASK = {"Compute %s.", "What is %s?", "Calculate %s.", "Work out %s."};

    private Arithmetic() {}

    static Draft draw(SplittableRandom r) {
        int a = r.nextInt(10, 100);
        int b = r.nextInt(10, 100);
        int c = r.nextInt(2, 10);
        String ask = ASK[r.nextInt(ASK.length)];
        return switch (r.nextInt(5)) {
            case 0 -> { // (a + b) × c
                int s = a + b;
                yield Draft.of(ask.formatted("(" + a + " + " + b + ") × " + c), Integer.toString(s * c),
                        a + " + " + b + " = " + s + ".", s + " × " + c + " = " + s * c + ".");
            }
            case 1 -> { // (a - b) × c with a > b
                int hi = Math.max(a, b) + 1, lo = Math.min(a, b);
                int d = hi - lo;
                yield Draft.of(ask.formatted("(" + hi + " - " + lo + ") × " + c), Integer.toString(d * c),
                        hi + " - " + lo + " = " + d + ".", d + " × " + c + " = " + d * c + ".");
            }
            case 2 -> { // a × c + b
                int p = a * c;
                yield Draft.of(ask.formatted(a + " × " + c + " + " + b), Integer.toString(p + b),
                        a + " × " + c + " = " + p + ".", p + " + " + b + " = " + (p + b) + ".");
            }
            case 3 -> { // a × c - b, b clamped below a × c so the result stays positive
                int p = a * c;
                int q = Math.min(b, p - 1);
                yield Draft.of(ask.formatted(a + " × " + c + " - " + q), Integer.toString(p - q),
                        a + " × " + c + " = " + p + ".", p + " - " + q + " = " + (p - q) + ".");
            }
            default -> { // a + b - c', with c' two-digit and below a + b
                int s = a + b;
                int d = r.nextInt(10, Math.min(100, s));
                yield Draft.of(ask.formatted(a + " + " + b + " - " + d), Integer.toString(s - d),
                        a + " + " + b + " = " + s + ".", s + " - " + d + " = " + (s - d) + ".");
            }
        };
    }
}
