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
}
