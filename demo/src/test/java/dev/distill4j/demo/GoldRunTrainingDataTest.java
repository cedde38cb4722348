package dev.distill4j.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.store.RunStore;
import dev.distill4j.demo.TaskCorpus.Task;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.train.data.ExampleBuilder;
import dev.distill4j.train.data.ExampleSet;
import dev.distill4j.train.data.TrainingExample;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gold run and the demo tokenizer, read by the trainer's own example builder: what the house teacher learns. */
class GoldRunTrainingDataTest {
    @TempDir Path root;

    @Test
    void theTrainerLearnsExactlyTheWorkedResponses() throws IOException {
        DemoData.Layout l = DemoData.prepare(root, 21, new DemoData.Sizes(200, 10, 10), TaskCorpus.ALL_KINDS, 512);
        Map<String, Task> byId = CorpusFiles.readGold(l.gold("teacher")).stream()
                .collect(Collectors.toMap(Task::id, Function.identity()));
        try (HfTokenizer tok = HfTokenizer.load(l.tokenizer()); RunStore store = RunStore.openExisting(l.goldRun())) {
            ExampleSet set = ExampleBuilder.builder().setTokenizer(tok)
                    .optChatTemplate(ChatTemplate.load(l.tokenizer()).orElseThrow())
                    .optEvalFraction(0).build().examples(store);
            assertThat(set.train()).hasSize(200);
            assertThat(set.report().truncated()).isZero();
            for (TrainingExample e : set.train()) {
                Task t = byId.get(e.promptId());
                int[] learned = Arrays.stream(e.labels()).filter(x -> x != TrainingExample.IGNORE).toArray();
                assertThat(tok.decode(learned, false)).isEqualTo(t.rationale() + "<|im_end|>");
                assertThat(tok.decode(e.inputIds(), false)).isEqualTo(DemoTokenizer.chatText(t));
                assertThat(e.length()).isLessThan(160);
            }
        }
    }
}
