package dev.distill4j.prompts;

/**
 * Evol-Instruct's rewrite operations (WizardLM): five "in-depth" ones that make a prompt harder while keeping its
 * subject, and one "in-breadth" one that writes a new prompt of the same domain that is rarer. Each carries the
 * sentence that tells the teacher what to do.
 */
public enum EvolOperation {
    ADD_CONSTRAINTS("add-constraints", "adds one more constraint or requirement to it"),
    DEEPEN("deepen", "asks about the issue in more depth and breadth"),
    CONCRETIZE("concretize", "replaces general concepts with more specific ones"),
    MORE_REASONING("more-reasoning", "explicitly requires multiple steps of reasoning to answer, if the original "
            + "can be solved with a few simple thinking steps"),
    COMPLICATE_INPUT("complicate-input", "includes a concrete input to work on (data, a short text, a table, code "
            + "or numbers) that the answer must use"),
    BREADTH("breadth", null);

    private final String label;
    private final String instruction;

    EvolOperation(String label, String instruction) {
        this.label = label;
        this.instruction = instruction;
    }

    public String label() { return label; }

    /** What the in-depth rewrite must do; null for {@link #BREADTH}, whose request is worded differently. */
    String instruction() { return instruction; }
}
