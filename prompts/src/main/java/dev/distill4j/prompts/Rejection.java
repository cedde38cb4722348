package dev.distill4j.prompts;

/** Why a candidate prompt was not kept; counted in the diversity report. */
public enum Rejection {
    /** The teacher's reply held no prompt in the expected format. */
    UNPARSABLE("reply not in the asked format"),
    TOO_SHORT("shorter than --min-chars"),
    TOO_LONG("longer than --max-chars"),
    /** The teacher declined or answered about itself ("I'm sorry", "As an AI") instead of writing a prompt. */
    REFUSAL("a refusal, not a prompt"),
    /** Words of our own request leaked into the prompt ("#Rewritten Prompt#", "given prompt", "Example 2"). */
    META_TEXT("echoes the request's wording"),
    /** An evolved prompt equal to its parent, up to case and punctuation: no information gained. */
    UNCHANGED("equal to the prompt it evolved from"),
    /** Equal to a kept prompt (or seed) up to case, whitespace and punctuation. */
    DUPLICATE("duplicate of a kept prompt"),
    /** Its embedding is at least --similarity cosine to a kept prompt's (or a seed's). */
    NEAR_DUPLICATE("near-duplicate by embedding");

    private final String description;

    Rejection(String description) { this.description = description; }

    public String description() { return description; }
}
