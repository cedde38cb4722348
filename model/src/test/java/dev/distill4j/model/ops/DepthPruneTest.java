package dev.distill4j.model.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.io.TensorInfo;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.testing.TinyModels;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DepthPruneTest {
    @TempDir Path tmp;

    @Test
    void parsesLayerLists() {
        assertThat(DepthPrune.parseLayers("0,2,4", 6)).containsExactly(0, 2, 4);
        assertThat(DepthPrune.parseLayers(" 0-2, 5 ", 6)).containsExactly(0, 1, 2, 5);
        assertThatThrownBy(() -> DepthPrune.parseLayers("", 6)).hasMessageContaining("empty");
        assertThatThrownBy(() -> DepthPrune.parseLayers("0,x", 6)).hasMessageContaining("'x' in layer list '0,x' is not a layer number");
        assertThatThrownBy(() -> DepthPrune.parseLayers("0,6", 6)).hasMessage("layer 6 does not exist: the model has 6 layers, numbered 0..5");
        assertThatThrownBy(() -> DepthPrune.parseLayers("1,1", 6)).hasMessageContaining("layer 1 is listed twice");
        assertThatThrownBy(() -> DepthPrune.parseLayers("3,1", 6)).hasMessageContaining("not ascending").hasMessageContaining("write 1,3");
        assertThatThrownBy(() -> DepthPrune.parseLayers("3-1", 6)).hasMessageContaining("runs backwards");
    }

    @Test
    void keepsLayerWeightsBitExactRenumberedWithEmbeddingsNormAndHead() throws IOException {
        Path teacher = tmp.resolve("teacher");
        var spec = new ModelInit.Spec("qwen3", 5, 32, 4, 2, 64, null, 1e4, 256, false, null, 11, DType.BF16);
        ModelInit.create(spec, TinyModels.tokenizerDir(), teacher, false);
        Path student = tmp.resolve("student");
        DepthPrune.Result r = DepthPrune.prune(teacher, "0,2,4", student, false);

        assertThat(r.kept()).containsExactly(0, 2, 4);
        assertThat(r.teacherLayers()).isEqualTo(5);
        assertThat(r.dtype()).isEqualTo(DType.BF16);
        ModelConfig sc = ModelConfig.read(student);
        assertThat(sc.numHiddenLayers()).isEqualTo(3);
        assertThat(sc.torchDtype()).isEqualTo("bfloat16");
        assertThat(student.resolve("tokenizer.json")).exists();
        assertThat(GenerationConfig.read(student).orElseThrow().toJson())
                .isEqualTo(GenerationConfig.read(teacher).orElseThrow().toJson());
        try (Checkpoint t = Checkpoint.open(teacher); Checkpoint s = Checkpoint.open(student)) {
            s.validate();
            assertThat(s.tensorNames()).hasSize(Checkpoint.expectedTensors(sc).size());
            for (String name : s.tensorNames()) {
                String from = DepthPrune.teacherName(name, r.kept());
                assertThat(s.info(name).dtype()).isEqualTo(DType.BF16);
                assertThat(raw(s, name)).as(name + " from " + from).isEqualTo(raw(t, from));
            }
            assertThat(DepthPrune.teacherName("model.layers.1.mlp.up_proj.weight", r.kept()))
                    .isEqualTo("model.layers.2.mlp.up_proj.weight");
            assertThat(raw(s, "lm_head.weight")).isEqualTo(raw(t, "lm_head.weight"));
        }
    }

    @Test
    void prunedModelComputesWhatInMemoryPruningComputes() throws IOException {
        Path teacher = tmp.resolve("t");
        ModelInit.create(new ModelInit.Spec("llama", 4, 32, 4, 2, 64, null, 1e4, 256, true, null, 5, DType.F32),
                TinyModels.tokenizerDir(), teacher, false);
        DepthPrune.prune(teacher, "1-2", tmp.resolve("s"), false);
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            CausalLM full = CausalLM.fromWeights(ModelConfig.read(teacher), Checkpoint.load(teacher, m), m);
            CausalLM expected = full.keepLayers(1, 2);
            CausalLM pruned = CausalLM.fromWeights(ModelConfig.read(tmp.resolve("s")), Checkpoint.load(tmp.resolve("s"), m), m);
            NDArray ids = m.create(new int[] {5, 60, 200, 7, 300}, new ai.djl.ndarray.types.Shape(1, 5));
            assertThat(pruned.forward(ids, null, null).toFloatArray())
                    .containsExactly(expected.forward(ids, null, null).toFloatArray());
        }
    }

    @Test
    void errorsNameTheProblem() throws IOException {
        Path teacher = tmp.resolve("t");
        ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), teacher, false);
        assertThatThrownBy(() -> DepthPrune.prune(teacher, "0,2", tmp.resolve("s"), false))
                .hasMessage("layer 2 does not exist: the model has 2 layers, numbered 0..1");
        assertThat(tmp.resolve("s")).doesNotExist();
        assertThatThrownBy(() -> DepthPrune.prune(tmp.resolve("missing"), "0", tmp.resolve("s"), false))
                .isInstanceOf(IOException.class).hasMessageContaining("is not a folder");
        // a truncated weight file names the tensor that runs past the end
        Path broken = tmp.resolve("broken");
        ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), broken, false);
        Path w = broken.resolve("model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(w.toFile(), "rw")) {
            f.setLength(f.length() - 100);
        }
        assertThatThrownBy(() -> DepthPrune.prune(broken, "0", tmp.resolve("s2"), false))
                .isInstanceOf(IOException.class).hasMessageContaining("tensor '").hasMessageContaining("truncated");
    }

    private static byte[] raw(Checkpoint c, String name) throws IOException {
        TensorInfo i = c.info(name);
        byte[] b = new byte[Math.toIntExact(i.byteSize())];
        try (RandomAccessFile f = new RandomAccessFile(c.fileOf(name).toFile(), "r")) {
            f.seek(i.begin());
            f.readFully(b);
        }
        return b;
    }
}
