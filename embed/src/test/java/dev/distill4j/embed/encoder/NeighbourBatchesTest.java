package dev.distill4j.embed.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.core.InvalidInputException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Neighbour batches: a partition of the sentences, whose batches are the seeds' neighbourhoods, run in parts by length. */
class NeighbourBatchesTest {

    @Test
    void everySentenceLandsInExactlyOneBatchOfTheAskedSize() {
        float[][] v = randomUnit(1003, 24, new Random(1));
        List<int[]> batches = NeighbourBatches.of(v, 32, 200, new Random(2));
        assertThat(batches).hasSize((1003 + 31) / 32);                              // ⌈n/B⌉, as the lr schedule assumes
        assertThat(batches.subList(0, batches.size() - 1)).allSatisfy(b -> assertThat(b).hasSize(32));
        assertThat(batches.get(batches.size() - 1)).hasSize(1003 - 31 * 32);
        int[] all = batches.stream().flatMapToInt(Arrays::stream).sorted().toArray();
        assertThat(all).isEqualTo(IntStream.range(0, 1003).toArray());
    }

    @Test
    void theNearestNeighbourhoodRecoversSeparatedClusters() {
        // 6 clusters of 8 around orthogonal axes; K = B − 1 = 7: a seed's 7 nearest are its own cluster, so every
        // batch is one whole cluster whichever seed comes first
        Random r = new Random(3);
        int clusters = 6, per = 8;
        float[][] v = new float[clusters * per][];
        for (int c = 0; c < clusters; c++) {
            for (int i = 0; i < per; i++) {
                float[] x = new float[clusters];
                x[c] = 1;
                for (int k = 0; k < clusters; k++) x[k] += 0.1f * (float) r.nextGaussian();
                v[c * per + i] = unit(x);
            }
        }
        List<int[]> batches = NeighbourBatches.of(v, per, per - 1, new Random(4));
        assertThat(batches).hasSize(clusters);
        for (int[] b : batches) {
            assertThat(Arrays.stream(b).map(i -> i / per).distinct().count()).as(Arrays.toString(b)).isEqualTo(1);
        }
        // the same data with K = n (random batches) mixes clusters: the test can fail
        List<int[]> wide = NeighbourBatches.of(v, per, v.length, new Random(4));
        assertThat(wide).anySatisfy(b -> assertThat(Arrays.stream(b).map(i -> i / per).distinct().count()).isGreaterThan(1));
    }

    @Test
    void nearestIsTheTopKByDotProductAmongUnusedSentences() {
        float[][] v = randomUnit(500, 16, new Random(5));
        NeighbourBatches.Unused unused = new NeighbourBatches.Unused(v.length);
        for (int i = 0; i < 100; i++) unused.remove(i * 5);                           // every fifth is taken
        unused.remove(7);                                                            // the seed itself
        int[] got = NeighbourBatches.nearest(v, 7, unused, 20);
        Integer[] brute = IntStream.range(0, v.length).filter(i -> i % 5 != 0 && i != 7).boxed()
                .sorted(Comparator.comparingDouble(i -> -dot(v[7], v[i]))).limit(20).toArray(Integer[]::new);
        Set<Integer> expected = new HashSet<>(Arrays.asList(brute));
        assertThat(Arrays.stream(got).boxed().toList()).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(NeighbourBatches.dot(v[3], v[4])).isCloseTo((float) dot(v[3], v[4]), within(1e-5f));
    }

    @Test
    void aMixedLengthBatchRunsInPartsWhenThatSavesPadding() {
        long[][] ids = {new long[5], new long[5], new long[5], new long[5], new long[40], new long[40]};
        // one pass: 6·40 + 10 = 250 token slots; cut after the fourth: (4·5 + 10) + (2·40 + 10) = 120, the least
        assertThat(EncoderDistiller.paddingCuts(ids, 10)).containsExactly(0, 4, 6);
        // a pass dearer than the padding it saves: one pass
        assertThat(EncoderDistiller.paddingCuts(ids, 1000)).containsExactly(0, 6);
        // equal lengths never gain from a cut
        long[][] even = new long[8][12];
        assertThat(EncoderDistiller.paddingCuts(even, 1)).containsExactly(0, 8);
        // byLength sorts a batch's indices by token count
        long[][] all = {new long[9], new long[3], new long[6]};
        assertThat(EncoderDistiller.byLength(new int[] {0, 1, 2}, all)).containsExactly(1, 2, 0);
    }

    @Test
    void aNeighbourhoodSmallerThanABatchIsRefused() {
        float[][] v = randomUnit(10, 4, new Random(6));
        assertThatThrownBy(() -> NeighbourBatches.of(v, 8, 6, new Random(7)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must hold a batch's other 7");
        assertThatThrownBy(() -> new EncoderDistiller.Options(new int[] {0, 1}, 1, 1e-4, 32, 1, false, 1.0, null, 0, 10))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("--neighbourhood");
    }

    private static float[][] randomUnit(int n, int d, Random r) {
        float[][] v = new float[n][d];
        for (float[] x : v) {
            for (int k = 0; k < d; k++) x[k] = (float) r.nextGaussian();
            unit(x);
        }
        return v;
    }

    private static float[] unit(float[] x) {
        double n = Math.sqrt(dot(x, x));
        for (int k = 0; k < x.length; k++) x[k] /= (float) n;
        return x;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) s += (double) a[k] * b[k];
        return s;
    }
}
