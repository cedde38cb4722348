package dev.distill4j.demo;

import dev.distill4j.demo.TaskCorpus.Task;
import dev.distill4j.model.tokenizer.BpeTrainer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Not a test: how long generating the corpus and training the tokenizer take for about 5 MB of ChatML text.
 *
 * <pre>
 * ./mvnw -B -q -o -pl demo -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp demo/target/classes:demo/target/test-classes:$(cat /tmp/cp.txt) dev.distill4j.demo.DemoCorpusBench [tasks]
 * </pre>
 */
public final class DemoCorpusBench {
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 30_000;
        for (int round = 0; round < 2; round++) { // the first round warms the JIT
            long t0 = System.nanoTime();
            List<Task> tasks = TaskCorpus.tasks(1, n, TaskCorpus.ALL_KINDS).toList();
            long t1 = System.nanoTime();
            List<String> texts = tasks.stream().map(DemoTokenizer::chatText).toList();
            long bytes = texts.stream().mapToLong(s -> s.getBytes(StandardCharsets.UTF_8).length).sum();
            for (int vocab : new int[] {768, 2048}) {
                long t2 = System.nanoTime();
                BpeTrainer.Result r = BpeTrainer.builder().optVocabSize(vocab).build().train(texts);
                long t3 = System.nanoTime();
                System.out.printf("round %d: %d tasks (%.2f MB of ChatML) generated in %d ms; BPE to %d tokens "
                        + "(%d merges) in %d ms%n", round, n, bytes / 1e6, (t1 - t0) / 1_000_000, r.vocabSize(),
                        r.merges().size(), (t3 - t2) / 1_000_000);
            }
        }
    }
}
