package dev.distill4j.train.data;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.TextTokenizer;
import dev.distill4j.train.data.ExampleBuilder.PromptFormat;
import dev.distill4j.train.data.ExampleBuilder.TokenSource;
import java.util.Objects;

/**
 * The settings that decide which examples a run yields for a student, token for token, and which prompts are held
 * out: the contract between {@code distill train} and {@code distill eval}. Both build their examples through
 * {@link #builder}, training records the settings it used in the student folder ({@code distill_training.json}) and
 * eval reads them back, so the held-out examples eval scores are exactly those training never learned from.
 *
 * @param maxSeqLen    longest example in tokens ({@code --max-seq-len}); longer ones are truncated
 * @param evalFraction share of prompts held out, by a hash of the prompt id ({@code --eval-fraction})
 * @param promptFormat how a prompt becomes the student's input ({@code --prompt-format}); recorded resolved
 *                     ({@code CHAT} or {@code RAW}) once a student's template is known
 * @param tokenSource  which token ids the reply is learned as ({@code --token-source})
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ExampleSettings(int maxSeqLen, double evalFraction, PromptFormat promptFormat, TokenSource tokenSource) {
    /** {@code --max-seq-len}'s default, a constant for the CLI's annotations. */
    public static final int DEFAULT_MAX_SEQ_LEN = 1024;
    /** {@code --eval-fraction}'s default. */
    public static final double DEFAULT_EVAL_FRACTION = 0.05;
    /** The defaults of both {@code distill train} and {@code distill eval}. */
    public static final ExampleSettings DEFAULTS = new ExampleSettings(DEFAULT_MAX_SEQ_LEN, DEFAULT_EVAL_FRACTION,
            PromptFormat.AUTO, TokenSource.STUDENT);

    public ExampleSettings {
        if (maxSeqLen < 2) throw new InvalidInputException("--max-seq-len must be at least 2, got " + maxSeqLen);
        new EvalSplit(evalFraction);   // validates the fraction with the split's own message
        Objects.requireNonNull(promptFormat, "promptFormat");
        Objects.requireNonNull(tokenSource, "tokenSource");
    }

    public ExampleSettings withMaxSeqLen(int v) { return new ExampleSettings(v, evalFraction, promptFormat, tokenSource); }

    public ExampleSettings withEvalFraction(double v) {
        return new ExampleSettings(maxSeqLen, v, promptFormat, tokenSource);
    }

    public ExampleSettings withPromptFormat(PromptFormat v) {
        return new ExampleSettings(maxSeqLen, evalFraction, v, tokenSource);
    }

    public ExampleSettings withTokenSource(TokenSource v) {
        return new ExampleSettings(maxSeqLen, evalFraction, promptFormat, v);
    }

    /**
     * {@code AUTO} made concrete for a student with or without a chat template, as {@link ExampleBuilder} does;
     * {@code CHAT} and {@code RAW} stay as they are.
     */
    public ExampleSettings resolved(boolean hasChatTemplate) {
        if (promptFormat != PromptFormat.AUTO) return this;
        return withPromptFormat(hasChatTemplate ? PromptFormat.CHAT : PromptFormat.RAW);
    }

    /** An example builder for a student with these settings ({@code template} null for a base model). */
    public ExampleBuilder.Builder builder(TextTokenizer tokenizer, ChatTemplate template) {
        return ExampleBuilder.builder()
                .setTokenizer(tokenizer)
                .optChatTemplate(template)
                .optMaxSeqLen(maxSeqLen)
                .optEvalFraction(evalFraction)
                .optPromptFormat(promptFormat)
                .optTokenSource(tokenSource);
    }
}
