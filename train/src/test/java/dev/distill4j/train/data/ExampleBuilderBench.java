package dev.distill4j.train.data;

import dev.distill4j.core.Capability;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Not a test: builds training data from a run of TOP_K(20) samples (system + user prompt, a 640-token reply) with
 * the tiny tokenizer, then iterates one epoch of batches, and prints the time of each part.
 *
 * <pre>
 * ./mvnw -B -q -o -pl train -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * DJL_OFFLINE=true $JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED \
 *     -cp train/target/classes:train/target/test-classes:$(cat /tmp/cp.txt) \
 *     dev.distill4j.train.data.ExampleBuilderBench [samples]
 * </pre>
 */
public final class ExampleBuilderBench {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        Path dir = Files.createTempDirectory("example-bench");
        try (HfTokenizer tiny = TestTokenizers.tiny(); RunStore store = RunStore.open(dir)) {
            ChatTemplate template = ChatTemplate.load(TestTokenizers.tinyDir()).orElseThrow();
            List<String> alternatives = List.of("Ġthe", "Ġa", "Ġand", "Ġto", "Ġof", "Ġis", "Ġin", "Ġit", "Ġyou",
                    "Ġthat", "Ġthis", "Ġwhat", "Ġhow", "Ġare", "Ġcan", "Ġhelp", "Ġme", "Ġwith", "ĠI");
            String reply = "Hello world, how are you and what is the question of the model? ".repeat(40);
            TokenDistribution dist = TestTokenizers.distribution(tiny, tiny.encode(reply, false), i -> alternatives);
            List<Prompt> prompts = new ArrayList<>();
            List<Sample> samples = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                prompts.add(Runs.chat("p" + i, Message.system("You are helpful"), Message.user("question " + i)));
                samples.add(Runs.done("p" + i, 0, reply, Capability.topK(20), dist));
            }
            store.putPrompts(prompts);
            store.upsertSamples(samples);
            ExampleBuilder builder = ExampleBuilder.builder().setTokenizer(tiny).optChatTemplate(template)
                    .optMaxSeqLen(4096).build();
            for (int rep = 0; rep < 3; rep++) {
                long t0 = System.nanoTime();
                long[] positions = {0};
                store.forEachSample(SampleStatus.DONE, (p, s) -> positions[0] += s.tokens().size());
                long t1 = System.nanoTime();
                ExampleSet set = builder.examples(store);
                long t2 = System.nanoTime();
                Batcher batcher = new Batcher(set.train(), 16384, 0);
                int batches = 0;
                for (Iterator<Batch> it = batcher.iterator(1, 0, 0); it.hasNext(); batches++) it.next();
                long t3 = System.nanoTime();
                System.out.printf("%d samples × %d reply tokens × k=20: reading the store %.2f s; building %.2f s "
                                + "(%.0f samples/s, %.0f reply tokens/s); %d batches of ≤16384 tokens %.2f s%n",
                        n, dist.size(), (t1 - t0) / 1e9, (t2 - t1) / 1e9, n / ((t2 - t1) / 1e9),
                        (double) positions[0] / ((t2 - t1) / 1e9), batches, (t3 - t2) / 1e9);
                if (rep == 2) System.out.println(set.report());
            }
        }
    }
}
