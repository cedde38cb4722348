package dev.distill4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.train.optim.AdamW;
import dev.distill4j.train.optim.Gradients;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint files round-trip exactly, corruption is detected, old checkpoints are pruned, metrics truncate. */
class TrainerCheckpointTest {
    @TempDir Path tmp;

    private static final TrainerState.Shaping SHAPING = new TrainerState.Shaping(1, 64, 128, 2, 1, 10, 10, 2, 1e-3,
            0.05, 5, "abc");

    private static TrainerState state(long step) {
        return new TrainerState(TrainerState.FORMAT, step, step, 1, 3, 1234, 1.5, 2.5, 77, SHAPING, "none");
    }

    @Test
    void weightsAndOptimizerStateRoundTripBitExact() throws IOException {
        ModelConfig config = TinyModels.llama(16, 1, 2, 0.02);
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.init(config, manager, 3);
             AdamW adamW = AdamW.builder().build()) {
            model.setTrainable(true);
            for (int step = 0; step < 2; step++) {   // real, non-trivial moments
                try (NDManager scope = manager.newSubManager();
                     GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray ids = scope.create(new int[] {1, 5, 9, 200, 7, 3}, new ai.djl.ndarray.types.Shape(2, 3));
                    gc.backward(model.forward(ids, null, null).square().mean());
                }
                adamW.step(model.parameters(), 1e-2);
                Gradients.zero(model.parameters().values());
            }
            Map<String, NDArray> optimizer = adamW.exportState(manager);
            optimizer.remove("step");
            Path dir = TrainerCheckpoint.save(tmp.resolve("checkpoints"), config, model.parameters(), optimizer,
                    state(2), 2);
            assertThat(dir.getFileName().toString()).isEqualTo("step-2");
            assertThat(TrainerCheckpoint.verify(dir)).isNull();

            TrainerCheckpoint.Loaded loaded = TrainerCheckpoint.load(dir, manager);
            assertThat(loaded.state()).isEqualTo(state(2));
            assertThat(loaded.weights().keySet()).isEqualTo(model.parameters().keySet());
            for (var e : model.parameters().entrySet()) {
                assertThat(loaded.weights().get(e.getKey()).toFloatArray()).as(e.getKey())
                        .isEqualTo(e.getValue().toFloatArray());
            }
            assertThat(loaded.optimizer().keySet()).isEqualTo(optimizer.keySet());
            for (var e : optimizer.entrySet()) {
                assertThat(loaded.optimizer().get(e.getKey()).toFloatArray()).as(e.getKey())
                        .isEqualTo(e.getValue().toFloatArray());
            }
        }
    }

    @Test
    void corruptionIsDetectedAndOnlyTheNewestAreKept() throws IOException {
        ModelConfig config = TinyModels.llama(8, 1, 2, 0.02);
        Path checkpoints = tmp.resolve("checkpoints");
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.init(config, manager, 3)) {
            for (long step : new long[] {5, 10, 15}) {
                TrainerCheckpoint.save(checkpoints, config, model.parameters(), Map.of(), state(step), 2);
            }
        }
        assertThat(TrainerCheckpoint.list(checkpoints)).extracting(p -> p.getFileName().toString())
                .containsExactly("step-15", "step-10");
        try (var s = Files.list(checkpoints)) {
            assertThat(s.filter(p -> p.getFileName().toString().endsWith(".tmp"))).isEmpty();
        }

        Path newest = checkpoints.resolve("step-15");
        Files.writeString(newest.resolve(TrainerCheckpoint.STATE_FILE), "{}", StandardCharsets.UTF_8);
        assertThat(TrainerCheckpoint.verify(newest)).contains("trainer_state.json");
        List<String> warnings = new ArrayList<>();
        assertThat(TrainerCheckpoint.newestValid(checkpoints, warnings::add)).contains(checkpoints.resolve("step-10"));
        assertThat(warnings).singleElement().asString().contains("step-15");

        Files.delete(checkpoints.resolve("step-10").resolve(TrainerCheckpoint.CHECKSUMS_FILE));
        assertThat(TrainerCheckpoint.newestValid(checkpoints, warnings::add)).isEmpty();
    }

    @Test
    void metricsTruncateToTheCheckpointedLength() throws IOException {
        Path file = tmp.resolve("metrics.jsonl");
        long length;
        try (Metrics m = Metrics.open(file, 0)) {
            m.append(line(1));
            m.append(line(2));
            length = m.sync();
            m.append(line(3));   // written after the checkpoint, then the process dies
        }
        try (Metrics m = Metrics.open(file, length)) {
            m.append(line(3));
            m.append(line(4));
        }
        assertThat(Metrics.read(file)).extracting(l -> l.get("step").asInt()).containsExactly(1, 2, 3, 4);
        assertThatThrownBy(() -> Metrics.open(file, Files.size(file) + 1)).hasMessageContaining("truncated or replaced");
    }

    private static ObjectNode line(int step) {
        return Json.object().put("step", step).put("loss", 1.0 / step);
    }
}
