package dev.distill4j.embed.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbedCorpus;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.embed.ModelFootprint;
import dev.distill4j.embed.OnnxEmbeddingModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layer selection, a short distillation run, and the saved folder, on the real bge-small teacher. */
class EncoderStudentTest {
    static final String TEACHER = "bge-small-en-v1.5";
    static OnnxEmbeddingModel teacher;
    static BertWeights all;

    @BeforeAll
    static void load() throws Exception {
        teacher = OnnxEmbeddingModel.load(TEACHER);
        all = BertWeights.fromOnnx(OnnxGraph.parse(OnnxEmbeddingModel.onnxBytes(TEACHER)));
    }

    @AfterAll
    static void close() { teacher.close(); }

    @Test
    void keepLayersRenumbersTheChosenTeacherLayers() {
        BertWeights s = all.keepLayers(0, 4, 8);
        assertThat(s.config().numHiddenLayers()).isEqualTo(3);
        assertThat(s.tensors()).hasSize(BertWeights.EMBEDDINGS.length + 3 * BertWeights.LAYER.length);
        for (String e : BertWeights.EMBEDDINGS) assertThat(s.tensors().get(e)).isSameAs(all.tensors().get(e));
        int[] from = {0, 4, 8};
        for (int i = 0; i < from.length; i++) {
            for (String p : BertWeights.LAYER) {
                assertThat(s.tensors().get("encoder.layer." + i + "." + p).data())
                        .as("student layer %d %s", i, p).isSameAs(all.tensors().get("encoder.layer." + from[i] + "." + p).data());
            }
        }
        // distinct teacher layers really differ, so a wrong index would show
        assertThat(all.tensors().get("encoder.layer.4.attention.self.query.weight").data())
                .isNotEqualTo(all.tensors().get("encoder.layer.8.attention.self.query.weight").data());
        assertThat(s.tensors()).doesNotContainKey("encoder.layer.3.attention.self.query.weight");
        assertThatThrownBy(() -> all.keepLayers(0, 12)).hasMessageContaining("layers 0..11");
    }

