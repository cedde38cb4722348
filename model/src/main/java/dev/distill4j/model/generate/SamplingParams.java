package dev.distill4j.model.generate;

import dev.distill4j.core.InvalidInputException;
import java.util.List;

/**
 * How the local decoder picks tokens and when it stops, every field resolved. (What a harvest asks an API teacher
 * for, with open choices left to the teacher, is {@code teacher.TeacherSampling}.)
 *
 * @param maxNewTokens  most tokens to generate per sequence
 * @param temperature   0 (or less) picks the most likely token (greedy); otherwise logits are divided by it
 * @param topK          keep only the k most likely tokens before sampling; 0 = all
 * @param topP          nucleus: keep the smallest set of most likely tokens whose probability reaches p; 1 = all
 * @param seed          seeds each sequence's own random generator, so a prompt samples the same alone or batched
 * @param eosTokenIds   generating any of these ends the sequence (finish reason {@code stop})
 * @param stopStrings   the sequence ends once its decoded text contains one; the text is cut before it
 * @param topLogprobs   alternatives reported per generated token (0 = only the chosen token's logprob)
 */
public record SamplingParams(int maxNewTokens, double temperature, int topK, double topP, long seed,
                             List<Integer> eosTokenIds, List<String> stopStrings, int topLogprobs) {

    public SamplingParams {
        if (maxNewTokens < 0) throw new InvalidInputException("max new tokens must be >= 0, got " + maxNewTokens);
        if (topK < 0) throw new InvalidInputException("top-k must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new InvalidInputException("top-p must be in (0, 1], got " + topP);
        if (topLogprobs < 0) throw new InvalidInputException("top logprobs must be >= 0, got " + topLogprobs);
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        if (stopStrings.stream().anyMatch(String::isEmpty)) throw new InvalidInputException("stop strings must not be empty");
    }

    /** Greedy decoding of up to {@code maxNewTokens}, no stop conditions, no alternatives. */
    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(maxNewTokens, 0, 0, 1, 0, List.of(), List.of(), 0);
    }

    public SamplingParams withSampling(double temperature, int topK, double topP, long seed) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, seed, eosTokenIds, stopStrings, topLogprobs);
    }

    public SamplingParams withStops(List<Integer> eosTokenIds, List<String> stopStrings) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, seed, eosTokenIds, stopStrings, topLogprobs);
    }

    public SamplingParams withTopLogprobs(int n) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, seed, eosTokenIds, stopStrings, n);
    }

    public boolean isGreedy() { return temperature <= 0 || topK == 1; }
}
