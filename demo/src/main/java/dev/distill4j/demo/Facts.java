package dev.distill4j.demo;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Look-ups in an invented world. Each seed has its own table of countries with a capital, a currency and a river,
 * all invented names. A question carries the few facts it needs (plus distractors about other countries) as
 * context, so answering is reading, not memorising: a held-out seed's world is new and still answerable. Direct
 * questions take one step; "the country whose capital is X" questions take two hops.
 */
final class Facts {
    enum Attribute {
        CAPITAL("capital"), CURRENCY("currency"), RIVER("river");

        final String word;

        Attribute(String word) { this.word = word; }
    }

    record Country(String name, String capital, String currency, String river) {
        String get(Attribute a) {
            return switch (a) {
                case CAPITAL -> capital;
                case CURRENCY -> currency;
                case RIVER -> river;
            };
        }
    }

    static final int COUNTRIES = 32;

    private final List<Country> countries;

    private Facts(List<Country> countries) { this.countries = List.copyOf(countries); }

    /** The world of a seed: {@value #COUNTRIES} countries, every name distinct. */
    static Facts world(long seed) {
        SplittableRandom r = new SplittableRandom(TaskCorpus.mix(seed, 0x5EEDFAC7L));
        Set<String> used = new HashSet<>();
        List<Country> cs = new ArrayList<>();
        while (cs.size() < COUNTRIES) {
            cs.add(new Country(fresh(r, used, true, 3), fresh(r, used, true, 2), fresh(r, used, false, 2),
                    fresh(r, used, true, 2)));
        }
        return new Facts(cs);
    }

    private static String fresh(SplittableRandom r, Set<String> used, boolean name, int syllables) {
        while (true) {
            String w = name ? Words.name(r, syllables) : Words.word(r, syllables);
            if (used.add(w.toLowerCase(java.util.Locale.ROOT))) return w;
        }
    }

    List<Country> countries() { return countries; }

    static String fact(Country c, Attribute a) {
        return "The " + a.word + " of " + c.name() + " is " + c.get(a) + ".";
    }

    Draft draw(SplittableRandom r) {
        Country target = countries.get(r.nextInt(countries.size()));
        Country other = target;
        while (other == target) other = countries.get(r.nextInt(countries.size()));
        Attribute asked = Attribute.values()[r.nextInt(Attribute.values().length)];
        List<String> facts = new ArrayList<>();
        if (asked != Attribute.CAPITAL && r.nextBoolean()) {
            // two hops: capital → country → attribute
            facts.add(fact(target, Attribute.CAPITAL));
            facts.add(fact(target, asked));
            facts.add(fact(other, asked));
            facts.add(fact(other, Attribute.CAPITAL));
            shuffle(r, facts);
            String q = "Facts: " + String.join(" ", facts) + "\nQuestion: What is the " + asked.word
                    + " of the country whose capital is " + target.capital() + "?";
            return Draft.of(q, target.get(asked), target.capital() + " is the capital of " + target.name() + ".",
                    fact(target, asked));
        }
        facts.add(fact(target, asked));
        facts.add(fact(other, asked));
        Attribute distractor = Attribute.values()[(asked.ordinal() + 1 + r.nextInt(2)) % 3];
        facts.add(fact(target, distractor));
        shuffle(r, facts);
        String q = "Facts: " + String.join(" ", facts) + "\nQuestion: What is the " + asked.word + " of "
                + target.name() + "?";
        return Draft.of(q, target.get(asked), "The facts say: " + fact(target, asked));
    }

    private static void shuffle(SplittableRandom r, List<String> xs) {
        for (int i = xs.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            String t = xs.get(i);
            xs.set(i, xs.get(j));
            xs.set(j, t);
        }
    }
}
