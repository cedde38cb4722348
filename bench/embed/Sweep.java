import dev.distill4j.embed.*;
import java.util.List;
import java.util.Locale;

/** One teacher pass over the vocabulary, then several PCA sizes and SIF coefficients scored on one corpus. */
public class Sweep {
    public static void main(String[] a) throws Exception {
        String teacherId = a.length > 0 ? a[0] : "bge-small-en-v1.5";
        List<String> corpus = a.length > 1 ? EmbedCorpus.read(java.nio.file.Path.of(a[1])) : EmbedCorpus.synthetic(1000, 42);
        try (OnnxEmbeddingModel t = OnnxEmbeddingModel.load(teacherId)) {
            float[][] tv = t.embed(corpus);
            for (Pooling pooling : Pooling.values()) {
            long s0 = System.nanoTime();
            float[][] rows = StaticDistiller.embedVocabulary(t, pooling, 0, null);
            System.out.printf(Locale.ROOT, "vocabulary embedded with %s pooling in %.1f s%n", pooling, (System.nanoTime() - s0) / 1e9);
            for (int dims : new int[] {64, 128, 256, t.dimension()}) {
                for (double sif : new double[] {0, 1e-4, 1e-3}) {
                    try (StaticEmbeddingModel m = StaticDistiller.fromTokenVectors(t, rows, new StaticDistiller.Options(dims, 0, sif))) {
                        float[][] sv = m.embed(corpus);
                        System.out.printf(Locale.ROOT, "dims %3d sif %.0e  Spearman %.3f  recall@10 %.3f  CKA %.3f%n", dims, sif,
                                Fidelity.similaritySpearman(tv, sv), Fidelity.recallAtK(tv, sv, 10), Fidelity.linearCka(tv, sv));
                    }
                }
            }
            }
        }
    }
}
