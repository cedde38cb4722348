package dev.distill4j.train.data;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.SampleKey;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The held-out split, decided by prompt id alone: a prompt is held out when
 * {@code SHA-256(id) mod 10000 < fraction × 10000}. All samples of a prompt fall on the same side, and the side
 * never changes across resumes, re-harvests or added prompts, so eval never sees a prompt the student trained on.
 *
 * <p>Small runs: with two or more prompts at least one is held out (the one with the lowest hash value) and at
 * least one is trained on (the one with the highest), which a pure hash rule cannot promise.
 */
public final class EvalSplit {
    static final int BUCKETS = 10_000;

    private final double fraction;

    public EvalSplit(double fraction) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new InvalidInputException("--eval-fraction must be at least 0 and below 1, got " + fraction);
        }
        this.fraction = fraction;
    }

    public double fraction() { return fraction; }

    /** Whether the hash rule alone holds this prompt out. */
    public boolean isHeldOut(String promptId) {
        return Long.remainderUnsigned(hash(promptId), BUCKETS) < Math.round(fraction * BUCKETS);
    }

    /** The held-out prompts among {@code promptIds}, with the small-run guarantees (none when fraction is 0). */
    public Set<String> heldOut(Collection<String> promptIds) {
        Set<String> distinct = new LinkedHashSet<>(promptIds);
        Set<String> out = new HashSet<>();
        for (String id : distinct) if (isHeldOut(id)) out.add(id);
        if (fraction == 0 || distinct.size() < 2) return out;
        Comparator<String> byHash = Comparator.comparing(EvalSplit::hash, Long::compareUnsigned);
        if (out.isEmpty()) out.add(distinct.stream().min(byHash).orElseThrow());
        if (out.size() == distinct.size()) out.remove(distinct.stream().max(byHash).orElseThrow());
        return out;
    }

    /** The first 8 bytes of SHA-256 of the id's UTF-8, as an unsigned long. */
    static long hash(String promptId) {
        return Long.parseUnsignedLong(SampleKey.sha256Hex(promptId).substring(0, 16), 16);
    }
}
