package dev.distill4j.guard.audit;

/** Why a position of the audit was not scored; the report counts each. */
public enum Filter {
    /** A text without its prompt: its first h tokens' windows reach into text the audit does not have. */
    START("text_start", "first h tokens of a text (window outside the text)"),
    /** Open mode: the suspect's context is shorter than the text. */
    BEYOND_CONTEXT("beyond_context", "past the suspect's context length"),
    /**
     * Open mode: the seed was already used by an earlier watermarked token of the same text, which the suspect has
     * read; a clean model that copies that earlier continuation would inherit its watermark.
     */
    SAME_TEXT("same_text_window", "window already in the same text (copy filter)"),
    /**
     * Open mode: the suspect predicts a token that ends the text (EOS, end of turn). The text goes on there only
     * because the watermarked model did not choose its end, which is likelier when the end token is red, so such
     * predictions are biased towards red whatever the suspect learned.
     */
    END_PREDICTION("end_of_text_prediction", "prediction ends the text where the text goes on (EOS bias)"),
    /** Closed mode, the filter φ: the window never occurs in the watermarked data, so no training could bias it. */
    NOT_IN_DATA("window_not_in_data", "window not in the watermarked data (filter phi)"),
    /** The (window, token) tuple was scored before: its draw is not a new one. */
    DUPLICATE("duplicate_tuple", "(window, token) tuple already scored (de-duplication)");

    /** The key in {@code --json}'s {@code filtered} object. */
    public final String id;
    /** What the summary prints. */
    public final String label;

    Filter(String id, String label) {
        this.id = id;
        this.label = label;
    }
}
