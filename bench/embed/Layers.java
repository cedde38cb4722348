import dev.distill4j.embed.*;
import dev.distill4j.embed.encoder.*;
import java.nio.file.*;
import java.util.*;

/**
 * Layer-dropped students of one teacher under several recipes, on real text: each trains on the first n sentences
 * of TRAIN, reports the validation split's MSE and Spearman after every epoch (the split the recipe is chosen on),
 * then the evaluation split's Spearman and recall@10 (reported, never used to choose). The teacher's vectors are kept
 * in CACHE_DIR (CachedEmbeddingModel), so only the first run pays the teacher.
 *
 *   Layers.java TEACHER TRAIN VAL EVAL CACHE_DIR RECIPE...
 *   RECIPE = layers=0,4,8,11:n=10000:epochs=2:lr=3e-4:pair=1:hidden=0:batch=32[:save=DIR]   (omitted keys: the defaults)
 */
public class Layers {
    public static void main(String[] a) throws Exception {
        String teacherId = a[0];
        List<String> train = EmbedCorpus.read(Path.of(a[1])), val = EmbedCorpus.read(Path.of(a[2])), eval = EmbedCorpus.read(Path.of(a[3]));
        Path cache = Path.of(a[4]);
        Set<String> held = new HashSet<>(val);
        held.addAll(eval);
        train = EmbedCorpus.withoutOverlap(train, held);
        try (OnnxEmbeddingModel t = OnnxEmbeddingModel.load(teacherId)) {
            long t0 = System.nanoTime();
            CachedEmbeddingModel c = CachedEmbeddingModel.open(t, cache);
            int maxN = 0;                                      // the teacher embeds only what the recipes train on
            for (int i = 5; i < a.length; i++) {
                for (String kv : a[i].split(":")) if (kv.startsWith("n=")) maxN = Math.max(maxN, Integer.parseInt(kv.substring(2)));
            }
            List<String> everything = new ArrayList<>(eval);
            everything.addAll(val);
            everything.addAll(train.subList(0, Math.min(train.size(), maxN == 0 ? 10000 : maxN)));
            int before = c.size();
            c.embed(everything, (d, m) -> System.err.printf(Locale.ROOT, "\rteacher %d/%d", d, m));
            float[][] te = c.embed(eval);
            System.out.printf(Locale.ROOT, "%nteacher: %d sentences (%d train, %d val, %d eval), %d were cached, %.1f s; load %s%n",
                    everything.size(), train.size(), val.size(), eval.size(), before, (System.nanoTime() - t0) / 1e9, load());
            for (int i = 5; i < a.length; i++) {
                String recipe = a[i];
                Map<String, String> r = new HashMap<>();
                for (String kv : a[i].split(":")) r.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
                int[] layers = Arrays.stream(r.getOrDefault("layers", "0,4,8,11").split(",")).mapToInt(Integer::parseInt).toArray();
                int n = Math.min(train.size(), Integer.parseInt(r.getOrDefault("n", "10000")));
                var o = new EncoderDistiller.Options(layers, Integer.parseInt(r.getOrDefault("epochs", "2")),
                        Double.parseDouble(r.getOrDefault("lr", "3e-4")), Integer.parseInt(r.getOrDefault("batch", "32")), 42,
                        Boolean.parseBoolean(r.getOrDefault("words", "false")), Double.parseDouble(r.getOrDefault("pair", "1")), cache,
                        Double.parseDouble(r.getOrDefault("hidden", "0")));
                long[] start = {System.nanoTime()};
                var res = EncoderDistiller.distill(t, teacherId, train.subList(0, n), val, o, new EncoderDistiller.Progress() {
                    public void onStep(int epoch, long step, long total, double loss, double lr) {
                        if (step % 50 == 0) System.err.printf(Locale.ROOT, "\r  step %d/%d loss %.4f", step, total, loss);
                    }
                    public void onEval(int epoch, double loss, double rho) {
                        System.out.printf(Locale.ROOT, "  %s epoch %d: val MSE %.4f Spearman %.4f (%.0f s, load %s)%n", recipe, epoch, loss, rho,
                                (System.nanoTime() - start[0]) / 1e9, load());
                    }
                });
                try (EncoderStudent s = res.student()) {
                    float[][] se = s.embed(eval);
                    System.out.printf(Locale.ROOT, "%s: eval Spearman %.4f recall@10 %.3f CKA %.3f | val Spearman %.4f | %.0f s%n", a[i],
                            Fidelity.similaritySpearman(te, se), Fidelity.recallAtK(te, se, 10), Fidelity.linearCka(te, se),
                            res.heldOutSpearman()[res.heldOutSpearman().length - 1], res.seconds());
                    if (r.containsKey("save")) s.save(Path.of(r.get("save")));
                }
            }
        }
    }

    static String load() {
        try { return Files.readString(Path.of("/proc/loadavg")).split(" ")[0]; } catch (Exception e) { return "?"; }
    }
}
