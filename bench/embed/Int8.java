import dev.distill4j.embed.*;
import dev.distill4j.embed.corpus.*;
import dev.distill4j.embed.encoder.*;
import java.nio.file.*;
import java.util.*;

/**
 * Int8 encoders against the float teacher on real text, in one JVM on one machine: fidelity of each model's vectors
 * to the float teacher's (Spearman of pairwise cosines, recall@10, nDCG@10) on the real corpus's first 1,000
 * evaluation sentences, and speed measured in ROUNDS alternating rounds (every model embeds all the sentences once
 * per round, in turn), so a change of load hits every model alike. A speed-up is the median over rounds of the
 * model's rate over the teacher's rate in the same round.
 *
 *   Int8.java TEACHER ROUNDS OUT_DIR MODEL...
 *   MODEL = a folder (a student; its int8 copy is made in OUT_DIR with SmoothQuant calibrated on the real corpus's
 *           first 256 training sentences, unless the folder is int8 already: it has the quantization.json that
 *           `distill embed distill --int8` and `distill embed quantize` write) or "teacher" (the teacher's int8
 *           copy), either with ":tokens" after it for the copy with per-token ranges on the feed-forward outputs
 *           (--token-ranges; OUT_DIR/NAME-int8-tokens) and/or ":erf" for the copy that keeps the erf GELU
 *           (--exact-gelu; OUT_DIR/NAME-int8[-tokens]-erf). Every float folder is scored as it is and as int8.
 */
public class Int8 {
    public static void main(String[] a) throws Exception {
        String teacherId = a[0];
        int rounds = Integer.parseInt(a[1]);
        Path out = Path.of(a[2]);
        Files.createDirectories(out);
        RealCorpus real = StudentSentences.real(null);
        List<String> eval = real.evaluation(StudentSentences.EVALUATION_SENTENCES);
        List<String> calibration = real.train(Int8Encoder.DEFAULT_CALIBRATION);
        Map<String, EmbeddingModel> models = new LinkedHashMap<>();
        models.put("teacher " + teacherId, EmbeddingModels.teacher(teacherId));
        for (int i = 3; i < a.length; i++) {
            List<String> spec = List.of(a[i].split(":"));
            String arg = spec.get(0);
            boolean tokens = spec.contains("tokens"), erf = spec.contains("erf");
            String src = arg.equals("teacher") ? teacherId : arg;
            String name = arg.equals("teacher") ? teacherId : Path.of(arg).getFileName().toString();
            if (!arg.equals("teacher")) models.putIfAbsent(name, EmbeddingModels.student(Path.of(src)));
            if (!arg.equals("teacher") && Files.exists(Path.of(src, Int8Encoder.REPORT))) continue;   // int8 already
            Path q = out.resolve(name + "-int8" + (tokens ? "-tokens" : "") + (erf ? "-erf" : ""));
            if (!Files.exists(q)) {
                long t0 = System.nanoTime();
                var r = Int8Encoder.write(src, q, calibration, new Int8Encoder.Recipe(Int8Encoder.DEFAULT_ALPHA, tokens, erf));
                System.out.printf(Locale.ROOT, "quantised %s: %d MatMuls, model.onnx %.1f -> %.1f MB, %.1f s%n", name,
                        r.matmuls(), r.onnxBytesBefore() / 1e6, r.onnxBytesAfter() / 1e6, (System.nanoTime() - t0) / 1e9);
            }
            models.put(q.getFileName().toString(), EmbeddingModels.student(q));
        }
        System.out.printf(Locale.ROOT, "%d evaluation sentences, %d calibration sentences (training set), %d CPUs, load %.2f%n",
                eval.size(), calibration.size(), Runtime.getRuntime().availableProcessors(), EmbedEval.loadAverage());

        Map<String, float[][]> vectors = new LinkedHashMap<>();
        for (var e : models.entrySet()) {
            e.getValue().embed(eval.subList(0, 64));   // warm-up
            vectors.put(e.getKey(), e.getValue().embed(eval));
        }
        float[][] tv = vectors.values().iterator().next();
        double[] tPairs = Fidelity.pairwiseCosines(tv);

        Map<String, List<Double>> rate = new LinkedHashMap<>(), ratio = new LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
            double teacherRate = 0;
            for (var e : models.entrySet()) {
                long t0 = System.nanoTime();
                e.getValue().embed(eval);
                double perSec = eval.size() / ((System.nanoTime() - t0) / 1e9);
                if (teacherRate == 0) teacherRate = perSec;
                rate.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(perSec);
                ratio.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(perSec / teacherRate);
            }
            System.err.printf(Locale.ROOT, "\rround %d/%d", r + 1, rounds);
        }
        System.err.println();
        System.out.printf(Locale.ROOT, "%-44s %9s %9s %8s %11s %13s%n", "model", "Spearman", "recall@10", "nDCG@10",
                "sentences/s", "× teacher");
        for (var e : models.entrySet()) {
            var ag = EmbedEval.agreement(tPairs, tv, vectors.get(e.getKey()));
            List<Double> q = ratio.get(e.getKey());
            System.out.printf(Locale.ROOT, "%-44s %9.4f %9.3f %8.3f %11.0f %6.2f [%.2f-%.2f]%n", e.getKey(), ag.spearman(),
                    ag.recallAt10(), ag.ndcgAt10(), median(rate.get(e.getKey())), median(q), Collections.min(q), Collections.max(q));
        }
        System.out.printf(Locale.ROOT, "load average after: %.2f%n", EmbedEval.loadAverage());
        for (EmbeddingModel m : models.values()) m.close();
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
