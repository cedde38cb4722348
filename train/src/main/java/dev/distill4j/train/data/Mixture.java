package dev.distill4j.train.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * How examples of several runs, concatenated run after run, share an epoch. Run r holds examples
 * {@code [offset_r, offset_r + size_r)}; with weights w_r and N examples in all, an epoch takes
 * <pre>
 *   m_r = max(1, round(N · w_r / Σ w))
 * </pre>
 * examples of run r: whole passes over the run in a fresh random order, then a random part of one more pass. So a
 * small gold set with a large weight is repeated within the epoch and a large run with a small weight is subsampled,
 * while an epoch keeps about N examples; with weights proportional to the sizes every example appears once, as
 * without a mixture. The draw uses the epoch's {@link Random}, so the epoch's order is a function of (seed, epoch)
 * and a resumed run takes the batches it would have taken.
 *
 * @param parts the runs, in the order their examples were concatenated
 */
public record Mixture(List<Part> parts) {
    /** One run's examples and weight; {@code name} is what logs and checkpoints call it. */
    public record Part(String name, int offset, int size, double weight) {}

    public Mixture {
        parts = List.copyOf(parts);
        if (parts.isEmpty()) throw new IllegalArgumentException("a mixture needs at least one run");
    }

    /** Example indices of one epoch (unshuffled across runs; the batcher shuffles them). */
    public List<Integer> epoch(Random rng) {
        int total = 0;
        double weights = 0;
        for (Part p : parts) {
            total += p.size();
            weights += p.weight();
        }
        List<Integer> out = new ArrayList<>();
        for (Part p : parts) {
            if (p.size() == 0) continue;
            long m = Math.max(1, Math.round(total * p.weight() / weights));
            List<Integer> pass = new ArrayList<>(p.size());
            for (int i = 0; i < p.size(); i++) pass.add(p.offset() + i);
            while (m > 0) {
                Collections.shuffle(pass, rng);
                int take = (int) Math.min(m, pass.size());
                out.addAll(pass.subList(0, take));
                m -= take;
            }
        }
        return out;
    }

    /** {@code name:weight(size),...}: what a checkpoint records, so a resume with another mixture is refused. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (Part p : parts) {
            if (!b.isEmpty()) b.append(',');
            b.append(p.name()).append(':').append(p.weight()).append('(').append(p.size()).append(')');
        }
        return b.toString();
    }
}
