import ai.onnxruntime.*;
import com.fasterxml.jackson.databind.*;
import dev.distill4j.embed.*;
import dev.distill4j.embed.corpus.*;
import java.nio.file.*;
import java.util.*;

/**
 * Where an ONNX encoder spends its time, per operator, from ONNX Runtime's own profiler: the real corpus's first
 * 1,000 evaluation sentences in batches of 32 sorted by length (as OnnxEmbeddingModel runs them), the session
 * optimised at ALL_OPT with two threads, so the operators listed are the fused ones that really ran.
 *
 *   Profile.java OUT_DIR MODEL...     MODEL = a folder with model.onnx and tokenizer.json, or a built-in teacher id
 */
public class Profile {
    public static void main(String[] a) throws Exception {
        Path out = Path.of(a[0]);
        Files.createDirectories(out);
        List<String> eval = StudentSentences.real(null).evaluation(StudentSentences.EVALUATION_SENTENCES);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (int m = 1; m < a.length; m++) {
            byte[] onnx = OnnxEmbeddingModel.onnxBytes(a[m]);
            long[][] ids;
            String name;
            try (OnnxEmbeddingModel model = OnnxEmbeddingModel.load(a[m])) {     // its tokenizer, as the benches embed
                ids = eval.stream().map(model::tokenize).sorted(Comparator.comparingInt(x -> x.length)).toArray(long[][]::new);
                name = model.name();
            }
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
                o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                o.enableProfiling(out.resolve(name).toString());
                try (OrtSession s = env.createSession(onnx, o)) {
                    boolean typeIds = s.getInputNames().contains("token_type_ids");
                    long t0 = System.nanoTime();
                    for (int i = 0; i < ids.length; i += 32) {
                        var in = OnnxEmbeddingModel.inputs(env, Arrays.copyOfRange(ids, i, Math.min(ids.length, i + 32)), typeIds);
                        try (var r = s.run(in)) {
                            // outputs unused: the timing is the point
                        } finally {
                            in.values().forEach(OnnxTensor::close);
                        }
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    JsonNode events = new ObjectMapper().readTree(Path.of(s.endProfiling()).toFile());
                    Map<String, Long> byOp = new HashMap<>();
                    long total = 0;
                    for (JsonNode e : events) {
                        if (!"Node".equals(e.path("cat").asText()) || !e.path("name").asText().endsWith("_kernel_time")) continue;
                        byOp.merge(e.path("args").path("op_name").asText(), e.path("dur").asLong(), Long::sum);
                        total += e.path("dur").asLong();
                    }
                    System.out.printf(Locale.ROOT, "%s: %d sentences in %.2f s (%.0f/s, profiler on), kernels %.2f s, load %.2f%n",
                            name, ids.length, seconds, ids.length / seconds, total / 1e6, EmbedEval.loadAverage());
                    long all = total;
                    byOp.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                            .filter(e -> e.getValue() * 200 >= all)                  // ops of 0.5 % or more
                            .forEach(e -> System.out.printf(Locale.ROOT, "  %-24s %8.1f ms %5.1f %%%n", e.getKey(),
                                    e.getValue() / 1e3, 100.0 * e.getValue() / all));
                }
            }
        }
    }
}
