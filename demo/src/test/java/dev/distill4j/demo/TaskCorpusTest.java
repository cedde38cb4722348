package dev.distill4j.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.demo.TaskCorpus.Kind;
import dev.distill4j.eval.AnswerExtractor;
import dev.distill4j.demo.TaskCorpus.Task;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.format.TextStyle;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TaskCorpusTest {
    private static final List<Task> TASKS = TaskCorpus.tasks(42, 5000, TaskCorpus.ALL_KINDS).toList();

    @Test
    void sameSeedSameTasksOtherSeedOtherTasks() {
        assertThat(TaskCorpus.tasks(42, 5000, TaskCorpus.ALL_KINDS).toList()).isEqualTo(TASKS);
        // a prefix of a longer stream is the shorter stream
        assertThat(TaskCorpus.tasks(42, 100, TaskCorpus.ALL_KINDS).toList()).isEqualTo(TASKS.subList(0, 100));
        List<Task> other = TaskCorpus.tasks(43, 100, TaskCorpus.ALL_KINDS).toList();
        assertThat(other).extracting(Task::prompt).doesNotContainAnyElementsOf(
                TASKS.subList(0, 100).stream().map(Task::prompt).toList());
        assertThat(other.getFirst().id()).isEqualTo("t17-0");
    }

    @Test
    void idsAndPromptsAreUnique() {
        assertThat(TASKS).extracting(Task::id).doesNotHaveDuplicates();
        assertThat(TASKS).extracting(Task::prompt).doesNotHaveDuplicates();
    }

    @Test
    void kindsAreBalancedAndOnlyTheChosenOnes() {
        Map<Kind, Long> counts = TASKS.stream().collect(Collectors.groupingBy(Task::kind, Collectors.counting()));
        assertThat(counts).hasSize(5).allSatisfy((k, n) -> assertThat(n).isEqualTo(1000));
        List<Task> two = TaskCorpus.tasks(1, 7, EnumSet.of(Kind.DATE, Kind.STRING)).toList();
        assertThat(two).extracting(Task::kind).containsExactly(Kind.DATE, Kind.STRING, Kind.DATE, Kind.STRING,
                Kind.DATE, Kind.STRING, Kind.DATE);
        assertThatThrownBy(() -> TaskCorpus.tasks(1, 3, Set.of())).hasMessageContaining("at least one");
        // within a kind, every variant occurs
        assertThat(TASKS.stream().filter(t -> t.kind() == Kind.STRING).map(t -> t.prompt().split(" ")[0]).distinct())
                .contains("Reverse", "Write", "How");
        assertThat(TASKS.stream().filter(t -> t.kind() == Kind.FACT_LOOKUP))
                .anyMatch(t -> t.prompt().contains("whose capital is")).anyMatch(t -> !t.prompt().contains("whose"));
    }

    @Test
    void everyResponseEndsWithItsAnswerAndTheExtractorReadsIt() {
        for (Task t : TASKS) {
            assertThat(t.rationale()).as(t.id()).startsWith("Step 1: ").endsWith("\nAnswer: " + t.answer());
            assertThat(AnswerExtractor.extract(t.rationale())).as(t.id()).contains(AnswerExtractor.normalise(t.answer()));
            assertThat(AnswerExtractor.isCorrect(t.rationale(), t.answer())).isTrue();
            assertThat(t.answer()).isEqualTo(t.answer().strip()).isNotEmpty();
        }
    }

    @Test
    void everyAnswerIsRight() {
        Map<Kind, Function<String, String>> solvers = Map.of(Kind.ARITHMETIC, TaskCorpusTest::arithmetic,
                Kind.UNIT_CONVERSION, TaskCorpusTest::units, Kind.DATE, TaskCorpusTest::dates,
                Kind.STRING, TaskCorpusTest::strings, Kind.FACT_LOOKUP, TaskCorpusTest::facts);
        for (Task t : TASKS) {
            String solved = solvers.get(t.kind()).apply(t.prompt());
            assertThat(AnswerExtractor.isCorrect("Answer: " + solved, t.answer())).as(t.id() + ": " + t.prompt()
                    + " → " + solved + ", task says " + t.answer()).isTrue();
        }
    }

    /** A worked equation: numbers joined by + - × ÷, evaluated left to right, "=" a number. */
    private static final Pattern EQUATION =
            Pattern.compile("(?<![\\d.])(\\d+(?:\\.\\d+)?(?: [-+×÷] \\d+(?:\\.\\d+)?)+) = (\\d+(?:\\.\\d+)?)");
    /** Weekday working: "39 = 35 + 4, so": whole weeks plus a remainder below 7. */
    private static final Pattern WEEKS = Pattern.compile("(\\d+) = (\\d+) \\+ (\\d), so");

    @Test
    void everyWorkedEquationIsTrue() {
        int checked = 0;
        for (Task t : TASKS) {
            Matcher m = EQUATION.matcher(t.rationale());
            while (m.find()) {
                String[] terms = m.group(1).split(" ");
                BigDecimal v = new BigDecimal(terms[0]);
                for (int i = 1; i < terms.length; i += 2) {
                    BigDecimal x = new BigDecimal(terms[i + 1]);
                    v = switch (terms[i]) {
                        case "+" -> v.add(x);
                        case "-" -> v.subtract(x);
                        case "×" -> v.multiply(x);
                        default -> v.divide(x, 10, RoundingMode.UNNECESSARY);
                    };
                }
                assertThat(new BigDecimal(m.group(2))).as(t.id() + ": " + m.group()).isEqualByComparingTo(v);
                checked++;
            }
            Matcher w = WEEKS.matcher(t.rationale());
            while (w.find()) {
                int n = Integer.parseInt(w.group(1)), weeks = Integer.parseInt(w.group(2)), rest = Integer.parseInt(w.group(3));
                assertThat(weeks % 7).as(w.group()).isZero();
                assertThat(weeks + rest).as(w.group()).isEqualTo(n);
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(4000);
    }

    @Test
    void columnArithmeticWritesTheAnswersDigits() {
        Pattern write = Pattern.compile("write (\\d)");
        for (Task t : TASKS) {
            if (t.kind() != Kind.ARITHMETIC) continue;
            StringBuilder digits = new StringBuilder();
            Matcher m = write.matcher(t.rationale());
            while (m.find()) digits.append(m.group(1));
            assertThat(digits.reverse().toString()).as(t.id() + ": " + t.rationale()).isEqualTo(t.answer());
        }
    }

    @Test
    void splitsAreDisjointAndReproducible() {
        List<List<Task>> s = TaskCorpus.splits(7, TaskCorpus.ALL_KINDS, 3000, 400, 300);
        assertThat(s).extracting(List::size).containsExactly(3000, 400, 300);
        assertThat(TaskCorpus.splits(7, TaskCorpus.ALL_KINDS, 3000, 400, 300)).isEqualTo(s);
        Set<String> ids = new HashSet<>(), prompts = new HashSet<>();
        for (List<Task> split : s) {
            for (Task t : split) {
                assertThat(ids.add(t.id())).as(t.id()).isTrue();
                assertThat(prompts.add(t.prompt())).as(t.prompt()).isTrue();
            }
        }
        assertThat(TaskCorpus.splitSeed(7, 0)).isNotEqualTo(TaskCorpus.splitSeed(7, 1));
    }

    @Test
    void kindsParseFromTheirFileNames() {
        assertThat(Kind.parse("unit_conversion")).isEqualTo(Kind.UNIT_CONVERSION);
        assertThat(Kind.parse("Fact-Lookup")).isEqualTo(Kind.FACT_LOOKUP);
        assertThatThrownBy(() -> Kind.parse("poetry")).hasMessageContaining("unknown task kind 'poetry'")
                .hasMessageContaining("arithmetic");
    }

    // ---------------------------------------------------------------- independent solvers, from the prompt alone

    private static String arithmetic(String prompt) {
        String expr = prompt.replaceFirst("^(Compute|What is|Calculate|Work out) ", "").replaceFirst("[.?]$", "");
        return Long.toString(new Expr(expr).parse());
    }

    /** + - × with parentheses, × binding tighter. */
    private static final class Expr {
        private final String s;
        private int i;

        Expr(String s) { this.s = s.replace(" ", ""); }

        long parse() {
            long v = sum();
            assertThat(i).as(s).isEqualTo(s.length());
            return v;
        }

        private long sum() {
            long v = product();
            while (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                char op = s.charAt(i++);
                long w = product();
                v = op == '+' ? v + w : v - w;
            }
            return v;
        }

        private long product() {
            long v = atom();
            while (i < s.length() && s.charAt(i) == '×') {
                i++;
                v *= atom();
            }
            return v;
        }

        private long atom() {
            if (s.charAt(i) == '(') {
                i++;
                long v = sum();
                assertThat(s.charAt(i++)).isEqualTo(')');
                return v;
            }
            int from = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
            return Long.parseLong(s.substring(from, i));
        }
    }

    /** Every unit in its base unit (m, g, mL). */
    private static final Map<String, BigDecimal> BASE = Map.of("km", BigDecimal.valueOf(1000), "m", BigDecimal.ONE,
            "cm", new BigDecimal("0.01"), "mm", new BigDecimal("0.001"), "kg", BigDecimal.valueOf(1000),
            "g", BigDecimal.ONE, "L", BigDecimal.valueOf(1000), "mL", BigDecimal.ONE);
    private static final Map<String, String> NAMES = Map.of("kilometres", "km", "metres", "m", "centimetres", "cm",
            "millimetres", "mm", "kilograms", "kg", "grams", "g", "litres", "L", "millilitres", "mL");

    private static String units(String prompt) {
        Matcher m;
        if ((m = Pattern.compile("Convert ([\\d.]+) (\\w+) to (\\w+)\\.").matcher(prompt)).matches()) {
            return convert(m.group(1), m.group(2), NAMES.get(m.group(3)));
        }
        if ((m = Pattern.compile("How many (\\w+) are in ([\\d.]+) (\\w+)\\?").matcher(prompt)).matches()) {
            return convert(m.group(2), m.group(3), NAMES.get(m.group(1)));
        }
        throw new AssertionError("unrecognised: " + prompt);
    }

    private static String convert(String value, String from, String to) {
        assertThat(dimension(from)).as(from + " to " + to).isEqualTo(dimension(to));
        return new BigDecimal(value).multiply(BASE.get(from)).divide(BASE.get(to), 10, RoundingMode.UNNECESSARY)
                .toPlainString();
    }

    private static String dimension(String unit) {
        return switch (unit) {
            case "km", "m", "cm", "mm" -> "length";
            case "kg", "g" -> "mass";
            case "L", "mL" -> "volume";
            default -> throw new AssertionError("unknown unit " + unit);
        };
    }

    /** Weekday arithmetic, checked against java.time on a calendar: a known Monday plus or minus the days. */
    private static String dates(String prompt) {
        Matcher n = Pattern.compile("(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)").matcher(prompt);
        assertThat(n.find()).as(prompt).isTrue();
        Matcher d = Pattern.compile("(\\d+) days").matcher(prompt);
        assertThat(d.find()).as(prompt).isTrue();
        int days = Integer.parseInt(d.group(1));
        boolean later = prompt.contains(" will it be in ") || prompt.contains(" days after ")
                || prompt.contains("does it end");
        boolean earlier = prompt.contains(" days ago") || prompt.contains(" days before ") || prompt.contains("sent?");
        assertThat(later ^ earlier).as("one direction: " + prompt).isTrue();
        LocalDate monday = LocalDate.of(2024, 1, 1);
        LocalDate start = monday;
        while (!weekday(start).equals(n.group(1))) start = start.plusDays(1);
        return weekday(later ? start.plusDays(days) : start.minusDays(days));
    }

    private static String weekday(LocalDate d) {
        return d.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
    }

    private static String strings(String prompt) {
        Matcher m;
        if ((m = Pattern.compile("Reverse the letters ([a-z ]+)\\.").matcher(prompt)).matches()) {
            return new StringBuilder(m.group(1)).reverse().toString();
        }
        if ((m = Pattern.compile("Write the letters ([a-z ]+) in capitals\\.").matcher(prompt)).matches()) {
            return m.group(1).toUpperCase(Locale.ROOT);
        }
        if ((m = Pattern.compile("How many letters are in ([a-z ]+)\\?").matcher(prompt)).matches()) {
            return Integer.toString(m.group(1).replace(" ", "").length());
        }
        if ((m = Pattern.compile("How many times does ([a-z]) appear in ([a-z ]+)\\?").matcher(prompt)).matches()) {
            char c = m.group(1).charAt(0);
            return Long.toString(m.group(2).chars().filter(x -> x == c).count());
        }
        throw new AssertionError("unrecognised: " + prompt);
    }

    private static String facts(String prompt) {
        Matcher m = Pattern.compile("Facts: (.*)\nQuestion: What is the (\\w+) of (.*)\\?").matcher(prompt);
        assertThat(m.matches()).as(prompt).isTrue();
        Map<String, String> table = new HashMap<>(); // "capital of X" → Y
        Map<String, String> countryOfCapital = new HashMap<>();
        Matcher f = Pattern.compile("The (\\w+) of (\\w+) is (\\w+)\\.").matcher(m.group(1));
        int n = 0;
        while (f.find()) {
            n++;
            assertThat(table.put(f.group(1) + " of " + f.group(2), f.group(3))).as("repeated fact").isNull();
            if (f.group(1).equals("capital")) countryOfCapital.put(f.group(3), f.group(2));
        }
        assertThat(n).isBetween(3, 4);
        String subject = m.group(3);
        if (subject.startsWith("the country whose capital is ")) {
            subject = countryOfCapital.get(subject.substring("the country whose capital is ".length()));
        }
        String answer = table.get(m.group(2) + " of " + subject);
        assertThat(answer).as("answerable from the facts: " + prompt).isNotNull();
        return answer;
    }
}
