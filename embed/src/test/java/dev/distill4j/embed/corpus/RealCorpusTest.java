package dev.distill4j.embed.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill4j.core.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Builds the corpus from committed excerpts of real Debian documentation (src/test/resources/embed-corpus). */
class RealCorpusTest {
    @TempDir Path tmp;

    private Path fixture() throws IOException {
        Path src = Path.of("src/test/resources/embed-corpus/docs");
        Path docs = tmp.resolve("corpus/docs");
        try (Stream<Path> files = Files.walk(src)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path to = docs.resolve(src.relativize(f).toString());
                Files.createDirectories(to.getParent());
                Files.copy(f, to);
            }
        }
        return docs.getParent();
    }

    @Test
    void splitsByDocumentWithoutOverlapAndReportsIt() throws IOException {
        Path dir = fixture();
        // a duplicate document under another name: its sentences must not reach the other split
        Files.copy(dir.resolve("docs/perl-doc/perlintro.txt"), dir.resolve("docs/perl-doc/perlintro-copy.txt"));
        RealCorpus c = RealCorpus.build(dir, 7, 40, Sentences.Limits.DEFAULT);
        List<String> train = c.train(0), eval = c.evaluation(0);
        assertTrue(train.size() > 100 && eval.size() > 20, train.size() + " / " + eval.size());
        assertEquals(new RealCorpus.Overlap(0, 0), RealCorpus.overlap(train, eval));
        assertEquals(0, c.manifest().path("overlap").path("exact").asInt());
        assertTrue(c.manifest().path("dropped").path("exact_duplicates").asInt() >= 20, "the copied document's sentences");
        // every sentence of a document sits on its document's side
        for (String doc : List.of("perl-doc/perlfaq2.txt", "man/bash.1.txt", "debian-faq/choosing.en.txt")) {
            boolean isEval = RealCorpus.isEvaluationDocument(doc, 7, 40);
            Set<String> own = new HashSet<>();
            for (String p : Sentences.paragraphs(Files.readString(dir.resolve("docs").resolve(doc)))) own.addAll(Sentences.split(p));
            Set<String> other = new HashSet<>(isEval ? train : eval);
            assertTrue(own.stream().noneMatch(other::contains), doc);
        }
        assertEquals(train.size(), c.trainSize());
        assertEquals(c.manifest().path("documents").path("train").asInt() + c.manifest().path("documents").path("eval").asInt(), 11);
        assertEquals(List.copyOf(train.subList(0, 10)), c.train(10));
    }

    @Test
    void sameDocumentsAndSeedGiveTheSameFilesAndOpenReadsThemBack() throws IOException {
        Path dir = fixture();
        RealCorpus.build(dir, 7, 40, Sentences.Limits.DEFAULT);
        byte[] train = Files.readAllBytes(dir.resolve("train.txt")), eval = Files.readAllBytes(dir.resolve("eval.txt"));
        RealCorpus.build(dir, 7, 40, Sentences.Limits.DEFAULT);
        assertArrayEquals(train, Files.readAllBytes(dir.resolve("train.txt")));
        assertArrayEquals(eval, Files.readAllBytes(dir.resolve("eval.txt")));
        RealCorpus read = RealCorpus.open(dir);
        assertEquals(Files.readString(dir.resolve("train.txt")).lines().toList(), read.train(0));
        assertEquals(7, read.manifest().path("seed").asInt(), "open() did not rebuild a current corpus");
    }

    @Test
    void aMissingCorpusSaysHowToGetOne() {
        var e = assertThrows(InvalidInputException.class, () -> RealCorpus.open(tmp.resolve("nothing")));
        assertTrue(e.getMessage().contains("bench/embed/corpus.sh") && e.getMessage().contains("--corpus"), e.getMessage());
        assertFalse(RealCorpus.exists(tmp.resolve("nothing")));
    }

    @Test
    void theDefaultFolderFollowsTheEnvironment() {
        assertEquals(Path.of("/data/c"), RealCorpus.defaultDir(Map.of(RealCorpus.ENV, "/data/c")));
        assertEquals(Path.of("/x/distill4j/embed-corpus"), RealCorpus.defaultDir(Map.of("XDG_CACHE_HOME", "/x")));
    }
}
