package dev.distill4j.core.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shared recursive delete: nested folders, a missing path, a link that must not be followed. */
class FileTreesTest {
    @TempDir Path tmp;

    @Test
    void deletesAFolderWithEverythingInItAndNothingBeside() throws Exception {
        Path root = tmp.resolve("run");
        Files.createDirectories(root.resolve("a/b/c"));
        Files.writeString(root.resolve("a/b/c/weights.bin"), "x");
        Files.writeString(root.resolve("a/top.json"), "{}");
        Files.writeString(tmp.resolve("keep.txt"), "beside it");
        FileTrees.delete(root);
        assertThat(root).doesNotExist();
        assertThat(tmp.resolve("keep.txt")).hasContent("beside it");
        FileTrees.delete(root);                                             // gone already: nothing to do
        FileTrees.delete(tmp.resolve("keep.txt"));                          // a plain file
        assertThat(tmp.resolve("keep.txt")).doesNotExist();
    }

    @Test
    void aLinkIsDeletedNotFollowed() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("precious.txt"), "keep");
        Path root = Files.createDirectories(tmp.resolve("run"));
        Files.createSymbolicLink(root.resolve("link"), outside);
        FileTrees.delete(root);
        assertThat(root).doesNotExist();
        assertThat(outside.resolve("precious.txt")).hasContent("keep");
    }

    @Test
    void quietDeleteSwallowsWhatItCannotDo() {
        FileTrees.deleteQuietly(tmp.resolve("never-was"));                 // no exception
        assertThat(tmp.resolve("never-was")).doesNotExist();
    }
}
