package dev.distill4j.model.generate;

import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.Usage;

/**
 * One generated sequence.
 *
 * @param tokenIds     generated ids, including an EOS or the token that completed a stop string
 * @param text         decoded text without special tokens, cut before a stop string
 * @param finishReason stop or length
 * @param distribution per generated token: chosen token and top alternatives with logprobs of the raw model
 *                     distribution (before temperature, top-k, top-p), as OpenAI reports them
 * @param usage        prompt tokens and generated tokens
 */
public record Generation(int[] tokenIds, String text, FinishReason finishReason, TokenDistribution distribution,
                         Usage usage) {}
