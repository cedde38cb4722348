package dev.distill4j.model.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.generate.StepDecoder;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.io.SafetensorsReader;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.model.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The saved int8 form: written whole, read back to the same engine as quantizing at load, loadable as a model. */
class Int8CheckpointTest {
    @TempDir Path tmp;

    @Test
    void savedInt8LoadsAsTheModelQuantizedAtLoad() throws Exception {
        Path f32 = tmp.resolve("student");
        ModelInit.create(TinyModels.spec("qwen3", 3), TinyModels.tokenizerDir(), f32, false);
        Path q = tmp.resolve("student-int8");
        try (LocalModel atLoad = LocalModel.load(f32, null, Quantization.INT8)) {
            try (NDManager m = NDManager.newBaseManager("PyTorch"); LocalModel plain = LocalModel.load(f32, m)) {
                Int8Checkpoint.save(plain.model(), f32, q);
            }
            // the format: I8 matrices with F32 block scales, F32 norms; the config names the method
            try (SafetensorsReader r = SafetensorsReader.open(q.resolve("model.safetensors"))) {
                assertThat(r.info("model.layers.0.mlp.up_proj.weight").dtype()).isEqualTo(DType.I8);
                assertThat(r.info("model.layers.0.mlp.up_proj.weight_scale").shape()).containsExactly(64, 1);
                assertThat(r.info("model.layers.0.mlp.down_proj.weight_scale").shape()).containsExactly(32, 2);
                assertThat(r.info("model.norm.weight").dtype()).isEqualTo(DType.F32);
            }
            assertThat(Files.readString(q.resolve("config.json"))).contains("\"quant_method\" : \"distill4j_int8\"");
            assertThat(q.resolve("tokenizer.json")).exists();
            try (LocalModel saved = LocalModel.load(q)) {
                assertThat(saved.quantization()).isEqualTo(Quantization.INT8);
                int[] prompt = saved.encodeText("the cat");
                StepDecoder a = atLoad.stepDecoder(), b = saved.stepDecoder();
                float[] la = a.prefill(a.newState(), prompt);
                float[] lb = b.prefill(b.newState(), prompt);
                DecodeEngineTest.assertClose(lb, la, "saved vs quantized at load");
                Generation ga = atLoad.generate(prompt, SamplingParams.greedy(6));
                Generation gb = saved.generate(prompt, SamplingParams.greedy(6));
                assertThat(gb.tokenIds()).containsExactly(ga.tokenIds());
                // teacher-forced scoring (DJL) sees the dequantized weights of both alike
                var sa = atLoad.scorer().score(prompt, ga.tokenIds(), 0);
                var sb = saved.scorer().score(prompt, gb.tokenIds(), 0);
                assertThat(sb.total()).isCloseTo(sa.total(), org.assertj.core.api.Assertions.within(1e-4));
            }
        }
        // never over an existing folder
        try (NDManager m = NDManager.newBaseManager("PyTorch"); LocalModel plain = LocalModel.load(f32, m)) {
            assertThatThrownBy(() -> Int8Checkpoint.save(plain.model(), f32, q)).hasMessageContaining("already exists");
        }
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactlyInAnyOrder("student",
                    "student-int8");
        }
        assertThat(List.of(Int8Checkpoint.isInt8Folder(q), Int8Checkpoint.isInt8Folder(f32))).containsExactly(true, false);
    }
}
