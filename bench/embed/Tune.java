import dev.distill4j.embed.*;
import java.io.*;
import java.nio.file.*;
import java.util.*;

/**
 * Static vs tuned static students from one vocabulary pass (cached under bench/out/embed) and one teacher pass over
 * the corpora (cached in memory), for several tuning settings; fidelity on two evaluation sets that share no
 * sentence with the training set: the classic generated 1,000 (seed 42) and 1,000 of the wider training grammar
 * (seed 7).
 *
 *   Tune.java TEACHER DIMS TRAIN_SENTENCES LOSS:LR:EPOCHS:BATCH ...
 */
public class Tune {
    public static void main(String[] a) throws Exception {
        String teacherId = a[0];
        int dims = Integer.parseInt(a[1]), trainN = Integer.parseInt(a[2]);
        List<String> eval = EmbedCorpus.synthetic(1000, 42);
        List<String> evalWide = EmbedCorpus.training(1000, 7, eval);
        Set<String> held = new HashSet<>(eval);
        held.addAll(evalWide);
        List<String> train = EmbedCorpus.training(trainN, 1042, held);
        try (OnnxEmbeddingModel t = OnnxEmbeddingModel.load(teacherId)) {
            Path cache = Path.of("bench/out/embed/vocab-" + teacherId + ".bin");
            float[][] rows = cache.toFile().isFile() ? read(cache) : null;
            if (rows == null) {
                long s0 = System.nanoTime();
                rows = StaticDistiller.embedVocabulary(t, 0, null);
                System.out.printf(Locale.ROOT, "vocabulary pass %.1f s%n", (System.nanoTime() - s0) / 1e9);
                write(cache, rows);
            }
            Caching teacher = new Caching(t);
            long s1 = System.nanoTime();
            float[][] te = teacher.embed(eval), tw = teacher.embed(evalWide);
            teacher.embed(train);
            System.out.printf(Locale.ROOT, "teacher pass over %d sentences %.1f s%n", eval.size() + evalWide.size() + train.size(),
                    (System.nanoTime() - s1) / 1e9);
            StaticDistiller.Distilled d = StaticDistiller.fromTokenVectorsWithBasis(t, rows, new StaticDistiller.Options(dims, 0, 1e-4));
            score("static", d.model(), te, eval, tw, evalWide);
            for (int i = 3; i < a.length; i++) {
                String[] c = a[i].split(":");
                StaticTuner.Options o = StaticTuner.Options.defaults(StaticTuner.Loss.parse(c[0]))
                        .withLearningRate(Double.parseDouble(c[1])).withEpochs(Integer.parseInt(c[2])).withBatchSize(Integer.parseInt(c[3]));
                StaticTuner.Result r = StaticTuner.tune(d.model(), d.pca(), teacher, train, o, p -> {
                    if (p instanceof StaticTuner.Progress.Epoch e) System.out.printf(Locale.ROOT, "  epoch %d loss %.5f held-out %.4f %.1fs%n",
                            e.epoch(), e.trainLoss(), e.heldOutSpearman(), e.seconds());
                });
                System.out.printf(Locale.ROOT, "%s: ceiling %.4f best epoch %d, %d tokens trained, %.1f s%n", a[i],
                        r.targetCeilingSpearman(), r.bestEpoch(), r.trainedTokens(), r.seconds());
                score(a[i], r.model(), te, eval, tw, evalWide);
                r.model().close();
            }
        }
    }

    static void score(String label, StaticEmbeddingModel m, float[][] te, List<String> eval, float[][] tw, List<String> wide) {
        float[][] se = m.embed(eval), sw = m.embed(wide);
        System.out.printf(Locale.ROOT, "%-28s classic: Spearman %.4f recall@10 %.3f CKA %.3f | wide: Spearman %.4f recall@10 %.3f CKA %.3f%n",
                label, Fidelity.similaritySpearman(te, se), Fidelity.recallAtK(te, se, 10), Fidelity.linearCka(te, se),
                Fidelity.similaritySpearman(tw, sw), Fidelity.recallAtK(tw, sw, 10), Fidelity.linearCka(tw, sw));
    }

    /** Remembers the teacher's vectors so several tuning runs share one teacher pass. */
    static final class Caching implements EmbeddingModel {
        final EmbeddingModel t;
        final Map<String, float[]> memo = new HashMap<>();
        Caching(EmbeddingModel t) { this.t = t; }
        public float[][] embed(List<String> texts) {
            List<String> miss = texts.stream().filter(s -> !memo.containsKey(s)).distinct().toList();
            if (!miss.isEmpty()) {
                float[][] v = t.embed(miss);
                for (int i = 0; i < v.length; i++) memo.put(miss.get(i), v[i]);
            }
            return texts.stream().map(memo::get).toArray(float[][]::new);
        }
        public int dimension() { return t.dimension(); }
        public String name() { return t.name(); }
    }

    static void write(Path p, float[][] rows) throws IOException {
        Files.createDirectories(p.getParent());
        try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(p)))) {
            int d = Arrays.stream(rows).filter(Objects::nonNull).findFirst().orElseThrow().length;
            o.writeInt(rows.length);
            o.writeInt(d);
            for (float[] r : rows) {
                o.writeBoolean(r != null);
                if (r != null) for (float x : r) o.writeFloat(x);
            }
        }
    }

    static float[][] read(Path p) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(p)))) {
            int n = in.readInt(), d = in.readInt();
            float[][] rows = new float[n][];
            for (int i = 0; i < n; i++) {
                if (!in.readBoolean()) continue;
                rows[i] = new float[d];
                for (int k = 0; k < d; k++) rows[i][k] = in.readFloat();
            }
            return rows;
        }
    }
}
