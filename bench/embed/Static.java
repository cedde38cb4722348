import dev.distill4j.embed.*;
import dev.distill4j.embed.corpus.RealCorpus;
import java.io.*;
import java.nio.file.*;
import java.util.*;
import ai.djl.engine.Engine;
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;

/**
 * Static students of bge-small-en-v1.5 on the real-text corpus (RealCorpus: $DISTILL4J_EMBED_CORPUS or the cache
 * folder), scored on its first 1,000 evaluation sentences (other documents than training's). The teacher's vectors
 * come from / go to the on-disk cache (CachedEmbeddingModel, $DISTILL4J_EMBED_CACHE); the vocabulary pass is
 * cached in bench/out/embed/vocab-TEACHER.bin.
 *
 *   Static.java TRAIN_N DIMS VARIANT...
 *     static                 Model2Vec distillation, base vocabulary
 *     vocab                  plus the corpus's frequent split words as tokens
 *     tuned[:vocab][:LR:EPOCHS:BATCH:STRUCT]   StaticTuner on the teacher's sentence vectors
 *   (SAVE_DIR=DIR also saves each student to DIR/VARIANT-N-DIMS, for `distill eval`; SIF_POST=A,… scores the
 *   trained rows re-weighted by a / (a + p(token)); HEAD=HIDDEN:EPOCHS:LR[:STRUCT][:meanmax],… trains and scores a
 *   deep-averaging head over each frozen student, class Head below)
 *   Static.java teach N      only fill the teacher cache with the first N training and 1,000 evaluation sentences
 *   Static.java vocab        only the vocabulary pass (cached for the runs above)
 */
