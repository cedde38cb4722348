package dev.distill4j.teacher.stub;

import dev.distill4j.core.Prompt;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherRequest;
import dev.distill4j.teacher.Teachers;
import java.net.URI;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Load check of a stub and the chat client together: {@code StubLoad [requests] [in-flight] [top-logprobs] [rounds]}
 * (defaults 20000 256 5 3) sends that many chat requests through {@link Teachers#create} to an in-process
 * {@link OpenAiStub} (counting mode) and prints requests per second for each round; the first rounds include JIT
 * warm-up.
 */
public final class StubLoad {
    private StubLoad() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int inFlight = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int k = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        try (OpenAiStub stub = OpenAiStub.start().recording(false);
             Teacher teacher = Teachers.create(new TeacherConfig("openai", "chat", URI.create(stub.baseUrl()),
                     "stub-model", null, null, new TeacherSampling(null, null, 16, false, null, List.of(), k, null),
                     null, null))) {
            for (int r = 1; r <= rounds; r++) {
                int round = r;
                var gate = new Semaphore(inFlight);
                var ok = new AtomicInteger();
                var failed = new AtomicInteger();
                long start = System.nanoTime();
                try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
                    for (int i = 0; i < n; i++) {
                        int id = i;
                        gate.acquire();
                        exec.submit(() -> {
                            try {
                                teacher.complete(new TeacherRequest(new Prompt("p" + id,
                                        "prompt number " + id + " with a few more words", null, null, "load", id),
                                        0, "load-" + round + "-" + id));
                                ok.incrementAndGet();
                            } catch (Exception e) {
                                failed.incrementAndGet();
                            } finally {
                                gate.release();
                            }
                        });
                    }
                }
                double s = (System.nanoTime() - start) / 1e9;
                System.out.printf("round %d: %d requests (%d in flight, top_logprobs %d): %d ok, %d failed,"
                        + " %.2f s, %.0f req/s%n", round, n, inFlight, k, ok.get(), failed.get(), s, n / s);
            }
        }
    }
}
