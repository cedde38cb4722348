package dev.distill4j.model.generate;

/** Why a sequence ended, with OpenAI's names. */
public enum FinishReason {
    /** An EOS token or a stop string. */
    STOP("stop"),
    /** {@code maxNewTokens} reached. */
    LENGTH("length");

    private final String openAiName;

    FinishReason(String openAiName) { this.openAiName = openAiName; }

    public String openAiName() { return openAiName; }
}