public class Static {
    public static void main(String[] a) throws Exception {
        RealCorpus corpus = RealCorpus.openDefault();
        System.out.println(corpus.summary());
        try (OnnxEmbeddingModel t = OnnxEmbeddingModel.load("bge-small-en-v1.5")) {
            CachedEmbeddingModel cached = CachedEmbeddingModel.open(t, CachedEmbeddingModel.defaultDir(t));
            System.out.printf(Locale.ROOT, "teacher cache: %d vectors%n", cached.size());
            if (a[0].equals("vocab")) {
                long s0 = System.nanoTime();
                Tune.write(Path.of("bench/out/embed/vocab-" + t.name() + ".bin"), StaticDistiller.embedVocabulary(t, 0, null));
                System.out.printf(Locale.ROOT, "vocabulary pass %.1f s%n", (System.nanoTime() - s0) / 1e9);
                return;
            }
            List<String> eval = corpus.evaluation(1000);
            long t0 = System.nanoTime();
            float[][] te = cached.embed(eval, null);
            if (a[0].equals("teach")) {
                int n = Integer.parseInt(a[1]);
                List<String> train = corpus.train(n);
                long s0 = System.nanoTime();
                int[] last = {0};
                cached.embed(train, (done, total) -> {
                    if (done - last[0] >= 2048 || done.equals(total)) {
                        last[0] = done;
                        System.out.printf(Locale.ROOT, "  %d / %d  %.0f s  load %s%n", done, total, (System.nanoTime() - s0) / 1e9,
                                loadAvg());
                    }
                });
                return;
            }
            int n = Integer.parseInt(a[0]), dims = Integer.parseInt(a[1]);
            List<String> train = corpus.train(n);
            cached.embed(train, (done, total) -> System.out.printf(Locale.ROOT, "  teacher %d / %d%n", done, total));
            System.out.printf(Locale.ROOT, "teacher pass %.1f s (cache now %d)%n", (System.nanoTime() - t0) / 1e9, cached.size());
            Path vc = Path.of("bench/out/embed/vocab-" + t.name() + ".bin");
            float[][] rows = Files.isRegularFile(vc) ? Tune.read(vc) : null;
            if (rows == null) {
                long s0 = System.nanoTime();
                rows = StaticDistiller.embedVocabulary(t, 0, null);
                System.out.printf(Locale.ROOT, "vocabulary pass %.1f s%n", (System.nanoTime() - s0) / 1e9);
                Tune.write(vc, rows);
            }
            for (int i = 2; i < a.length; i++) {
                String[] c = a[i].split(":");
                boolean vocab = a[i].contains("vocab");
                List<String> rest = new ArrayList<>(Arrays.asList(c).subList(1, c.length));
                rest.remove("vocab");
                long s0 = System.nanoTime();
                StaticDistiller.Distilled d;
                if (vocab) {
                    VocabularyExtension.Result ext = VocabularyExtension.extend(t.tokenizerJson(), train,
                            VocabularyExtension.DEFAULT_MIN_COUNT, VocabularyExtension.DEFAULT_MAX_WORDS);
                    d = StaticDistiller.fromTokenVectorsWithBasis(t, StaticDistiller.withWords(rows, ext, cached),
                            ext.tokenizerJson(), new StaticDistiller.Options(dims, 0, 1e-4));
                    System.out.printf(Locale.ROOT, "  +%d words%n", ext.added());
                } else {
                    d = StaticDistiller.fromTokenVectorsWithBasis(t, rows, new StaticDistiller.Options(dims, 0, 1e-4));
                }
                StaticEmbeddingModel m = d.model();
                if (c[0].equals("tuned")) {
                    StaticTuner.Options o = StaticTuner.Options.defaults(StaticTuner.Loss.COSINE);
                    if (rest.size() >= 3) o = o.withLearningRate(Double.parseDouble(rest.get(0))).withEpochs(Integer.parseInt(rest.get(1)))
                            .withBatchSize(Integer.parseInt(rest.get(2)));
                    if (rest.size() >= 4) o = o.withStructureWeight(Double.parseDouble(rest.get(3)));
                    StaticTuner.Result r = StaticTuner.tune(m, d.pca(), cached, train, o, p -> {
                        if (p instanceof StaticTuner.Progress.Epoch e) System.out.printf(Locale.ROOT,
                                "  epoch %d loss %.5f held-out %.4f %.1fs%n", e.epoch(), e.trainLoss(), e.heldOutSpearman(), e.seconds());
                    });
                    m = r.model();
                    System.out.printf(Locale.ROOT, "  ceiling %.4f best epoch %d, %d tokens trained%n", r.targetCeilingSpearman(),
                            r.bestEpoch(), r.trainedTokens());
                }
                // a Deep Averaging Network's head over the frozen table: $HEAD=HIDDEN:EPOCHS:LR[:STRUCT][:meanmax]
                String headSpec = System.getenv("HEAD");
                if (headSpec != null && !headSpec.isBlank()) {
                    for (String spec : headSpec.split(",")) Head.train(a[i] + "+head" + spec, n, dims, m, d.pca(), cached, train, te, eval, spec);
                }
                String save = System.getenv("SAVE_DIR");
                if (save != null) m.save(Path.of(save, a[i].replace(':', '_') + "-" + n + "-" + dims));
                score(a[i], n, dims, te, m, eval, s0);
                // tokenlearn's last step: re-weight the trained rows by the training corpus's token frequencies,
                // w = a / (a + p(token)) (SIF), a from $SIF_POST (comma-separated; unset = not tried)
                String post = System.getenv("SIF_POST");
                if (post != null && !post.isBlank()) {
                    double[] p = tokenFrequencies(m, train);
                    for (String sa : post.split(",")) {
                        double sif = Double.parseDouble(sa);
                        float[] table = m.tableCopy();
                        for (int id = 0; id < p.length; id++) {
                            if (p[id] == 0) continue;
                            float w = (float) (sif / (sif + p[id]));
                            for (int k = 0; k < dims; k++) table[id * dims + k] *= w;
                        }
                        try (StaticEmbeddingModel rw = new StaticEmbeddingModel(m.name(), m.tokenizerJson(), table,
                                m.vocabSize(), dims, m.config())) {
                            score(a[i] + "+sif" + sa, n, dims, te, rw, eval, System.nanoTime());
                        }
                    }
                }
            }
        }
    }

