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

        var layers = StudentSentences.forLayers(eval, train, 10, null);
        assertThat(layers.split().train()).containsExactly("four", "five");
        assertThat(layers.split().heldOut()).containsExactly("one", "two", "three");
        assertThat(layers.dropped()).isEqualTo(1);
        assertThat(layers.overlap()).isEqualTo(new RealCorpus.Overlap(0, 0));
        // only --corpus: every fifth sentence is held out, the rest trains
        Path own = Files.writeString(tmp.resolve("own.txt"), "a b c d e f\ng h i j k l\nm n o p q r\ns t u v w x\n"
                + "the fifth sentence is held out\n");
        var fifths = StudentSentences.forLayers(own, null, 10, null);
        assertThat(fifths.split().heldOut()).containsExactly("the fifth sentence is held out");
        assertThat(fifths.split().train()).hasSize(4);
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
        // the layers student has the same defaults: real training sentences, the real evaluation set held out
        var layers = StudentSentences.forLayers(null, null, 50, real);
        assertThat(layers.split().train()).isEqualTo(c.train(50));
        assertThat(layers.split().heldOut()).isEqualTo(eval);
        assertThat(layers.overlap()).isEqualTo(new RealCorpus.Overlap(0, 0));
        assertThat(layers.source()).contains("real-text corpus");
        assertThatThrownBy(() -> StudentSentences.forLayers(null, null, 0, real))
                .isInstanceOf(InvalidInputException.class).hasMessage("--train-sentences must be positive, got 0");
        assertThatThrownBy(() -> StudentSentences.forLayers(null, null, 50, tmp.resolve("absent")))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("bench/embed/corpus.sh");
        assertThatThrownBy(() -> StudentSentences.evaluation(null, tmp.resolve("absent")))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("bench/embed/corpus.sh");
    }
}
