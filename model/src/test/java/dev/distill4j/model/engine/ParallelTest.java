package dev.distill4j.model.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.generate.StepDecoder;
import dev.distill4j.model.nn.CausalLM;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The worker team: every index runs exactly once, also with several callers at once (all but one run their loops
 * alone); a failing chunk fails the caller and leaves the team working; and the engine gives the same bits whether a
 * step's loops run on one thread or are split over the team.
 */
class ParallelTest {

    @Test
    void everyIndexRunsOnceFromManyCallersAtOnce() throws Exception {
        int n = 1_000;
        try (ExecutorService callers = Executors.newFixedThreadPool(4)) {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                done.add(callers.submit(() -> {
                    for (int round = 0; round < 200; round++) {
                        AtomicIntegerArray hits = new AtomicIntegerArray(n);
                        Parallel.forRange(n, Long.MAX_VALUE / 4, (from, to) -> {
                            for (int i = from; i < to; i++) hits.incrementAndGet(i);
                        });
                        for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("index %d", i).isEqualTo(1);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        }
    }

    @Test
    void aFailingChunkFailsTheCallerAndTheTeamGoesOn() {
        assertThatThrownBy(() -> Parallel.forRange(64, Long.MAX_VALUE / 4, (from, to) -> {
            if (to == 64) throw new IllegalStateException("chunk failed");
        })).isInstanceOf(IllegalStateException.class).hasMessage("chunk failed");
        AtomicIntegerArray hits = new AtomicIntegerArray(64);
        Parallel.forRange(64, Long.MAX_VALUE / 4, (from, to) -> {
            for (int i = from; i < to; i++) hits.incrementAndGet(i);
        });
        for (int i = 0; i < 64; i++) assertThat(hits.get(i)).isEqualTo(1);
    }

    @Test
    void chunksFollowTheWork() {
        assertThat(Parallel.chunks(1_000, 1)).isEqualTo(1);
        assertThat(Parallel.chunks(1_000, Parallel.MIN_WORK_PER_CHUNK - 1)).isEqualTo(1);
        assertThat(Parallel.chunks(1, Long.MAX_VALUE)).isEqualTo(1);
        assertThat(Parallel.chunks(1_000, Long.MAX_VALUE)).isEqualTo(Parallel.THREADS);
    }

    /**
     * A model whose matrices are big enough to be split (64k multiply-adds each), decoded once with its loops split
     * over the team and once with every loop on the calling thread (a loop started inside another loop runs inline):
     * the logits are the same bits. On a one-core machine both runs are inline and the test holds trivially.
     */
    @Test
    void oneThreadAndTheTeamGiveTheSameLogits() {
        ObjectNode n = Json.object();
        n.put("model_type", "llama").put("hidden_size", 128).put("num_hidden_layers", 2).put("num_attention_heads", 4)
                .put("num_key_value_heads", 2).put("intermediate_size", 512).put("vocab_size", 1024)
                .put("tie_word_embeddings", false).put("max_position_embeddings", 256);
        ModelConfig c = ModelConfig.fromJson(n, "parallel-test");
        int[] prompt = new SplittableRandom(3).ints(40, 0, 1024).toArray();
        try (NDManager m = NDManager.newBaseManager("PyTorch"); CausalLM model = CausalLM.init(c, m, 5)) {
            for (Quantization q : Quantization.values()) {
                DecodeEngine engine = DecodeEngine.of(model, q);
                List<float[]> split = decode(engine, prompt);
                List<List<float[]>> inline = new ArrayList<>();
                Parallel.forRange(2, Long.MAX_VALUE / 4, (from, to) -> {
                    if (from == 0) inline.add(decode(engine, prompt));
                });
                assertThat(inline).hasSize(1);
                for (int t = 0; t < split.size(); t++) {
                    assertThat(inline.getFirst().get(t)).as("%s position %d", q, t).containsExactly(split.get(t));
                }
            }
        }
    }

    /** A prefill of the prompt's first half, then steps through the rest: every logits row. */
    private static List<float[]> decode(DecodeEngine engine, int[] prompt) {
        List<float[]> out = new ArrayList<>();
        try (StepDecoder.State s = engine.newState()) {
            out.add(engine.prefill(s, java.util.Arrays.copyOf(prompt, prompt.length / 2)));
            for (int i = prompt.length / 2; i < prompt.length; i++) out.add(engine.step(List.of(s), new int[] {prompt[i]})[0]);
        }
        return out;
    }
}
