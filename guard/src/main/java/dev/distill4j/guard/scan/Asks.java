package dev.distill4j.guard.scan;

import dev.distill4j.embed.EmbeddingModel;
import java.util.List;

/**
 * What a fixed instruction asks for: a <em>transformation</em> of text the prompt supplies (translate, rewrite,
 * summarise, classify, extract, label, judge true or false) — an answer determined by the input — or an <em>open
 * request</em> for knowledge or explanation (explain, why, what does it mean, discuss, tell me more) — the answers a
 * distillation data set is made of.
 *
 * <p>Why it matters: a job that processes documents in order (a translation or rewriting batch, an extraction or
 * summarisation pipeline, an evaluation harness whose data set keeps a document's items together) walks its material
 * exactly as a harvest does, so the order test ({@link Sweep}) cannot tell them apart. What they ask can: a
 * transformation's answer is a function of the passage (its translation, its label), worth little as teacher output
 * for general ability, while a harvest asks the teacher to say what it knows about each passage.
 *
 * <p>How: an instruction (the fixed words of an account's template, {@link Affixes}) gets a margin
 * <pre>
 *   margin(x) = max_t cos(x, t) − max_o cos(x, o)      t ∈ {@link #TRANSFORM}, o ∈ {@link #OPEN}
 * </pre>
 * and is a transformation when the margin is at least {@value #MARGIN}: clearly nearer to some transformation than to
 * any open request. Each distinct instruction is embedded once (instructions repeat). The exemplars are written from
 * the usual task families of instruction-tuning collections and API use (translation, summarisation, classification,
 * extraction, grammatical correction, rating; explanation, open questions, discussion), not from any traffic the
 * scanner was measured on.
 */
public final class Asks {
    /** Instructions that transform or judge text the prompt supplies. */
    public static final List<String> TRANSFORM = List.of(
            "Translate the following text into French.", "Translate this into German. Output only the translation.",
            "Rewrite this sentence in plain English.", "Paraphrase the following sentence.",
            "Summarize the following text.", "Summarize this section in three bullet points.",
            "Classify the text into one of these categories. Reply with the label only.",
            "Extract the names mentioned in the text as a JSON list.",
            "Fill in the JSON schema from the passage.", "Correct the grammar and spelling of this sentence.",
            "Convert the text into a bulleted list.", "Label the sentiment of this review.",
            "Is the following statement true or false? Answer:", "Answer yes or no.",
            "Rate this text on a scale from 1 to 5.", "Detect the language of the text.",
            "Shorten this paragraph.", "Tag the part of speech of each word.");
    /** Open requests for knowledge, explanation or discussion. */
    public static final List<String> OPEN = List.of(
            "Explain this.", "Explain this in depth, with an example.", "What does this mean, and why?",
            "Why is this the case?", "Tell me more about this.", "Give a detailed, thorough answer.",
            "Discuss the implications.", "How does this work?", "Teach me about this topic.",
            "Answer the question thoroughly.", "Describe the background and the details.",
            "What are the consequences of this?", "Elaborate on this.", "Write an in-depth explanation for a "
                    + "student.", "Help me understand this.", "What is the significance of this?");
    /**
     * Margin at which an instruction counts as a transformation: clearly nearer to one than to any open request.
     * Fixed words that ask for nothing explicitly — a chat transcript's turn markers — sit near 0 (0.009 to 0.02 on
     * the blind split), so their side of 0 is noise: 0 (before session 13) read a harvest wrapped in a transcript as
     * document processing. Such instructions count as open.
     */
    public static final double MARGIN = 0.03;

    private final ExemplarMargins margins;

    public Asks(EmbeddingModel embedder) {
        this.margins = new ExemplarMargins(embedder, TRANSFORM, OPEN);
    }

    /** The margin of each instruction (NaN for null), embedding the distinct ones not seen before. */
    public double[] margins(List<String> instructions) {
        margins.score(instructions.stream().filter(java.util.Objects::nonNull).toList());
        double[] out = new double[instructions.size()];
        for (int i = 0; i < out.length; i++) {
            String x = instructions.get(i);
            out[i] = x == null ? Double.NaN : margins.get(x);
        }
        return out;
    }
}
