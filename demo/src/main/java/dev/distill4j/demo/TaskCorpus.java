package dev.distill4j.demo;

import dev.distill4j.core.InvalidInputException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The demo's task corpus: short multi-step problems with a known answer and a worked response, generated from a
 * seed (no text is taken from anywhere). A small model trained on the responses is the demo's "house teacher".
 *
 * <p>Every response is a few numbered steps and a last line {@code Answer: <answer>}; {@link AnswerExtractor}
 * reads that line back. Kinds: {@link Kind#ARITHMETIC} ("(23 + 48) × 3"), {@link Kind#UNIT_CONVERSION}
 * (km/m/cm, kg/g, h/min), {@link Kind#DATE} (adding days, weekdays; truth from java.time), {@link Kind#STRING}
 * (reverse, capitals, sort, count letters of invented words) and {@link Kind#FACT_LOOKUP} (questions about an
 * invented world whose relevant facts are given in the prompt).
 *
 * <p>The same seed, size and kinds always give the same tasks. Task i has kind {@code kinds[i mod |kinds|]} (kinds
 * in declaration order), so kinds are balanced to within one. Prompt texts are distinct within a stream, and
 * {@link #splits} keeps them distinct across splits too.
 */
public final class TaskCorpus {
    public enum Kind {
        ARITHMETIC, UNIT_CONVERSION, DATE, STRING, FACT_LOOKUP;

        /** The name used in files: "unit_conversion". */
        public String id() { return name().toLowerCase(Locale.ROOT); }

        public static Kind parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException("unknown task kind '" + s + "' (expected one of "
                        + EnumSet.allOf(Kind.class).stream().map(Kind::id).toList() + ")");
            }
        }
    }

    public static final Set<Kind> ALL_KINDS = EnumSet.allOf(Kind.class);

    /**
     * One task.
     *
     * @param id        unique within a seed: "t" + the seed in base 36 + "-" + the index
     * @param prompt    the user message
     * @param answer    the canonical short answer
     * @param rationale the worked response, ending with the line {@code Answer: <answer>}
     */
    public record Task(String id, Kind kind, String prompt, String answer, String rationale) {}

    /** Draws per prompt before giving up on finding a new one (only tiny spaces run out). */
    private static final int MAX_ATTEMPTS = 1000;

    private TaskCorpus() {}

    public static Stream<Task> tasks(long seed, int n, Set<Kind> kinds) {
        return tasks(seed, n, kinds, Set.of());
    }

    /** {@code n} tasks of {@code seed} whose prompts are not in {@code excludedPrompts}. */
    public static Stream<Task> tasks(long seed, int n, Set<Kind> kinds, Set<String> excludedPrompts) {
        if (n < 0) throw new InvalidInputException("number of tasks must be ≥ 0, got " + n);
        if (kinds.isEmpty()) throw new InvalidInputException("choose at least one task kind");
        List<Kind> order = List.copyOf(EnumSet.copyOf(kinds));
        Facts world = kinds.contains(Kind.FACT_LOOKUP) ? Facts.world(seed) : null;
        String prefix = "t" + Long.toUnsignedString(seed, 36) + "-";
        Iterator<Task> it = new Iterator<>() {
            private final Set<String> seen = new HashSet<>();
            private int i;

            @Override public boolean hasNext() { return i < n; }

            @Override public Task next() {
                if (i >= n) throw new NoSuchElementException();
                Kind kind = order.get(i % order.size());
                for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
                    SplittableRandom r = new SplittableRandom(mix(mix(seed, i), attempt));
                    Draft d = draw(kind, r, world);
                    if (!excludedPrompts.contains(d.prompt()) && seen.add(d.prompt())) {
                        return new Task(prefix + i++, kind, d.prompt(), d.answer(), d.rationale());
                    }
                }
                throw new IllegalStateException("no new " + kind.id() + " prompt after " + MAX_ATTEMPTS
                        + " draws: ask for fewer tasks");
            }
        };
        return StreamSupport.stream(Spliterators.spliterator(it, n,
                Spliterator.ORDERED | Spliterator.NONNULL | Spliterator.DISTINCT), false);
    }

    private static Draft draw(Kind kind, SplittableRandom r, Facts world) {
        return switch (kind) {
            case ARITHMETIC -> Arithmetic.draw(r);
            case UNIT_CONVERSION -> Units.draw(r);
            case DATE -> Dates.draw(r);
            case STRING -> Strings.draw(r);
            case FACT_LOOKUP -> world.draw(r);
        };
    }

    /**
     * Disjoint splits of one corpus seed, e.g. {@code splits(seed, kinds, 4000, 500, 200)} for the house teacher's
     * training set, the prompts harvested from it and the held-out evaluation prompts. Split j draws from its own
     * seed ({@link #splitSeed}), so ids never collide, and no prompt text occurs in two splits.
     */
    public static List<List<Task>> splits(long seed, Set<Kind> kinds, int... sizes) {
        Set<String> taken = new HashSet<>();
        List<List<Task>> out = new ArrayList<>();
        for (int j = 0; j < sizes.length; j++) {
            List<Task> split = tasks(splitSeed(seed, j), sizes[j], kinds, taken).toList();
            split.forEach(t -> taken.add(t.prompt()));
            out.add(split);
        }
        return out;
    }

    /** The seed of split {@code j}: distinct for distinct j (a bijection of {@code seed + (j + 1)·φ}). */
    public static long splitSeed(long seed, int j) {
        return mix64(seed + (j + 1L) * 0x9E3779B97F4A7C15L);
    }

    static long mix(long a, long b) {
        return mix64(a ^ mix64(b + 0x632BE59BD9B4E019L));
    }

    /** SplitMix64's finaliser: a bijection on longs that scatters nearby inputs. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
