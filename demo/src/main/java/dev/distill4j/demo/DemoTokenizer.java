package dev.distill4j.demo;

import dev.distill4j.demo.TaskCorpus.Task;
import dev.distill4j.model.tokenizer.BpeTrainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The demo's tokenizer: a byte-level BPE trained on the tasks as the models will see them, i.e. each task rendered
 * as a ChatML conversation (user prompt, assistant response), with the ChatML special tokens and template. Digits
 * stay single tokens ({@link BpeTrainer#SPLIT_REGEX}), so numbers are spelled the same way in every task.
 */
public final class DemoTokenizer {
    /** Small enough that the embedding tables of a tiny student stay small, large enough for whole words. */
    public static final int DEFAULT_VOCAB_SIZE = 768;

    private DemoTokenizer() {}

    /** The task as the ChatML template renders it, the reply ending with its end-of-turn token. */
    public static String chatText(Task t) {
        return BpeTrainer.IM_START + "user\n" + t.prompt() + BpeTrainer.IM_END + "\n" + BpeTrainer.IM_START
                + "assistant\n" + t.rationale() + BpeTrainer.IM_END + "\n";
    }

    public static BpeTrainer.Result train(List<Task> tasks, int vocabSize) {
        return BpeTrainer.builder().optVocabSize(vocabSize).build()
                .train(tasks.stream().map(DemoTokenizer::chatText).iterator());
    }

    /** Trains on {@code tasks} and writes tokenizer.json, tokenizer_config.json, special_tokens_map.json. */
    public static Path write(List<Task> tasks, int vocabSize, Path dir) throws IOException {
        return train(tasks, vocabSize).write(dir);
    }
}
