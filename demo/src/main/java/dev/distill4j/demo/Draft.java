package dev.distill4j.demo;

import dev.distill4j.eval.AnswerExtractor;
import java.util.List;

/**
 * A task before it has an id: the user's question, the canonical answer and the worked response. The response is
 * always numbered steps then {@code Answer: <answer>} on its own line, the convention {@link AnswerExtractor} reads.
 */
record Draft(String prompt, String answer, String rationale) {
    static Draft of(String prompt, String answer, List<String> steps) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < steps.size(); i++) sb.append("Step ").append(i + 1).append(": ").append(steps.get(i)).append('\n');
        sb.append(AnswerExtractor.PREFIX).append(' ').append(answer);
        return new Draft(prompt, answer, sb.toString());
    }

    static Draft of(String prompt, String answer, String... steps) {
        return of(prompt, answer, List.of(steps));
    }
}