    @Test
    void shortTrainingLowersHeldOutLossAndTheFolderRoundTrips(@TempDir Path tmp) throws Exception {
        List<String> corpus = EmbedCorpus.synthetic(120, 7);
        List<String> train = new ArrayList<>(corpus.subList(0, 80)), heldOut = corpus.subList(80, 120);
        assertThat(train).doesNotContainAnyElementsOf(heldOut);
        List<Double> stepLosses = new ArrayList<>();
        Path cache = tmp.resolve("teacher-cache");
        EncoderDistiller.Progress recordSteps = new EncoderDistiller.Progress() {
            @Override public void onStep(int epoch, long step, long total, double loss, double lr) { stepLosses.add(loss); }

            @Override public void onEval(int epoch, double heldOutLoss, double heldOutSpearman) {}
        };
        EncoderDistiller.Result r = EncoderDistiller.distill(teacher, TEACHER, train, heldOut,
                new EncoderDistiller.Options(new int[] {0, 6, 11}, 2, 2e-4, 16, 1, false, 1.0, cache), recordSteps);
        assertThat(stepLosses).hasSize(10);
        assertThat(r.heldOutLoss()).hasSize(3);
        assertThat(r.heldOutLoss()[2]).as("held-out MSE after training vs the layer-dropped initialisation")
                .isLessThan(r.heldOutLoss()[0] * 0.8);
        assertThat(r.heldOutSpearman()[2]).as("held-out Spearman after training vs before").isGreaterThan(r.heldOutSpearman()[0]);
        assertThat(r.cachedVectors()).as("a fresh cache").isZero();
        // a second student from the same sentences takes every teacher vector from the cache, bit for bit
        EncoderDistiller.Result fromCache = EncoderDistiller.distill(teacher, TEACHER, train, heldOut,
                new EncoderDistiller.Options(new int[] {0, 6, 11}, 0, 2e-4, 16, 1, false, 1.0, cache), recordSteps);
        assertThat(fromCache.cachedVectors()).isEqualTo(train.size() + heldOut.size());
        assertThat(fromCache.heldOutLoss()[0]).isEqualTo(r.heldOutLoss()[0]);
        fromCache.student().close();

        try (EncoderStudent s = r.student()) {
            Path dir = tmp.resolve("student");
            s.save(dir);
            for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json")) {
                assertThat(dir.resolve(f)).isRegularFile();
            }
            JsonNode config = Json.MAPPER.readTree(dir.resolve("config.json").toFile());
            assertThat(config.path("model_type").asText()).isEqualTo("bert");
            assertThat(config.path("num_hidden_layers").asInt()).isEqualTo(3);
            assertThat(config.path("num_attention_heads").asInt()).isEqualTo(12);
            assertThat(config.path("distill4j").path("teacher_layers").toString()).isEqualTo("[0,6,11]");
            assertThat(config.path("distill4j").path("pooling").asText()).isEqualTo("cls");
            assertThat(config.path("distill4j").path("loss").asText()).isEqualTo("mse+pairwise-cosine");
            assertThat(config.path("distill4j").path("pair_weight").asDouble()).isEqualTo(1.0);
            assertThat(Json.MAPPER.readTree(dir.resolve("1_Pooling/config.json").toFile()).path("pooling_mode_cls_token").asBoolean()).isTrue();
            assertThat(EmbeddingModels.isStudent(dir)).isTrue();
            assertThat(dir.resolve(EncoderStudent.ONNX_FILE)).isRegularFile();
            float[][] before = s.embed(heldOut);
            // served from its ONNX export: the trained weights, on ONNX Runtime
            try (EmbeddingModel back = EmbeddingModels.student(dir)) {
                assertThat(back).isInstanceOf(OnnxEmbeddingModel.class);
                assertThat(back.dimension()).isEqualTo(384);
                assertThat(OnnxLayerDropTest.maxAbsDiff(back.embed(heldOut), before)).isLessThan(1e-4);
            }
            assertThat(ModelFootprint.ofFolder(dir).parameters()).as("embeddings + 3 layers, as the ONNX file holds them")
                    .isEqualTo(s.encoder().weights().tensors().values().stream().mapToLong(t -> t.data().length).sum());
            // on DJL, bit for bit; saved again elsewhere it keeps its ONNX export
            try (EncoderStudent djl = EncoderStudent.load(dir)) {
                float[][] after = djl.embed(heldOut);
                for (int i = 0; i < before.length; i++) assertThat(after[i]).containsExactly(before[i]);
                djl.save(tmp.resolve("again"));
            }
            try (EmbeddingModel again = EmbeddingModels.student(tmp.resolve("again"))) {
                assertThat(again).isInstanceOf(OnnxEmbeddingModel.class);
                assertThat(OnnxLayerDropTest.maxAbsDiff(again.embed(heldOut), before)).isLessThan(1e-4);
            }
            // a student without a graph writes no model.onnx, and removes a stale one it would contradict
            try (EncoderStudent plain = new EncoderStudent("plain", s.encoder().weights(), teacher.tokenizerJson(),
                    s.pooling(), 512, s.info())) {
                plain.save(dir);
            }
            assertThat(dir.resolve(EncoderStudent.ONNX_FILE)).doesNotExist();
            try (EmbeddingModel back = EmbeddingModels.student(dir)) {
                assertThat(back).isInstanceOf(EncoderStudent.class);
            }
        }
    }

    @Test
    void hiddenStateTermBringsEachKeptLayerTowardsItsTeacherLayer() throws Exception {
        List<String> corpus = EmbedCorpus.synthetic(120, 7);
        List<String> train = new ArrayList<>(corpus.subList(0, 80)), heldOut = corpus.subList(80, 120);
        int[] layers = {0, 6, 11};
        try (NDManager m = NDManager.newBaseManager(); BertEncoder whole = new BertEncoder(all, m);
             EncoderStudent init = new EncoderStudent("init", all.keepLayers(layers), teacher.tokenizerJson(),
                     teacher.pooling(), teacher.maxLength(), Json.object())) {
            long[][] ids = heldOut.stream().map(init::tokenize).toArray(long[][]::new);
            double before = hiddenLoss(whole, init, ids, layers, m);
            assertThat(before).as("layer 6 stands in for layers 1–6 at the start").isGreaterThan(0.05);
            EncoderDistiller.Result r = EncoderDistiller.distill(teacher, TEACHER, train, heldOut,
                    new EncoderDistiller.Options(layers, 2, 2e-4, 16, 1, false, 1.0, null, 4.0), new EncoderDistiller.Progress() {
                        @Override public void onStep(int epoch, long step, long total, double loss, double lr) {}

                        @Override public void onEval(int epoch, double heldOutLoss, double heldOutSpearman) {}
                    });
            try (EncoderStudent s = r.student()) {
                assertThat(hiddenLoss(whole, s, ids, layers, m)).as("held-out token-state error after 10 steps")
                        .isLessThan(before * 0.8);
                assertThat(r.heldOutLoss()[2]).isLessThan(r.heldOutLoss()[0]);
                assertThat(s.info().path("loss").asText()).isEqualTo("mse+pairwise-cosine+hidden-states");
                assertThat(s.info().path("hidden_weight").asDouble()).isEqualTo(4.0);
            }
        }
    }

    /** {@link HiddenStateLoss} of {@code student}'s layers against the teacher layers they were copied from. */
    private static double hiddenLoss(BertEncoder teacher, EncoderStudent student, long[][] ids, int[] layers, NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            BertEncoder.States s = student.encoder().states(m, ids);
            return HiddenStateLoss.of(s.layers(), EncoderDistiller.kept(teacher.states(m, ids), layers), s.keep()).getFloat();
        }
    }

    @Test
    void layersSpecParses() {
        assertThat(EncoderDistiller.Options.parseLayers("layers:0, 4,8")).containsExactly(0, 4, 8);
        assertThat(EncoderDistiller.Options.parseLayers("static")).isNull();
        assertThatThrownBy(() -> EncoderDistiller.Options.parseLayers("layers:a")).hasMessageContaining("layers:0,4,8");
        assertThatThrownBy(() -> new EncoderDistiller.Options(new int[] {0, 4, 4}, 1, 1e-4, 8, 1, false))
                .hasMessageContaining("kept once");
        assertThatThrownBy(() -> new EncoderDistiller.Options(new int[] {0, 4}, 1, 1e-4, 8, 1, false, 1, null, -1))
                .hasMessageContaining("--hidden-weight must be a finite number ≥ 0");
    }

    @Test
    void theDefaultLearningRateFallsAsTheStudentKeepsMoreOfItsTeacher() {
        // the measured ends: 4 of 12 layers best at 1e-3, 10 of 12 at 1e-4; geometric in between, flat outside
        assertThat(EncoderDistiller.Options.defaultLr(4, 12)).isCloseTo(1e-3, within(1e-12));
        assertThat(EncoderDistiller.Options.defaultLr(2, 12)).isCloseTo(1e-3, within(1e-12));
        assertThat(EncoderDistiller.Options.defaultLr(10, 12)).isCloseTo(1e-4, within(1e-12));
        assertThat(EncoderDistiller.Options.defaultLr(12, 12)).isCloseTo(1e-4, within(1e-12));
        assertThat(EncoderDistiller.Options.defaultLr(7, 12)).isCloseTo(Math.sqrt(1e-3 * 1e-4), within(1e-12));
        assertThat(EncoderDistiller.Options.defaultLr(3, 6)).isCloseTo(1e-3 * Math.pow(10, -1.0 / 3), within(1e-12));
        // the default is resolved against the teacher; a rate given stays as it is
        var auto = new EncoderDistiller.Options(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11}, 1,
                EncoderDistiller.Options.DEFAULT_LR, 8, 1, false);
        assertThat(auto.withLrFor(12).lr()).isCloseTo(1e-4, within(1e-12));
        assertThat(new EncoderDistiller.Options(new int[] {0, 11}, 1, 3e-4, 8, 1, false).withLrFor(12).lr()).isEqualTo(3e-4);
        assertThatThrownBy(() -> new EncoderDistiller.Options(new int[] {0}, 1, -1e-3, 8, 1, false))
                .hasMessageContaining("learning rate must be > 0");
    }

    @Test
    void loadingAFolderWithoutWeightsSaysWhatToDo(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("config.json"), "{\"model_type\":\"bert\"}");
        assertThatThrownBy(() -> EmbeddingModels.student(tmp)).hasMessageContaining("--student layers:");
    }
}
