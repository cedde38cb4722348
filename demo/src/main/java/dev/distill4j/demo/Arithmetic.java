package dev.distill4j.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Addition of two- and three-digit numbers, worked the way it is taught: one column per step, from the ones up, each
 * step a single-digit sum with its carry written out. Every step is then
 * a fact about two or three digits (a table of a few hundred entries that a small model learns), and the answer
 * line reads the written digits back in order; nothing is computed "in one token".
 *
 * <pre>
 * What is 358 + 475?
 * Step 1: 8 + 5 = 13, write 3, carry 1.
 * Step 2: 5 + 7 + 1 = 13, write 3, carry 1.
 * Step 3: 3 + 4 + 1 = 8, write 8.
 * Answer: 833
 * </pre>
 */
final class Arithmetic {
    private static final String[] ASK = {"What is %s?", "Compute %s.", "Calculate %s.", "Work out %s."};

    private Arithmetic() {}

    static Draft draw(SplittableRandom r) {
        String ask = ASK[r.nextInt(ASK.length)];
        return add(ask, number(r), number(r));
    }

    /** Two or three digits, equally often. */
    private static int number(SplittableRandom r) {
        return r.nextBoolean() ? r.nextInt(10, 100) : r.nextInt(100, 1000);
    }

    static Draft add(String ask, int a, int b) {
        List<String> steps = new ArrayList<>();
        int carry = 0;
        for (int col = 0; col < Math.max(digits(a), digits(b)); col++) {
            int x = digit(a, col), y = digit(b, col);
            int sum = x + y + carry;
            String lhs = x + " + " + y + (carry > 0 ? " + " + carry : "");
            carry = sum / 10;
            steps.add(lhs + " = " + sum + ", write " + sum % 10 + (carry > 0 ? ", carry 1." : "."));
        }
        if (carry > 0) steps.add("carry 1, write 1.");
        return Draft.of(ask.formatted(a + " + " + b), Integer.toString(a + b), steps);
    }

    private static int digit(int n, int col) {
        return n / pow10(col) % 10;
    }

    private static int digits(int n) {
        return Integer.toString(n).length();
    }

    private static int pow10(int k) {
        int p = 1;
        for (int i = 0; i < k; i++) p *= 10;
        return p;
    }
}
