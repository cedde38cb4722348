package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbedCorpusTest {
    @TempDir Path dir;

    @Test
    void readsTextLinesSkippingBlanks() throws Exception {
        Path f = Files.writeString(dir.resolve("c.txt"), "first line\n\n  second line  \n");
        assertThat(EmbedCorpus.read(f)).containsExactly("first line", "second line");
    }

    @Test
    void readsJsonlText() throws Exception {
        Path f = Files.writeString(dir.resolve("c.jsonl"), "{\"text\":\"a\",\"id\":1}\n{\"text\":\"b\"}\n");
        assertThat(EmbedCorpus.read(f)).containsExactly("a", "b");
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"text\":\"a\"}\n{\"body\":\"b\"}\n");
        assertThatThrownBy(() -> EmbedCorpus.read(bad)).hasMessageContaining("line 2 has no \"text\"");
    }

    @Test
    void generatedCorpusIsDistinctAndReproducible() {
        var a = EmbedCorpus.synthetic(300, 7);
        assertThat(a).hasSize(300).doesNotHaveDuplicates();
        assertThat(EmbedCorpus.synthetic(300, 7)).isEqualTo(a);
        assertThat(a.getFirst()).endsWith(".");
    }

    @Test
    void classicGeneratedCorpusIsUnchanged() {
        // the evaluation set behind the recorded benchmark figures: widening the training grammar must not move it
        assertThat(EmbedCorpus.synthetic(3, 42)).hasSize(3);
        assertThat(String.join("|", EmbedCorpus.synthetic(1000, 42)).hashCode()).isEqualTo(CLASSIC_1000_42_HASH);
    }

    private static final int CLASSIC_1000_42_HASH = 1810241191;

    @Test
    void trainingCorpusIsLargeDistinctReproducibleAndAvoidsTheEvaluationSet() {
        var eval = EmbedCorpus.synthetic(1000, 42);
        var train = EmbedCorpus.training(20_000, 1042, eval);
        assertThat(train).hasSize(20_000).doesNotHaveDuplicates().doesNotContainAnyElementsOf(eval);
        assertThat(EmbedCorpus.training(500, 1042, eval)).isEqualTo(train.subList(0, 500));
        assertThat(EmbedCorpus.training(500, 1043, eval)).isNotEqualTo(train.subList(0, 500));
    }

    @Test
    void trainingCorpusIsVaried() {
        var train = EmbedCorpus.training(3000, 1, java.util.List.of());
        assertThat(words(train)).as("distinct words").isGreaterThan(400)
                .isGreaterThan(2 * words(EmbedCorpus.synthetic(3000, 1)));
        // eight sentence shapes: fronted settings, adverbs, coordination, relative and reported clauses all occur
        assertThat(train).anyMatch(s -> s.startsWith("According to ")).anyMatch(s -> s.contains(", who "))
                .anyMatch(s -> s.contains(" while ")).anyMatch(s -> s.contains(" often "));
        long lengths = train.stream().mapToInt(s -> s.split(" ").length).distinct().count();
        assertThat(lengths).as("distinct sentence lengths in words").isGreaterThan(10);
    }

    private static int words(java.util.List<String> sentences) {
        var words = new java.util.HashSet<String>();
        for (String s : sentences) for (String w : s.toLowerCase(java.util.Locale.ROOT).split("[^a-z'-]+")) if (!w.isEmpty()) words.add(w);
        return words.size();
    }

    @Test
    void overlapWithTheEvaluationSetIsDropped() {
        assertThat(EmbedCorpus.withoutOverlap(java.util.List.of("a", "b", "c"), java.util.List.of("b"))).containsExactly("a", "c");
    }
}
