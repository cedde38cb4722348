package dev.distill4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.core.Capability;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.train.data.KdTargets;
import dev.distill4j.train.data.TrainingExample;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Teacher-forced NLL, agreement and the k + 1-bucket KL against a float64 computation from the same logits. */
class TeacherForcedTest {
    private static NDManager manager;

    @BeforeAll static void start() { manager = NDManager.newBaseManager("PyTorch"); }

    @AfterAll static void stop() { manager.close(); }

    @Test
    void matchesDoublePrecisionReference(@TempDir Path tmp) throws Exception {
        try (LocalModel m = LocalModel.load(Fixtures.student(tmp.resolve("s"), 7, manager), manager)) {
            int[] ids = {72, 101, 108, 108, 111, 32, 119, 260};
            int ig = TrainingExample.IGNORE;
            int[] labels = {ig, ig, ig, 108, 111, 32, 119, 260};
            float ninf = Float.NEGATIVE_INFINITY;
            int k = 3;
            // rows for positions 3..7; row 1 (position 4) has no target; row 3 uses one slot only
            int[] kdIds = {5, 9, 0, /* */ 0, 0, 0, /* */ 32, 33, 34, /* */ 119, 0, 0, /* */ 260, 261, 70};
            float[] kdLp = {-0.5f, -1.5f, ninf, ninf, ninf, ninf, -0.1f, -3f, -4f, -0.01f, ninf, ninf,
                    -1f, -1.2f, -2f};
            boolean[] present = {true, false, true, true, true};
            float[] tail = new float[5];
            KdTargets kd = new KdTargets(3, 5, k, kdIds, kdLp, tail, present);
            TrainingExample e = new TrainingExample("p", "key", ids, labels, Capability.topK(3), kd);

            TeacherForced.Result r = new TeacherForced(m.model()).score(e);

            float[] flat;
            try (NDManager s = manager.newSubManager()) {
                flat = m.model().forward(s.create(ids, new Shape(1, ids.length)), null, null).toFloatArray();
            }
            int v = m.model().config().vocabSize();
            double nll = 0;
            int agree = 0;
            double kl = 0;
            int klRows = 0;
            for (int t = 3; t < ids.length; t++) {
                double[] logp = logSoftmax(flat, (t - 1) * v, v);
                nll -= logp[labels[t]];
                int best = 0;
                for (int j = 1; j < v; j++) if (logp[j] > logp[best]) best = j;
                if (best == labels[t]) agree++;
                int row = t - 3;
                if (!present[row]) continue;
                double listedTeacher = 0;
                double listedStudent = 0;
                double klRow = 0;
                for (int j = 0; j < k; j++) {
                    if (kdLp[row * k + j] == ninf) continue;
                    double q = Math.exp(kdLp[row * k + j]);
                    double s = Math.exp(logp[kdIds[row * k + j]]);
                    listedTeacher += q;
                    listedStudent += s;
                    klRow += q * Math.log(q / s);
                }
                double qTail = 1 - listedTeacher;
                if (qTail > 0) klRow += qTail * Math.log(qTail / (1 - listedStudent));
                kl += klRow;
                klRows++;
            }
            assertThat(r.positions()).isEqualTo(5);
            assertThat(r.klPositions()).isEqualTo(klRows).isEqualTo(4);
            assertThat(r.nllSum()).isCloseTo(nll, within(1e-4));
            assertThat(r.agreements()).isEqualTo(agree);
            assertThat(r.klSum()).isCloseTo(kl, within(1e-4));
            assertThat(r.kl()).isCloseTo(kl / 4, within(1e-5));
            assertThat(r.perplexity()).isCloseTo(Math.exp(nll / 5), within(1e-3));
            assertThat(kl).isGreaterThan(0.1);   // a random student is far from these targets: the check bites

            // the same example without targets: NLL and agreement unchanged, no KL
            TeacherForced.Result plain = new TeacherForced(m.model())
                    .score(new TrainingExample("p", "key", ids, labels, Capability.TEXT, null));
            assertThat(plain.nllSum()).isCloseTo(nll, within(1e-4));
            assertThat(plain.kl()).isNull();
        }
    }

    private static double[] logSoftmax(float[] x, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[off + i] - max);
        double lse = max + Math.log(sum);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = x[off + i] - lse;
        return out;
    }
}
