package dev.distill4j.demo;

import java.time.DayOfWeek;
import java.time.format.TextStyle;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Weekday arithmetic: the day of the week some days after or before a given weekday. The working splits the days
 * into whole weeks and a remainder, then moves the weekday by the remainder; the truth comes from
 * {@link DayOfWeek#plus}.
 *
 * <pre>
 * If today is Tuesday, what day of the week will it be in 10 days?
 * Step 1: 10 = 7 + 3, so 3 days on.
 * Step 2: Tuesday + 3 is Friday.
 * Answer: Friday
 * </pre>
 */
final class Dates {
    private Dates() {}

    private static final String[] LATER = {"If today is %s, what day of the week will it be in %d days?",
        "What day of the week is %2$d days after a %1$s?", "A trip starts on a %s and lasts %d days. On what day of "
                + "the week does it end?"};
    private static final String[] EARLIER = {"If today is %s, what day of the week was it %d days ago?",
        "What day of the week is %2$d days before a %1$s?", "A parcel arrived on a %s after %d days on the way. On "
                + "what day of the week was it sent?"};

    static Draft draw(SplittableRandom r) {
        DayOfWeek today = DayOfWeek.of(r.nextInt(1, 8));
        int n = r.nextInt(1, 100);
        int weeks = n / 7 * 7, rest = n % 7;
        String split = n + " = " + weeks + " + " + rest;
        if (r.nextBoolean()) {
            DayOfWeek answer = today.plus(n);
            return Draft.of(LATER[r.nextInt(LATER.length)].formatted(dayName(today), n), dayName(answer),
                    split + ", so " + rest + " days on.", dayName(today) + " + " + rest + " is " + dayName(answer) + ".");
        }
        DayOfWeek answer = today.minus(n);
        return Draft.of(EARLIER[r.nextInt(EARLIER.length)].formatted(dayName(today), n), dayName(answer),
                split + ", so " + rest + " days back.", dayName(today) + " - " + rest + " is " + dayName(answer) + ".");
    }

    static String dayName(DayOfWeek d) {
        return d.getDisplayName(TextStyle.FULL, Locale.ENGLISH);
    }
}
