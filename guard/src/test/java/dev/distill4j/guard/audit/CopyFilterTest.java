package dev.distill4j.guard.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.guard.watermark.TokenizerFingerprint;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.generate.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The open audit's same-text copy filter, on token ids without a model. Watermarked texts come from a toy generator
 * (random logits, KGW with a large δ); the "suspects" never saw a watermark: one predicts a token from a hash of the
 * window (independent of the key), the other copies the text's own earlier continuation of the same window when
 * there is one, as any language model reading a text does with repeated phrases. The copier inherits the text's
 * green bias: without the filter the audit calls it radioactive under almost every key; with the filter its
 * p-values are those of a clean model (false positives at about the nominal rate).
 */
class CopyFilterTest {
    private static final int VOCAB = 40;
    private static final TokenizerFingerprint FINGERPRINT = new TokenizerFingerprint("0".repeat(64), VOCAB);

    @Test
    void copyingSuspectIsRadioactiveWithoutTheFilterAndCleanWithIt() {
        Watermark wm = kgw(1, "left", 1);
        List<OpenAudit.Reading> readings = readings(wm, 7, this::copier);
        AuditReport unfiltered = OpenAudit.score(wm, "copier", readings, false);
        AuditReport filtered = OpenAudit.score(wm, "copier", readings, true);
        System.out.printf("copier: without filter p = %s (%d scored, mean %.3f); with p = %s (%d scored, mean %.3f,"
                        + " %d filtered)%n", unfiltered.pValue(), unfiltered.scored(), unfiltered.meanScore(),
                filtered.pValue(), filtered.scored(), filtered.meanScore(), filtered.filtered().get(Filter.SAME_TEXT));

        assertThat(unfiltered.radioactive(1e-3)).as("a copier looks radioactive without the filter").isTrue();
        assertThat(filtered.radioactive(1e-3)).isFalse();
        assertThat(filtered.pValue().value()).isGreaterThan(0.01);
        assertThat(filtered.filtered().get(Filter.SAME_TEXT)).isPositive();
        assertThat(filtered.scored()).as("the filter leaves enough to test").isGreaterThan(30);
    }

    /** Over many keys, the fraction of p < 0.05 is near 0.05 with the filter, for the copier and a clean reader. */
    @Test
    void falsePositiveRateIsNominalWithTheFilter() {
        for (String hash : List.of("left", "self")) {
            int h = hash.equals("self") ? 3 : 1;
            int keys = 100, clean = 0, copied = 0, copiedUnfiltered = 0;
            for (int k = 0; k < keys; k++) {
                Watermark wm = kgw(h, hash, 1000 + k);
                List<OpenAudit.Reading> copy = readings(wm, k, this::copier);
                List<OpenAudit.Reading> plain = readings(wm, k, this::hasher);
                if (OpenAudit.score(wm, "copier", copy, true).pValue().value() < 0.05) copied++;
                if (OpenAudit.score(wm, "copier", copy, false).pValue().value() < 0.05) copiedUnfiltered++;
                if (OpenAudit.score(wm, "hasher", plain, true).pValue().value() < 0.05) clean++;
            }
            System.out.printf("%s: p < 0.05 for %d/%d keys (hasher), %d (copier, filter), %d (copier, no filter)%n",
                    hash, clean, keys, copied, copiedUnfiltered);
            // binomial(100, 0.05): mean 5, sd 2.2; exact tails are conservative for a discrete score
            assertThat(clean).as(hash + " clean reader").isLessThanOrEqualTo(12);
            assertThat(copied).as(hash + " copier with the filter").isLessThanOrEqualTo(12);
            assertThat(copiedUnfiltered).as(hash + " copier without the filter").isGreaterThan(50);
        }
    }

    /** A suspect that predicts from the window alone, by a fixed hash: independent of the key. */
    private int[] hasher(int[] ids) {
        int[] out = new int[ids.length - 1];
        for (int t = 0; t + 1 < ids.length; t++) out[t] = Math.floorMod(ids[t] * 31 + 7, VOCAB);
        return out;
    }

    /** Predicts what followed the last token's previous occurrence in the text, else the hasher's guess. */
    private int[] copier(int[] ids) {
        int[] out = hasher(ids);
        Map<Integer, Integer> lastNext = new HashMap<>();
        for (int t = 0; t + 1 < ids.length; t++) {
            if (t >= 1) lastNext.put(ids[t - 1], ids[t]);     // every pair the suspect has read so far
            Integer seen = lastNext.get(ids[t]);
            if (seen != null) out[t] = seen;
        }
        return out;
    }

    /** 20 watermarked texts of 100 tokens (no prompt, no prefix) and the suspect's predictions on them. */
    private static List<OpenAudit.Reading> readings(Watermark wm, long seed, java.util.function.Function<int[], int[]> suspect) {
        SplittableRandom rng = new SplittableRandom(seed);
        SamplingParams params = SamplingParams.greedy(100).withSampling(1.0, 0, 1.0, seed);
        List<OpenAudit.Reading> out = new ArrayList<>();
        for (int text = 0; text < 20; text++) {
            int[] ids = new int[100];
            ids[0] = rng.nextInt(VOCAB);
            for (int t = 1; t < ids.length; t++) {
                float[] logits = new float[VOCAB];
                for (int v = 0; v < VOCAB; v++) logits[v] = (float) (rng.nextGaussian() * 1.0);
                ids[t] = wm.choose(ids, t, logits, params, rng);
            }
            out.add(new OpenAudit.Reading(ids, 0, false, suspect.apply(ids)));
        }
        return out;
    }

    private static Watermark kgw(int h, String hash, long secretSeed) {
        byte[] secret = new byte[32];
        new SplittableRandom(secretSeed).nextBytes(secret);
        Map<String, Object> params = Map.of("gamma", 0.25, "delta", 4.0, "context", h, "hash", hash);
        return Watermark.of(new WatermarkKey(WatermarkKey.Scheme.KGW, params, FINGERPRINT, secret));
    }

    @Test
    void readingsAreWhatTheGeneratorWrote() {
        Watermark wm = kgw(1, "left", 3);
        List<OpenAudit.Reading> r = readings(wm, 3, this::hasher);
        assertThat(r).hasSize(20);
        assertThat(Arrays.stream(r.getFirst().ids()).allMatch(id -> id >= 0 && id < VOCAB)).isTrue();
    }
}