    /** Fidelity against the teacher's vectors {@code te} and the student's sentences/s over the evaluation set. */
    static void score(String label, int n, int dims, float[][] te, StaticEmbeddingModel m, List<String> eval, long s0) {
        float[][] se = m.embed(eval);
        long t1 = System.nanoTime();
        for (int r = 0; r < 3; r++) m.embed(eval);
        double perS = 3.0 * eval.size() / ((System.nanoTime() - t1) / 1e9);
        System.out.printf(Locale.ROOT, "%-36s n=%d d=%d  Spearman %.4f  recall@10 %.3f  nDCG@10 %.3f  CKA %.3f  %,.0f sentences/s  (%.0f s)  load %s%n",
                label, n, dims, Fidelity.similaritySpearman(te, se), Fidelity.recallAtK(te, se, 10),
                Fidelity.ndcgAtK(te, se, 10), Fidelity.linearCka(te, se), perS, (System.nanoTime() - s0) / 1e9, loadAvg());
    }

    /** Each token's share of all tokens of {@code train} under the student's tokenizer (0 = unused). */
    static double[] tokenFrequencies(StaticEmbeddingModel m, List<String> train) {
        double[] c = new double[m.vocabSize()];
        double total = 0;
        for (String t : train) {
            for (long id : m.tokenize(t)) {
                c[(int) id]++;
                total++;
            }
        }
        for (int i = 0; i < c.length; i++) c[i] /= Math.max(1, total);
        return c;
    }

    static String loadAvg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }
}

/**
 * A residual MLP over the static student's pooled vector (Iyyer et al. 2015's deep averaging network, with the
 * table frozen): out = normalise(s + W2·gelu(W1·s + b1)), W2 starting at 0 so training starts at the tuned student.
 * Trained on the teacher's sentence vectors on the student's PCA axes (cosine + in-batch structure), best epoch on a
 * held-out 5 % of the training sentences, scored on the evaluation sentences. With "meanmax" the input is the mean
 * and the per-axis maximum of the sentence's rows.
 */
