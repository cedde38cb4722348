package dev.distill4j.core.store;

import dev.distill4j.core.io.FileTrees;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.Usage;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Not a test: the run store at a million prompts, in the shape a harvest drives it (batches of prompts, pending
 * samples, look-ups of 1000 keys, upserts of done samples), then an export-style stream and the stats.
 *
 * <pre>
 * ./mvnw -B -q -o -pl core test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -Xmx512m --enable-native-access=ALL-UNNAMED -cp core/target/classes:core/target/test-classes:$(cat /tmp/cp.txt) \
 *     dev.distill4j.core.store.RunStoreBench [prompts] [topK]
 * </pre>
 */
public final class RunStoreBench {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int k = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        int batch = 1000;
        Path dir = Files.createTempDirectory("runstore-bench");
        TokenDistribution tokens = k == 0 ? TokenDistribution.EMPTY
                : TokenDistributionCodecTest.synthetic(100, k, new Random(1));
        try (RunStore store = RunStore.open(dir)) {
            cpu0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            for (int from = 0; from < n; from += 10_000) {
                List<Prompt> prompts = new ArrayList<>(10_000);
                for (int i = from; i < Math.min(n, from + 10_000); i++) {
                    prompts.add(new Prompt("p" + i, "Question number " + i + ": explain something in a few words.",
                            null, Json.object().put("i", i), "prompts.jsonl", i + 1));
                }
                store.putPrompts(prompts);
            }
            report("putPrompts", n, t0);

            t0 = System.nanoTime();
            for (int from = 0; from < n; from += 10_000) {
                List<Sample> pending = new ArrayList<>(10_000);
                for (int i = from; i < Math.min(n, from + 10_000); i++) pending.add(pending(i));
                store.putPending(pending);
            }
            report("putPending", n, t0);

            t0 = System.nanoTime();
            long found = 0;
            for (int from = 0; from < n; from += batch) {
                List<String> keys = new ArrayList<>(batch);
                for (int i = from; i < Math.min(n, from + batch); i++) keys.add(key(i));
                found += store.find(keys).size();
            }
            report("find (1000-key batches)", n, t0);
            if (found != n) throw new AssertionError("found " + found);

            t0 = System.nanoTime();
            for (int from = 0; from < n; from += batch) {
                List<Sample> done = new ArrayList<>(batch);
                for (int i = from; i < Math.min(n, from + batch); i++) {
                    done.add(Sample.builder(key(i), "p" + i, 0).status(SampleStatus.DONE)
                            .text("An answer of a few words, " + i).finishReason("stop")
                            .capability(k == 0 ? Capability.TEXT : Capability.topK(k)).tokens(tokens)
                            .usage(new Usage(20, 100)).costUsd(1e-4).latencyMs(300 + i % 1000).requestId("req-" + i)
                            .attempts(1).build());
                }
                store.upsertSamples(done);
            }
            report("upsertSamples (1000-row batches)", n, t0);

            t0 = System.nanoTime();
            long[] streamed = {0};
            store.forEachSample(SampleStatus.DONE, (p, s) -> streamed[0]++);
            report("forEachSample(DONE)", streamed[0], t0);

            t0 = System.nanoTime();
            cpu0 = THREADS.getCurrentThreadCpuTime();
            RunStats stats = store.stats(3);
            System.out.printf("stats: wall %.0f ms, cpu %.0f ms (%s)%n", (System.nanoTime() - t0) / 1e6,
                    (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e6, stats.byStatus());
        }
        System.out.printf("samples.db: %,d bytes; heap used at end: %,d MB%n", Files.size(dir.resolve(RunStore.FILE)),
                (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20);
        FileTrees.delete(dir);
    }

    private static String key(int i) { return String.format("%032x", (long) i * 2654435761L); }

    private static Sample pending(int i) {
        return Sample.builder(key(i), "p" + i, 0).build();
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static long cpu0 = THREADS.getCurrentThreadCpuTime();

    /** Wall time, and this thread's CPU time (SQLite runs in it): the figure that holds on a busy machine. */
    private static void report(String what, long rows, long t0) {
        double s = (System.nanoTime() - t0) / 1e9;
        long cpu = THREADS.getCurrentThreadCpuTime();
        double c = (cpu - cpu0) / 1e9;
        cpu0 = cpu;
        System.out.printf("%-34s %,10d rows: wall %6.2f s = %,9.0f rows/s; cpu %6.2f s = %,9.0f rows/s%n", what, rows,
                s, rows / s, c, rows / c);
    }
}
