package dev.distill4j.demo;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.format.TextStyle;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Calendar questions whose truth comes from java.time: adding days to a date (at most 28, so the sum crosses at
 * most one month end and the working stays two steps), and the weekday of a later date in the same month given the
 * weekday of an earlier one.
 */
final class Dates {
    private static final LocalDate FIRST = LocalDate.of(2000, 1, 1);
    private static final int DAYS = 365 * 40;

    private Dates() {}

    static Draft draw(SplittableRandom r) {
        return r.nextBoolean() ? addDays(r) : weekday(r);
    }

    private static Draft addDays(SplittableRandom r) {
        LocalDate start = FIRST.plusDays(r.nextInt(DAYS));
        int n = r.nextInt(1, 29);
        LocalDate end = start.plusDays(n);
        String q = r.nextBoolean() ? "What date is " + n + " days after " + start + "?"
                : "Add " + n + " days to " + start + ".";
        int sum = start.getDayOfMonth() + n;
        int monthLength = YearMonth.from(start).lengthOfMonth();
        String first = start.getDayOfMonth() + " + " + n + " = " + sum + "; " + monthName(start) + " "
                + start.getYear() + " has " + monthLength + " days.";
        if (sum <= monthLength) return Draft.of(q, end.toString(), first);
        return Draft.of(q, end.toString(), first,
                sum + " - " + monthLength + " = " + (sum - monthLength) + " in the next month.");
    }

    private static Draft weekday(SplittableRandom r) {
        LocalDate known = FIRST.plusDays(r.nextInt(DAYS)).withDayOfMonth(r.nextInt(1, 11));
        int gap = r.nextInt(1, YearMonth.from(known).lengthOfMonth() - known.getDayOfMonth() + 1);
        LocalDate asked = known.plusDays(gap);
        String q = known + " is a " + dayName(known.getDayOfWeek()) + ". What day of the week is " + asked + "?";
        String answer = dayName(asked.getDayOfWeek());
        return Draft.of(q, answer,
                asked.getDayOfMonth() + " - " + known.getDayOfMonth() + " = " + gap + " days later.",
                gap + " mod 7 = " + gap % 7 + ", and " + dayName(known.getDayOfWeek()) + " + " + gap % 7 + " is "
                        + answer + ".");
    }

    static String dayName(DayOfWeek d) {
        return d.getDisplayName(TextStyle.FULL, Locale.ENGLISH);
    }

    private static String monthName(LocalDate d) {
        return d.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
    }
}
