import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.distill4j.core.Json;
import dev.distill4j.embed.*;
import dev.distill4j.embed.corpus.*;
import java.nio.file.*;
import java.util.*;

/**
 * The Java WordPiece tokenizer against Hugging Face tokenizers (DJL's binding) on the whole real-text corpus: for
 * each tokenizer.json, how many sentences the Java one takes, whether every id agrees on them, and the time per
 * sentence of each on one thread (the best of three passes over the first 20,000 sentences).
 *
 *   Tokenize.java [STATIC_STUDENT_DIR...]     (bge-small-en-v1.5's tokenizer, then each student's)
 */
public class Tokenize {
    public static void main(String[] a) throws Exception {
        RealCorpus real = StudentSentences.real(null);
        List<String> all = new ArrayList<>(real.train(real.trainSize()));
        all.addAll(real.evaluation(real.evalSize()));
        Map<String, byte[]> tokenizers = new LinkedHashMap<>();
        tokenizers.put("bge-small-en-v1.5", OnnxEmbeddingModel.Builtin.BGE_SMALL_EN_V15.tokenizerJson());
        for (String dir : a) tokenizers.put(dir, Files.readAllBytes(Path.of(dir, "tokenizer.json")));
        System.out.printf(Locale.ROOT, "%,d real sentences (training and evaluation), %d CPUs%n", all.size(),
                Runtime.getRuntime().availableProcessors());
        for (var e : tokenizers.entrySet()) {
            WordPieceTokenizer fast = WordPieceTokenizer.of(Json.MAPPER.readTree(e.getValue()));
            try (HuggingFaceTokenizer reference = HfTokenizers.load(e.getValue(), false, 0)) {
                int taken = 0, differ = 0;
                long tokens = 0;
                for (String s : all) {
                    long[] ids = fast.encode(s);
                    if (ids == null) continue;
                    taken++;
                    tokens += ids.length;
                    if (!Arrays.equals(ids, reference.encode(s, false, false).getIds()) && differ++ < 5) {
                        System.out.println("  differs: " + s);
                    }
                }
                List<String> part = all.subList(0, 20_000);
                double java = Double.MAX_VALUE, djl = Double.MAX_VALUE;
                for (int r = 0; r < 3; r++) {
                    long t0 = System.nanoTime(), sink = 0;
                    for (String s : part) {
                        long[] ids = fast.encode(s);
                        sink += ids != null ? ids.length : reference.encode(s, false, false).getIds().length;
                    }
                    long t1 = System.nanoTime();
                    for (String s : part) sink += reference.encode(s, false, false).getIds().length;
                    long t2 = System.nanoTime();
                    java = Math.min(java, (t1 - t0) / 1e3 / part.size());
                    djl = Math.min(djl, (t2 - t1) / 1e3 / part.size());
                    if (sink == 42) System.out.print("");
                }
                System.out.printf(Locale.ROOT, "%s: the Java tokenizer takes %,d of %,d sentences (%.2f%%; %,d tokens), ids "
                                + "differ on %d; one thread, µs per sentence: DJL %.1f, Java (declined ones through DJL) %.1f, %.1f× faster%n",
                        e.getKey(), taken, all.size(), 100.0 * taken / all.size(), tokens, differ, djl, java, djl / java);
            }
        }
    }
}
