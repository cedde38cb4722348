package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tuning a small static student from the real bge-small teacher on a small generated corpus. */
class StaticTunerTest {
    static OnnxEmbeddingModel bge;
    static Remembering teacher;
    static StaticDistiller.Distilled start;
    static List<String> eval, train;
    static StaticTuner.Result tuned;

    @BeforeAll
    static void build() throws Exception {
        bge = OnnxEmbeddingModel.load("bge-small-en-v1.5");
        teacher = new Remembering(bge);
        // 4,000 tokens by id keep the test fast; the words they miss start as zero rows the tuning must learn
        start = StaticDistiller.distillWithBasis(bge, new StaticDistiller.Options(64, 4000, StaticDistiller.Options.DEFAULT_SIF), null);
        eval = EmbedCorpus.synthetic(120, 5);
        train = EmbedCorpus.training(400, 1005, eval);
        tuned = StaticTuner.tune(start.model(), start.pca(), teacher, train,
                StaticTuner.Options.defaults(StaticTuner.Loss.COSINE).withEpochs(5).withBatchSize(32), null);
    }

    @AfterAll
    static void close() {
        tuned.model().close();
        start.model().close();
        bge.close();
    }

    @Test
    void trainingAndEvaluationSentencesAreDisjoint() {
        HashSet<String> overlap = new HashSet<>(train);
        overlap.retainAll(eval);
        assertThat(overlap).isEmpty();
    }

    @Test
    void tunedStudentBeatsTheStaticOneOnSentencesItNeverSaw() {
        float[][] t = bge.embed(eval);
        double before = Fidelity.similaritySpearman(t, start.model().embed(eval));
        double after = Fidelity.similaritySpearman(t, tuned.model().embed(eval));
        assertThat(after).as("held-out Spearman, static %.3f", before).isGreaterThan(before + 0.1);
        assertThat(tuned.spearmanAfter()).isGreaterThan(tuned.spearmanBefore());
        assertThat(tuned.bestEpoch()).isPositive();
        assertThat(tuned.trainSentences() + tuned.heldOutSentences()).isEqualTo(400);
        assertThat(tuned.targetCeilingSpearman()).isGreaterThan(after);
    }

    @Test
    void onlyTheCorpusTokensChange() {
        int changed = 0;
        for (int id = 0; id < start.model().vocabSize(); id++) {
            if (!java.util.Arrays.equals(start.model().row(id), tuned.model().row(id))) changed++;
        }
        assertThat(changed).isPositive().isLessThanOrEqualTo(tuned.trainedTokens());
    }

    @Test
    void savesAsAStaticStudentThatLoadsBackUnchanged(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("tuned");
        tuned.model().save(out);
        assertThat(EmbeddingModels.isStudent(out)).isTrue();
        try (EmbeddingModel loaded = EmbeddingModels.student(out)) {
            assertThat(loaded).isInstanceOf(StaticEmbeddingModel.class);
            String text = "The goalkeeper blocks a free kick under the floodlights.";
            assertThat(loaded.embed(text)).containsExactly(tuned.model().embed(text));
            var cfg = ((StaticEmbeddingModel) loaded).config();
            assertThat(cfg.path("model_type").asText()).isEqualTo("static");
            assertThat(cfg.path("tuned").path("loss").asText()).isEqualTo("cosine");
            assertThat(cfg.path("tuned").path("epochs").asInt()).isEqualTo(5);
            assertThat(cfg.path("tuned").path("corpus_sentences").asInt()).isEqualTo(400);
            assertThat(cfg.path("tuned").path("held_out_spearman").asDouble()).isEqualTo(tuned.spearmanAfter());
        }
    }

    @Test
    void theSameSeedGivesTheSameStudent() throws Exception {
        List<String> small = train.subList(0, 200);
        var o = StaticTuner.Options.defaults(StaticTuner.Loss.CONTRASTIVE).withEpochs(2).withBatchSize(16);
        List<StaticTuner.Progress> seen = new ArrayList<>();
        StaticTuner.Result a = StaticTuner.tune(start.model(), start.pca(), teacher, small, o, seen::add);
        StaticTuner.Result b = StaticTuner.tune(start.model(), start.pca(), teacher, small, o, null);
        StaticTuner.Result c = StaticTuner.tune(start.model(), start.pca(), teacher, small, o.withSeed(7), null);
        String probe = "The chef bakes fresh bread in the kitchen.";
        assertThat(a.model().embed(probe)).containsExactly(b.model().embed(probe));
        assertThat(a.spearmanAfter()).isEqualTo(b.spearmanAfter());
        assertThat(c.spearmanBefore()).isNotEqualTo(a.spearmanBefore());   // another held-out split
        assertThat(seen).filteredOn(p -> p instanceof StaticTuner.Progress.Epoch).hasSize(3);   // before + 2 epochs
        assertThat(seen).filteredOn(p -> p instanceof StaticTuner.Progress.TeacherPass).last()
                .isEqualTo(new StaticTuner.Progress.TeacherPass(200, 200));
        for (var r : List.of(a, b, c)) r.model().close();
    }

    @Test
    void theStructureTermTrainsAndIsRecorded() throws Exception {
        // a weight on the pairwise-cosine term once turned the loss into F64 (DJL's Number overload) and the
        // first step failed; the term must train like the others and be written into the folder's config
        var o = StaticTuner.Options.defaults(StaticTuner.Loss.COSINE).withEpochs(2).withBatchSize(32).withStructureWeight(0.5);
        StaticTuner.Result r = StaticTuner.tune(start.model(), start.pca(), teacher, train.subList(0, 200), o, null);
        try {
            assertThat(r.spearmanAfter()).isGreaterThan(r.spearmanBefore());
            assertThat(r.model().config().path("tuned").path("structure_weight").asDouble()).isEqualTo(0.5);
        } finally {
            r.model().close();
        }
    }

    @Test
    void tooSmallACorpusIsRefusedWithAClearMessage() {
        assertThatThrownBy(() -> StaticTuner.tune(start.model(), start.pca(), teacher, train.subList(0, 40),
                StaticTuner.Options.defaults(StaticTuner.Loss.MSE), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("give it more sentences");
    }

    /** The real teacher, asked once per sentence: several tunings in this class share its vectors. */
    static final class Remembering implements EmbeddingModel {
        final EmbeddingModel teacher;
        final Map<String, float[]> seen = new HashMap<>();

        Remembering(EmbeddingModel teacher) { this.teacher = teacher; }

        @Override
        public float[][] embed(List<String> texts) {
            List<String> missing = texts.stream().filter(s -> !seen.containsKey(s)).distinct().toList();
            if (!missing.isEmpty()) {
                float[][] v = teacher.embed(missing);
                for (int i = 0; i < v.length; i++) seen.put(missing.get(i), v[i]);
            }
            return texts.stream().map(seen::get).toArray(float[][]::new);
        }

        @Override
        public int dimension() { return teacher.dimension(); }

        @Override
        public String name() { return teacher.name(); }
    }
}
