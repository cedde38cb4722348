import dev.distill4j.core.Json;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.encoder.EncoderStudent;
import dev.distill4j.embed.encoder.OnnxLayerDrop;
import java.nio.file.*;

/**
 * A float copy of a layers student whose model.onnx is int8 (`distill embed distill --int8` replaces it): the folder
 * copied to DST with model.onnx exported again from its float safetensors through the teacher's graph, as
 * EncoderStudent.save writes it; then `bench/embed/run.sh int8 … DST DST:tokens` compares the int8 recipes on it.
 *
 *   java -Dai.djl.offline=true -cp "cli/target/lib/*" bench/embed/FloatCopy.java SRC DST
 */
public class FloatCopy {
    public static void main(String[] a) throws Exception {
        Path src = Path.of(a[0]), dst = Path.of(a[1]);
        if (Files.exists(dst)) throw new IllegalArgumentException(dst + " exists: give a new folder");
        var info = Json.MAPPER.readTree(src.resolve("config.json").toFile()).get("distill4j");
        int[] kept = new int[info.get("teacher_layers").size()];
        for (int i = 0; i < kept.length; i++) kept[i] = info.get("teacher_layers").get(i).asInt();
        byte[] teacher = OnnxEmbeddingModel.onnxBytes(info.get("teacher").asText());
        Files.createDirectories(dst);
        try (var files = Files.walk(src)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String rel = src.relativize(p).toString();
                if (rel.isEmpty() || rel.equals("model.onnx") || rel.equals("quantization.json") || rel.equals("scorecard.json")) continue;
                if (Files.isDirectory(p)) Files.createDirectories(dst.resolve(rel));
                else Files.copy(p, dst.resolve(rel));
            }
        }
        byte[] onnx = OnnxLayerDrop.write(teacher, kept, EncoderStudent.load(src).encoder().weights());
        Files.write(dst.resolve("model.onnx"), onnx);
        System.out.printf("%s: float model.onnx of teacher layers %s, %.1f MB%n", dst, java.util.Arrays.toString(kept), onnx.length / 1e6);
    }
}
