package dev.distill4j.train.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Capability;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatcherTest {
    /** Examples of lengths 3..60 whose ids encode (example, position), with KD targets on some of them. */
    static List<TrainingExample> examples(int n) {
        Random r = new Random(7);
        List<TrainingExample> out = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            int len = 3 + r.nextInt(58);
            int[] ids = new int[len];
            int[] labels = new int[len];
            for (int t = 0; t < len; t++) {
                ids[t] = 1 + e * 100 + t;
                labels[t] = t < 2 ? TrainingExample.IGNORE : ids[t];
            }
            KdTargets kd = null;
            if (e % 3 == 0) {
                int k = 1 + e % 4;
                kd = KdTargets.empty(2, len - 2, k);
                for (int row = 0; row < len - 2; row += 2) {
                    kd.present()[row] = true;
                    kd.tail()[row] = 0.25f;
                    for (int j = 0; j < k; j++) {
                        kd.ids()[row * k + j] = ids[2 + row] + j;
                        kd.logprobs()[row * k + j] = -1 - j;
                    }
                }
            }
            out.add(new TrainingExample("p" + e, "k" + e, ids, labels,
                    kd == null ? Capability.TEXT : Capability.topK(kd.k()), kd));
        }
        return out;
    }

    @Test
    void everyExampleOncePerEpochWithinTheTokenBudget() {
        List<TrainingExample> ex = examples(3000);
        Batcher batcher = new Batcher(ex, 256, 0);
        List<int[]> plan = batcher.plan(42, 0);
        int[] seen = new int[ex.size()];
        for (int[] b : plan) {
            int longest = Arrays.stream(b).map(i -> ex.get(i).length()).max().orElseThrow();
            assertThat(b.length * longest).isLessThanOrEqualTo(256);
            for (int i : b) seen[i]++;
        }
        assertThat(seen).containsOnly(1);
        // bucketing keeps padding low: well under the 50% that random batches of lengths 3..60 would waste
        long real = ex.stream().mapToLong(TrainingExample::length).sum();
        long padded = plan.stream().mapToLong(b -> (long) b.length
                * Arrays.stream(b).map(i -> ex.get(i).length()).max().orElseThrow()).sum();
        assertThat((double) real / padded).isGreaterThan(0.9);
    }

    @Test
    void theOrderIsFixedBySeedAndEpoch() {
        List<TrainingExample> ex = examples(500);
        Batcher a = new Batcher(ex, 200, 0);
        Batcher b = new Batcher(ex, 200, 0);
        assertThat(a.plan(1, 3)).usingRecursiveComparison().isEqualTo(b.plan(1, 3));
        assertThat(a.plan(1, 3)).usingRecursiveComparison().isNotEqualTo(a.plan(1, 4));
        assertThat(a.plan(1, 3)).usingRecursiveComparison().isNotEqualTo(a.plan(2, 3));
        // pinned: a JVM or refactoring that changes the order breaks resumed runs
        assertThat(a.plan(1, 0).getFirst()).containsExactly(PINNED_FIRST_BATCH);
    }

    // recorded from this implementation (java.util.Random is specified, so every JVM gives the same)
    static final int[] PINNED_FIRST_BATCH = {421, 346, 235, 24, 266, 440};

    @Test
    void aResumedIteratorYieldsTheSameBatchesFromBatchN() {
        List<TrainingExample> ex = examples(400);
        Batcher batcher = new Batcher(ex, 300, 5);
        List<Batch> all = new ArrayList<>();
        batcher.iterator(9, 2, 0).forEachRemaining(all::add);
        assertThat(all).hasSize(batcher.plan(9, 2).size());
        Iterator<Batch> resumed = new Batcher(ex, 300, 5).iterator(9, 2, 17);
        for (int i = 17; i < all.size(); i++) {
            Batch x = resumed.next();
            assertThat(x.index()).isEqualTo(i);
            assertThat(x).usingRecursiveComparison().isEqualTo(all.get(i));
        }
        assertThat(resumed.hasNext()).isFalse();
        assertThat(batcher.iterator(9, 2, all.size()).hasNext()).isFalse();
        assertThatThrownBy(() -> batcher.iterator(9, 2, all.size() + 1)).hasMessageContaining("outside epoch 2");
    }

    @Test
    void batchesAreRightPaddedWithMasksAndKdInPlace() {
        List<TrainingExample> ex = examples(30);
        Batcher batcher = new Batcher(ex, 10_000, 7);
        int[] rows = {3, 1, 6}; // lengths differ; 3 and 6 carry KD with k = 4 and 3
        Batch b = batcher.batch(0, rows);
        int t = b.seqLen();
        assertThat(t).isEqualTo(Arrays.stream(rows).map(i -> ex.get(i).length()).max().orElseThrow());
        assertThat(b.kdK()).isEqualTo(4);
        assertThat(b.capabilities()).containsExactly(Capability.topK(4), Capability.TEXT, Capability.topK(3));
        for (int row = 0; row < rows.length; row++) {
            TrainingExample e = ex.get(rows[row]);
            for (int pos = 0; pos < t; pos++) {
                int at = row * t + pos;
                boolean real = pos < e.length();
                assertThat(b.inputIds()[at]).isEqualTo(real ? e.inputIds()[pos] : 7);
                assertThat(b.attentionMask()[at]).isEqualTo(real ? 1 : 0);
                assertThat(b.labels()[at]).isEqualTo(real ? e.labels()[pos] : TrainingExample.IGNORE);
                KdTargets kd = e.kd();
                boolean present = kd != null && pos >= kd.start() && pos < kd.start() + kd.length()
                        && kd.present()[pos - kd.start()];
                assertThat(b.kdPresent()[at]).isEqualTo(present);
                for (int j = 0; j < 4; j++) {
                    boolean slot = present && j < kd.k();
                    assertThat(b.kdIds()[at * 4 + j]).isEqualTo(slot ? e.inputIds()[pos] + j : 0);
                    assertThat(b.kdLogprobs()[at * 4 + j]).isEqualTo(slot ? -1f - j : Float.NEGATIVE_INFINITY);
                }
                assertThat(b.kdTail()[at]).isEqualTo(present ? 0.25f : 0f);
            }
        }
        assertThat(b.tokens()).isEqualTo(Arrays.stream(rows).map(i -> ex.get(i).length()).sum());
    }

    @Test
    void anExampleLongerThanTheBudgetGetsABatchOfItsOwn() {
        List<TrainingExample> ex = examples(50);
        List<int[]> plan = new Batcher(ex, 2, 0).plan(0, 0);
        assertThat(plan).hasSize(50).allMatch(b -> b.length == 1);
    }
}
