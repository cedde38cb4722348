import dev.distill4j.embed.*;
import dev.distill4j.embed.corpus.RealCorpus;
import java.io.*;
import java.nio.file.*;
import java.util.*;

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
 *   (SAVE_DIR=DIR also saves each student to DIR/VARIANT-N-DIMS, for `distill eval`)
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