class Head {
    static void train(String label, int n, int dims, StaticEmbeddingModel m, Pca.Fit basis, CachedEmbeddingModel cached,
                      List<String> train, float[][] te, List<String> eval, String spec) throws Exception {
        String[] h = spec.split(":");
        int hidden = Integer.parseInt(h[0]), epochs = Integer.parseInt(h[1]);
        double lr = Double.parseDouble(h[2]);
        double sw = h.length > 3 ? Double.parseDouble(h[3]) : 1;
        boolean meanMax = spec.endsWith("meanmax");
        long t0 = System.nanoTime();
        float[][] x = inputs(m, train, meanMax);
        float[][] tv = cached.embed(train, null);
        int in = x[0].length;
        float[][] y = new float[tv.length][];
        double[][] c = basis.components();
        for (int i = 0; i < tv.length; i++) {
            float[] p = new float[dims];
            for (int k = 0; k < dims; k++) {
                double acc = 0;
                for (int j = 0; j < tv[i].length; j++) acc += c[k][j] * tv[i][j];
                p[k] = (float) acc;
            }
            y[i] = Vectors.normalize(p);
        }
        Random rnd = new Random(7);
        int[] order = new int[x.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        for (int i = order.length - 1; i > 0; i--) { int j = rnd.nextInt(i + 1); int t = order[i]; order[i] = order[j]; order[j] = t; }
        int held = Math.min(1000, x.length / 20);
        int[] heldIdx = Arrays.copyOf(order, held), trainIdx = Arrays.copyOfRange(order, held, order.length);
        float[][] heldTeacher = new float[held][];
        for (int i = 0; i < held; i++) heldTeacher[i] = tv[heldIdx[i]];
        float[] w1 = new float[in * hidden], b1 = new float[hidden], w2 = new float[hidden * dims];
        for (int i = 0; i < w1.length; i++) w1[i] = (float) (rnd.nextGaussian() / Math.sqrt(in));
        float[][] params = {w1, b1, w2};
        Shape[] shapes = {new Shape(in, hidden), new Shape(hidden), new Shape(hidden, dims)};
        float[][] mom = {new float[w1.length], new float[b1.length], new float[w2.length]};
        float[][] vel = {new float[w1.length], new float[b1.length], new float[w2.length]};
        int batch = 64;
        long steps = 0, total = (long) epochs * ((trainIdx.length + batch - 1) / batch);
        Engine engine = Engine.getEngine("PyTorch");
        float[][] best = null;
        double bestRho = Fidelity.similaritySpearman(heldTeacher, apply(x, heldIdx, params, in, hidden, dims));
        System.out.printf(Locale.ROOT, "  head %s: held-out %.4f before%n", spec, bestRho);
        try (NDManager manager = engine.newBaseManager()) {
            for (int e = 1; e <= epochs; e++) {
                double lossSum = 0;
                for (int i = trainIdx.length - 1; i > 0; i--) { int j = rnd.nextInt(i + 1); int t = trainIdx[i]; trainIdx[i] = trainIdx[j]; trainIdx[j] = t; }
                for (int from = 0; from + batch <= trainIdx.length; from += batch) {
                    float[] xs = new float[batch * in], ys = new float[batch * dims];
                    for (int b = 0; b < batch; b++) {
                        System.arraycopy(x[trainIdx[from + b]], 0, xs, b * in, in);
                        System.arraycopy(y[trainIdx[from + b]], 0, ys, b * dims, dims);
                    }
                    float[][] grads = new float[3][];
                    try (NDManager sc = manager.newSubManager(); GradientCollector gc = engine.newGradientCollector()) {
                        NDArray[] p = new NDArray[3];
                        for (int q = 0; q < 3; q++) { p[q] = sc.create(params[q], shapes[q]); p[q].setRequiresGradient(true); }
                        NDArray xa = sc.create(xs, new Shape(batch, in)), ya = sc.create(ys, new Shape(batch, dims));
                        NDArray out = forward(xa, p, in, dims);
                        NDArray loss = out.mul(ya).sum(new int[] {1}).mean().neg().add(1);
                        if (sw > 0) {
                            NDArray gap = out.matMul(out.transpose()).sub(ya.matMul(ya.transpose()));
                            NDArray off = sc.eye(batch).neg().add(1);
                            loss = loss.add(gap.square().mul(off).sum().div((float) (batch * (batch - 1))).mul((float) sw));
                        }
                        gc.backward(loss);
                        lossSum += loss.getFloat();
                        for (int q = 0; q < 3; q++) grads[q] = p[q].getGradient().toFloatArray();
                    }
                    steps++;
                    double rate = lr * Math.min(1, steps / (0.05 * total)) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, (double) steps / total)));
                    double c1 = 1 - Math.pow(0.9, steps), c2 = Math.sqrt(1 - Math.pow(0.999, steps));
                    for (int q = 0; q < 3; q++) {
                        for (int k = 0; k < params[q].length; k++) {
                            double g = grads[q][k];
                            mom[q][k] = (float) (0.9 * mom[q][k] + 0.1 * g);
                            vel[q][k] = (float) (0.999 * vel[q][k] + 0.001 * g * g);
                            params[q][k] -= (float) (rate / c1 * mom[q][k] / (Math.sqrt(vel[q][k]) / c2 + 1e-8));
                        }
                    }
                }
                double rho = Fidelity.similaritySpearman(heldTeacher, apply(x, heldIdx, params, in, hidden, dims));
                System.out.printf(Locale.ROOT, "  head epoch %d loss %.5f held-out %.4f %.0fs%n", e, lossSum / (trainIdx.length / batch), rho,
                        (System.nanoTime() - t0) / 1e9);
                if (rho > bestRho) { bestRho = rho; best = new float[][] {w1.clone(), b1.clone(), w2.clone()}; }
            }
        }
        float[][] use = best != null ? best : new float[][] {w1, b1, new float[w2.length]};
        float[][] ex = inputs(m, eval, meanMax);
        int[] all = new int[ex.length];
        for (int i = 0; i < all.length; i++) all[i] = i;
        float[][] se = apply(ex, all, use, in, hidden, dims);
        // speed of the head alone (plain Java, one thread), per sentence
        long s1 = System.nanoTime();
        for (int r = 0; r < 20; r++) apply(ex, all, use, in, hidden, dims);
        double usHead = (System.nanoTime() - s1) / 1e3 / (20.0 * ex.length);
        System.out.printf(Locale.ROOT, "%-36s n=%d d=%d  Spearman %.4f  recall@10 %.3f  nDCG@10 %.3f  CKA %.3f  head %.1f us/sentence  (%.0f s)%n",
                label, n, dims, Fidelity.similaritySpearman(te, se), Fidelity.recallAtK(te, se, 10), Fidelity.ndcgAtK(te, se, 10),
                Fidelity.linearCka(te, se), usHead, (System.nanoTime() - t0) / 1e9);
    }

    static NDArray forward(NDArray x, NDArray[] p, int in, int dims) {
        NDArray hdn = Activation.gelu(x.matMul(p[0]).add(p[1]));
        NDArray base = in == dims ? x : x.get(":, 0:" + dims);
        NDArray o = base.add(hdn.matMul(p[2]));
        return o.div(o.square().sum(new int[] {1}, true).add(1e-12f).sqrt());
    }

    /** The head in plain Java (tanh GELU), rows {@code idx} of {@code x}. */
    static float[][] apply(float[][] x, int[] idx, float[][] p, int in, int hidden, int dims) {
        float[][] out = new float[idx.length][];
        float[] hdn = new float[hidden];
        for (int r = 0; r < idx.length; r++) {
            float[] xi = x[idx[r]];
            System.arraycopy(p[1], 0, hdn, 0, hidden);
            for (int i = 0; i < in; i++) {
                float v = xi[i];
                if (v == 0) continue;
                for (int j = 0, at = i * hidden; j < hidden; j++) hdn[j] += v * p[0][at + j];
            }
            float[] o = Arrays.copyOf(xi, dims);
            for (int j = 0; j < hidden; j++) {
                double u = hdn[j];
                float g = (float) (0.5 * u * (1 + Math.tanh(0.7978845608 * (u + 0.044715 * u * u * u))));
                if (g == 0) continue;
                for (int k = 0, at = j * dims; k < dims; k++) o[k] += g * p[2][at + k];
            }
            out[r] = Vectors.normalize(o);
        }
        return out;
    }

    /** The student's normalised mean vector of each text, with "meanmax" followed by the per-axis maximum of its rows. */
    static float[][] inputs(StaticEmbeddingModel m, List<String> texts, boolean meanMax) {
        float[][] mean = m.embed(texts);
        if (!meanMax) return mean;
        float[] table = m.tableCopy();
        int d = m.dimension();
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < out.length; i++) {
            float[] mx = new float[d];
            Arrays.fill(mx, Float.NEGATIVE_INFINITY);
            long[] ids = m.tokenize(texts.get(i));
            for (long id : ids) for (int k = 0; k < d; k++) mx[k] = Math.max(mx[k], table[(int) id * d + k]);
            if (ids.length == 0) Arrays.fill(mx, 0);
            float[] both = Arrays.copyOf(mean[i], 2 * d);
            System.arraycopy(mx, 0, both, d, d);
            out[i] = both;
        }
        return out;
    }
}
