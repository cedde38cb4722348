package dev.distill4j.prompts;

import dev.distill4j.core.InvalidInputException;
import java.util.Locale;

/**
 * How new prompts are written from existing ones.
 *
 * <ul>
 *   <li>{@link #SELF_INSTRUCT} (Wang et al. 2023): the teacher sees a few example prompts (and optionally a topic)
 *       and writes several new, different ones — breadth.</li>
 *   <li>{@link #EVOL_INSTRUCT} (Xu et al. 2023, WizardLM): the teacher rewrites one prompt into a harder or rarer
 *       one by one {@link EvolOperation} — depth.</li>
 *   <li>{@link #MIXED}: half of each round's requests each way.</li>
 * </ul>
 */
public enum SynthesisMethod {
    SELF_INSTRUCT("self-instruct"),
    EVOL_INSTRUCT("evol-instruct"),
    MIXED("mixed");

    private final String label;

    SynthesisMethod(String label) { this.label = label; }

    public String label() { return label; }

    public static SynthesisMethod parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT);
        for (SynthesisMethod m : values()) if (m.label.equals(k) || (m == EVOL_INSTRUCT && k.equals("evol"))) return m;
        throw new InvalidInputException("unknown method '" + s + "': use self-instruct, evol-instruct or mixed");
    }
}
