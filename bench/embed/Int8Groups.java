import dev.distill4j.embed.*;
import dev.distill4j.embed.corpus.*;
import dev.distill4j.embed.encoder.*;
import java.nio.file.*;
import java.util.*;
import java.util.function.Predicate;

/**
 * Where int8 costs an encoder its fidelity: the model quantised as `distill embed quantize` does (SmoothQuant,
 * calibrated on the real corpus's first 256 training sentences; the tanh GELU), then again with one group of projections left in
 * float, each scored against the float teacher on the real corpus's 1,000 evaluation sentences (-Dval=1: on 1,000
 * held-out training sentences, 150,000-151,000, to choose settings without the evaluation set).
 *
 *   Int8Groups.java MODEL_DIR GROUP,GROUP,... [ALPHA,ALPHA,...]
 *   GROUP = ffnout-all | ffnin-all | attout-all | qkv-all | ffnoutN | ffninN | attoutN | qkvN | layerN (layer N's)
 *           | tokens (nothing left in float, the feed-forward outputs' inputs quantised per token: --token-ranges)
 */
public class Int8Groups {
    static final String TOKENS = "all int8, token ranges";

    public static void main(String[] a) throws Exception {
        Path dir = Path.of(a[0]);
        byte[] onnx = Files.readAllBytes(dir.resolve("model.onnx"));
        byte[] tokJson = Files.readAllBytes(dir.resolve("tokenizer.json"));
        RealCorpus real = StudentSentences.real(null);
        List<String> eval = System.getProperty("val") != null
                ? new ArrayList<>(real.train(151000).subList(150000, 151000)) : real.evaluation(StudentSentences.EVALUATION_SENTENCES);
        var ranges = Int8Encoder.calibrate(onnx, tokJson, real.train(Int8Encoder.DEFAULT_CALIBRATION));
        float[][] tv;
        try (EmbeddingModel t = EmbeddingModels.teacher("bge-small-en-v1.5")) { tv = t.embed(eval); }
        double[] tp = Fidelity.pairwiseCosines(tv);
        Map<String, Predicate<String>> variants = new LinkedHashMap<>();
        variants.put("all int8", n -> true);
        for (String v : a[1].split(",")) {
            if (v.equals("tokens")) variants.put(TOKENS, n -> true);
            else if (v.equals("ffnout-all")) variants.put("float FFN-out all", n -> !(n.contains("/output/dense") && !n.contains("attention")));
            else if (v.equals("ffnin-all")) variants.put("float FFN-in all", n -> !n.contains("/intermediate/dense"));
            else if (v.equals("attout-all")) variants.put("float attn-out all", n -> !n.contains("/attention/output/dense"));
            else if (v.equals("qkv-all")) variants.put("float QKV all", n -> !n.contains("/attention/self"));
            else if (v.startsWith("ffnout")) { String L = v.substring(6); variants.put("float FFN-out L" + L, n -> !n.contains("layer." + L + "/output/dense")); }
            else if (v.startsWith("ffnin")) { String L = v.substring(5); variants.put("float FFN-in L" + L, n -> !n.contains("layer." + L + "/intermediate/dense")); }
            else if (v.startsWith("attout")) { String L = v.substring(6); variants.put("float attn-out L" + L, n -> !n.contains("layer." + L + "/attention/output/dense")); }
            else if (v.startsWith("qkv")) { String L = v.substring(3); variants.put("float QKV L" + L, n -> !n.contains("layer." + L + "/attention/self")); }
            else if (v.startsWith("layer")) { String L = v.substring(5); variants.put("float layer " + L, n -> !n.contains("layer." + L + "/")); }
        }
        for (String al : (a.length > 2 ? a[2] : "0.75").split(",")) {
        double alpha = Double.parseDouble(al);
        for (var e : variants.entrySet()) {
            var r = OnnxQuantize.int8(onnx, e.getValue(), ranges, alpha, e.getKey().equals(TOKENS));
            byte[] graph = OnnxGelu.tanhGelu(r.model()).model();   // as distill embed quantize writes it
            try (OnnxEmbeddingModel m = OnnxEmbeddingModel.of("v", graph, tokJson, Pooling.CLS, 512)) {
                float[][] v = m.embed(eval);
                var ag = EmbedEval.agreement(tp, tv, v);
                System.out.printf(Locale.ROOT, "alpha %.2f %-24s matmuls %3d  Spearman %.4f recall@10 %.3f nDCG@10 %.3f%n", alpha, e.getKey(), r.matmuls(), ag.spearman(), ag.recallAt10(), ag.ndcgAt10());
            }
        }
        }
    }
}
