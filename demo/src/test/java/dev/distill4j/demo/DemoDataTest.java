package dev.distill4j.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.demo.TaskCorpus.Task;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoDataTest {
    @TempDir Path root;

    @Test
    void preparesDisjointSplitsATokenizerAndTheGoldRun() throws IOException {
        DemoData.Layout l = DemoData.prepare(root, 11, new DemoData.Sizes(300, 60, 40), TaskCorpus.ALL_KINDS, 400);
        List<Task> teacher = CorpusFiles.readGold(l.gold("teacher"));
        List<Task> harvest = CorpusFiles.readGold(l.gold("harvest"));
        List<Task> heldOut = CorpusFiles.readGold(l.gold("heldout"));
        assertThat(teacher).hasSize(300);
        assertThat(harvest).hasSize(60);
        assertThat(heldOut).hasSize(40);
        Set<String> prompts = new HashSet<>();
        for (List<Task> split : List.of(teacher, harvest, heldOut)) {
            for (Task t : split) assertThat(prompts.add(t.prompt())).isTrue();
        }
        assertThat(Files.readAllLines(l.harvestPrompts())).hasSize(60);
        assertThat(Files.readAllLines(l.heldOutPrompts())).hasSize(40);
        try (RunStore store = RunStore.openExisting(l.goldRun())) {
            assertThat(store.count(SampleStatus.DONE)).isEqualTo(300);
        }
        try (HfTokenizer tok = HfTokenizer.load(l.tokenizer())) {
            assertThat(tok.vocabSize()).isEqualTo(400);
        }
        assertThat(Files.readString(l.manifest())).contains("\"seed\" : 11").contains("\"heldout\" : 40");
        // the same seed gives the same folder contents
        DemoData.Layout again = DemoData.prepare(root.resolve("again"), 11, new DemoData.Sizes(300, 60, 40),
                TaskCorpus.ALL_KINDS, 400);
        for (Path p : List.of(l.tokenizer().resolve("tokenizer.json"), l.harvestPrompts(), l.gold("heldout"))) {
            assertThat(Files.readAllBytes(again.root().resolve(root.relativize(p)))).isEqualTo(Files.readAllBytes(p));
        }
    }
}
