package dev.distill4j.model.generate;

import dev.distill4j.model.config.GenerationConfig;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one rule for what a generation request leaves open, shared by {@code distill generate}, the OpenAI server and
 * the local teacher, so one model folder generates the same way everywhere. It is vLLM's rule
 * ({@code --generation-config auto}): a value the request gives wins; else the model's {@code generation_config.json};
 * else the OpenAI API's default.
 *
 * <ul>
 *   <li>temperature: the request's; else 0 (greedy) when generation_config.json says {@code do_sample: false}, else its
 *       {@code temperature}; else 1.</li>
 *   <li>top-p and top-k: the request's; else generation_config.json's; else 1 and off (top-k ≤ 0 is off).</li>
 *   <li>greedy: temperature ≤ 0, top-k = 1 or top-p = 0 (a zero nucleus keeps only the most likely token); a greedy
 *       choice carries temperature 0, top-k 0 and top-p 1.</li>
 *   <li>seed: the request's; else a fresh random one, which the caller reports so the text can be reproduced. A fixed
 *       default seed would make every sampled run print the same text.</li>
 *   <li>max new tokens: the request's; else generation_config.json's {@code max_new_tokens}; else the caller's
 *       default.</li>
 * </ul>
 */
public final class SamplingDefaults {
    private SamplingDefaults() {}

    /**
     * Resolved sampling choices.
     *
     * @param temperature 0 for greedy
     * @param topK        0 = off
     * @param topP        1 = off
     * @param seed        the seed to sample with (the request's or a random one)
     * @param seedDrawn   true when the request gave no seed and {@code seed} was drawn at random
     */
    public record Choice(double temperature, int topK, double topP, long seed, boolean seedDrawn) {
        public boolean isGreedy() { return temperature <= 0; }
    }

    /**
     * Fills what the request leaves open (null) from {@code config}, then the OpenAI defaults; {@code greedy} forces
     * greedy decoding whatever else is set.
     */
    public static Choice resolve(GenerationConfig config, Double temperature, Double topP, Integer topK, Long seed,
                                 boolean greedy) {
        double t = temperature != null ? temperature
                : Boolean.FALSE.equals(config.doSample()) ? 0
                : config.temperature() != null ? config.temperature() : 1.0;
        double p = topP != null ? topP : config.topP() != null ? config.topP() : 1.0;
        int k = topK != null ? topK : config.topK() != null ? config.topK() : 0;
        if (k < 0) k = 0;
        boolean drawn = seed == null;
        long s = drawn ? ThreadLocalRandom.current().nextLong() : seed;
        if (greedy || t <= 0 || k == 1 || p == 0) return new Choice(0, 0, 1, s, drawn);
        return new Choice(t, k, p, s, drawn);
    }

    /** Tokens to generate: the request's, else generation_config.json's {@code max_new_tokens}, else {@code fallback}. */
    public static int maxNewTokens(Integer requested, GenerationConfig config, int fallback) {
        if (requested != null) return requested;
        return config.maxNewTokens() != null ? config.maxNewTokens() : fallback;
    }
}
