package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.embed.corpus.RealCorpus;
import dev.distill4j.embed.corpus.Sentences;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Student kinds and the sentences a student trains and is scored on (moved here from the CLI). */
class StudentSentencesTest {
    @TempDir Path tmp;

    @Test
    void studentKinds() {
        assertThat(StudentKind.parse("static")).isInstanceOf(StudentKind.Static.class);
        assertThat(StudentKind.parse("static-tuned")).isInstanceOf(StudentKind.StaticTuned.class);
        assertThat(((StudentKind.Layers) StudentKind.parse("layers:0,4,11")).layers()).containsExactly(0, 4, 11);
        assertThatThrownBy(() -> StudentKind.parse("dense")).isInstanceOf(InvalidInputException.class)
                .hasMessage("unknown --student 'dense': use static, static-tuned or layers:0,4,8");
        assertThatThrownBy(() -> StudentKind.parse("layers:zero")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("write layers:0,4,8");
    }

    /** A real-text corpus built from the committed excerpts of Debian documentation. */
    private Path realCorpus() throws Exception {
        Path src = Path.of("src/test/resources/embed-corpus/docs"), dir = tmp.resolve("real");
        try (var files = Files.walk(src)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path to = dir.resolve("docs").resolve(src.relativize(f).toString());
                Files.createDirectories(to.getParent());
                Files.copy(f, to);
            }
        }
        RealCorpus.build(dir, 7, 40, Sentences.Limits.DEFAULT);
        return dir;
    }

    @Test
    void trainingNeverSeesAScoringSentence() throws Exception {
        Path eval = Files.writeString(tmp.resolve("eval.txt"), "one\ntwo\nthree\n");
        Path train = Files.writeString(tmp.resolve("train.txt"), "two\nfour\nfive\n");
        assertThat(StudentSentences.evaluation(eval)).containsExactly("one", "two", "three");

        var tuning = StudentSentences.forTuning(train, 10, StudentSentences.evaluation(eval), null);
        assertThat(tuning.train()).containsExactly("four", "five");
        assertThat(tuning.dropped()).isEqualTo(1);

        var layers = StudentSentences.forLayers(eval, train, 10);
        assertThat(layers.train()).containsExactly("four", "five");
        assertThat(layers.heldOut()).containsExactly("one", "two", "three");
        assertThat(StudentSentences.forLayers(null, null, 100).heldOut()).isEqualTo(EmbedCorpus.synthetic(1000, 42));
        assertThatThrownBy(() -> StudentSentences.forTuning(null, 0, List.of(), null))
                .isInstanceOf(InvalidInputException.class).hasMessage("--train-sentences must be positive, got 0");
    }

    @Test
    void withoutFilesBothSidesComeFromTheRealCorpusAndNeverMeet() throws Exception {
        Path real = realCorpus();
        RealCorpus c = RealCorpus.open(real);
        List<String> eval = StudentSentences.evaluation(null, real);
        assertThat(eval).isEqualTo(c.evaluation(StudentSentences.EVALUATION_SENTENCES)).isNotEmpty();
        var tuning = StudentSentences.forTuning(null, 50, eval, real);
        assertThat(tuning.train()).hasSize(50).isEqualTo(c.train(50)).doesNotContainAnyElementsOf(eval);
        assertThatThrownBy(() -> StudentSentences.evaluation(null, tmp.resolve("absent")))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("bench/embed/corpus.sh");
    }
}
