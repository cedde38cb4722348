package dev.distill4j.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.demo.TaskCorpus.Kind;
import dev.distill4j.demo.TaskCorpus.Task;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Everything the demo needs before any model exists, from one seed, in one folder:
 * <pre>
 * corpus.json                    seed, kinds, split sizes, vocabulary size
 * tokenizer/                     the demo tokenizer (trained on the teacher split only)
 * runs/gold/                     a run whose samples are the teacher split's worked responses (for sft)
 * prompts/harvest.jsonl          prompts to ask the house teacher (with answers in metadata)
 * prompts/heldout.jsonl          evaluation prompts no model trains on
 * gold/{teacher,harvest,heldout}.jsonl   the tasks of each split with their worked responses
 * </pre>
 * The three splits draw from disjoint seeds and share no prompt text.
 */
public final class DemoData {
    /** Split sizes: the house teacher's training tasks, the prompts harvested from it, the held-out tasks. */
    public record Sizes(int teacher, int harvest, int heldOut) {
        public static final Sizes DEFAULT = new Sizes(4000, 1000, 200);

        public Sizes {
            if (teacher < 1 || harvest < 1 || heldOut < 1) {
                throw new IllegalArgumentException("every split needs at least one task, got " + teacher + "/"
                        + harvest + "/" + heldOut);
            }
        }
    }

    /** Where {@link #prepare} puts things under {@code root}. */
    public record Layout(Path root) {
        public Path manifest() { return root.resolve("corpus.json"); }

        public Path tokenizer() { return root.resolve("tokenizer"); }

        public Path goldRun() { return root.resolve("runs").resolve("gold"); }

        public Path harvestPrompts() { return root.resolve("prompts").resolve("harvest.jsonl"); }

        public Path heldOutPrompts() { return root.resolve("prompts").resolve("heldout.jsonl"); }

        /** Gold tasks of a split: "teacher", "harvest" or "heldout". */
        public Path gold(String split) { return root.resolve("gold").resolve(split + ".jsonl"); }
    }

    private DemoData() {}

    public static Layout prepare(Path root, long seed, Sizes sizes, Set<Kind> kinds, int vocabSize)
            throws IOException {
        Layout l = new Layout(root);
        List<List<Task>> splits = TaskCorpus.splits(seed, kinds, sizes.teacher(), sizes.harvest(), sizes.heldOut());
        List<Task> teacher = splits.get(0), harvest = splits.get(1), heldOut = splits.get(2);
        DemoTokenizer.write(teacher, vocabSize, l.tokenizer());
        GoldRun.fill(l.goldRun(), teacher);
        CorpusFiles.writePrompts(l.harvestPrompts(), harvest);
        CorpusFiles.writePrompts(l.heldOutPrompts(), heldOut);
        CorpusFiles.writeGold(l.gold("teacher"), teacher);
        CorpusFiles.writeGold(l.gold("harvest"), harvest);
        CorpusFiles.writeGold(l.gold("heldout"), heldOut);
        ObjectNode m = Json.object();
        m.put("seed", seed);
        var ks = m.putArray("kinds");
        kinds.stream().sorted().forEach(k -> ks.add(k.id()));
        m.putObject("sizes").put("teacher", sizes.teacher()).put("harvest", sizes.harvest())
                .put("heldout", sizes.heldOut());
        m.put("vocab_size", vocabSize);
        AtomicFiles.writeString(l.manifest(), Json.writePretty(m) + "\n");
        return l;
    }
}
