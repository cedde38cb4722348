package dev.distill4j.embed.encoder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.InvalidInputException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The on-disk teacher vectors: stored once, read back exactly, asked again only for what is missing. */
class TeacherVectorCacheTest {
    @TempDir Path dir;

    /** A stand-in teacher (the cache only sees texts in, vectors out) that records what it was asked. */
    static final class Recording implements Function<List<String>, float[][]> {
        final List<String> asked = new ArrayList<>();

        @Override
        public float[][] apply(List<String> texts) {
            asked.addAll(texts);
            float[][] v = new float[texts.size()][];
            for (int i = 0; i < v.length; i++) v[i] = vector(texts.get(i));
            return v;
        }

        static float[] vector(String text) { return new float[] {text.length(), text.hashCode(), 0.25f}; }
    }

    @Test
    void storedVectorsComeBackAndOnlyMissingTextsReachTheTeacher() throws IOException {
        Path f = dir.resolve("t.tvec");
        Recording first = new Recording();
        float[][] a = TeacherVectorCache.open(f, "bge", 3).vectors(List.of("one", "two", "one"), first, null);
        assertThat(first.asked).as("a text repeated in one call is embedded once").containsExactly("one", "two");
        assertThat(a[0]).containsExactly(Recording.vector("one"));
        assertThat(a[2]).containsExactly(Recording.vector("one"));

        Recording second = new Recording();
        TeacherVectorCache reopened = TeacherVectorCache.open(f, "bge", 3);
        assertThat(reopened.size()).isEqualTo(2);
        float[][] b = reopened.vectors(List.of("three", "two", "one"), second, null);
        assertThat(second.asked).containsExactly("three");
        for (int i = 0; i < 3; i++) assertThat(b[i]).containsExactly(Recording.vector(List.of("three", "two", "one").get(i)));
        assertThat(TeacherVectorCache.open(f, "bge", 3).size()).isEqualTo(3);
    }

    @Test
    void aPartialRecordFromAKilledRunIsDroppedAndTheRestKept() throws IOException {
        Path f = dir.resolve("t.tvec");
        TeacherVectorCache.open(f, "bge", 3).vectors(List.of("a", "b"), new Recording(), null);
        long whole = Files.size(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.APPEND)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[20]));              // half a record: 32 + 12 bytes would be whole
        }
        Recording again = new Recording();
        TeacherVectorCache c = TeacherVectorCache.open(f, "bge", 3);
        assertThat(Files.size(f)).as("cut back to the last whole record").isEqualTo(whole);
        c.vectors(List.of("a", "b", "c"), again, null);
        assertThat(again.asked).containsExactly("c");
        assertThat(TeacherVectorCache.open(f, "bge", 3).vectors(List.of("c"), new Recording(), null)[0])
                .containsExactly(Recording.vector("c"));
    }

    @Test
    void anotherTeachersFileOrAForeignFileIsRefused() throws IOException {
        Path f = dir.resolve("t.tvec");
        TeacherVectorCache.open(f, "bge", 3).vectors(List.of("a"), new Recording(), null);
        assertThatThrownBy(() -> TeacherVectorCache.open(f, "minilm", 3)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("holds bge's 3-d vectors, not minilm's 3-d ones");
        assertThatThrownBy(() -> TeacherVectorCache.open(f, "bge", 384)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("not bge's 384-d");
        Path other = Files.writeString(dir.resolve("notes.txt"), "hello");
        assertThatThrownBy(() -> TeacherVectorCache.open(other, "bge", 3)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("is not a teacher vector cache");
        assertThat(Files.readString(other)).as("a refused file is left as it was").isEqualTo("hello");
    }

    @Test
    void progressCountsChunksOfMissingTexts() throws IOException {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < TeacherVectorCache.CHUNK + 5; i++) texts.add("s" + i);
        List<int[]> calls = new ArrayList<>();
        TeacherVectorCache.open(dir.resolve("t.tvec"), "bge", 3).vectors(texts, new Recording(), (d, m) -> calls.add(new int[] {d, m}));
        assertThat(calls).extracting(c -> c[0]).containsExactly(TeacherVectorCache.CHUNK, TeacherVectorCache.CHUNK + 5);
        assertThat(calls).extracting(c -> c[1]).containsOnly(TeacherVectorCache.CHUNK + 5);
    }
}
