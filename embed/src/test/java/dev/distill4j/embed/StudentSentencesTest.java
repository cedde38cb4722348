package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.InvalidInputException;
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

    @Test
    void trainingNeverSeesAScoringSentence() throws Exception {
        Path eval = Files.writeString(tmp.resolve("eval.txt"), "one\ntwo\nthree\n");
        Path train = Files.writeString(tmp.resolve("train.txt"), "two\nfour\nfive\n");
        assertThat(StudentSentences.evaluation(eval)).containsExactly("one", "two", "three");
        assertThat(StudentSentences.evaluation(null)).hasSize(StudentSentences.EVALUATION_SENTENCES)
                .isEqualTo(EmbedCorpus.synthetic(1000, 42));

        var tuning = StudentSentences.forTuning(train, 10, StudentSentences.evaluation(eval));
        assertThat(tuning.train()).containsExactly("four", "five");
        assertThat(tuning.dropped()).isEqualTo(1);
        List<String> generated = StudentSentences.forTuning(null, 50, List.of("x")).train();
        assertThat(generated).hasSize(50).doesNotContain("x");

        var layers = StudentSentences.forLayers(eval, train, 10);
        assertThat(layers.train()).containsExactly("four", "five");
        assertThat(layers.heldOut()).containsExactly("one", "two", "three");
        assertThat(StudentSentences.forLayers(null, null, 100).heldOut()).isEqualTo(EmbedCorpus.synthetic(1000, 42));
        assertThatThrownBy(() -> StudentSentences.forTuning(null, 0, List.of()))
                .isInstanceOf(InvalidInputException.class).hasMessage("--train-sentences must be positive, got 0");
    }
}
