package dev.distill4j.teacher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.util.List;

/**
 * Sampling parameters sent with every request of a harvest. Null means "not sent": the teacher's default applies.
 * They are part of each sample's content key, so changing any of them makes new samples rather than silently
 * reusing old ones. (What the local decoder applies per step is {@code model.generate.SamplingParams}; a local
 * teacher translates this into that.)
 *
 * @param temperature          sampling temperature
 * @param topP                 nucleus mass
 * @param maxTokens            generation limit (required: the budget counts in-flight requests at this size)
 * @param useMaxCompletionTokens send {@code max_completion_tokens} instead of {@code max_tokens} (OpenAI o-series)
 * @param seed                 sampling seed where the teacher supports it
 * @param stop                 stop sequences
 * @param topLogprobs          number of alternatives per token (0 = none; OpenAI allows ≤ 20)
 * @param system               system prompt prepended to every chat (Anthropic: top-level {@code system})
 */
public record TeacherSampling(Double temperature, Double topP, int maxTokens, boolean useMaxCompletionTokens,
                             Long seed, List<String> stop, int topLogprobs, String system) {
    public TeacherSampling {
        stop = stop == null ? List.of() : List.copyOf(stop);
        if (maxTokens <= 0) throw new InvalidInputException("max tokens must be positive, got " + maxTokens);
        if (topLogprobs < 0) throw new InvalidInputException("top logprobs must be ≥ 0, got " + topLogprobs);
    }

    /** The canonical JSON form, used in run.json and in content keys (field order is fixed). */
    public ObjectNode toJson() {
        ObjectNode n = Json.object();
        if (temperature != null) n.put("temperature", temperature);
        if (topP != null) n.put("top_p", topP);
        n.put(useMaxCompletionTokens ? "max_completion_tokens" : "max_tokens", maxTokens);
        if (seed != null) n.put("seed", seed);
        if (!stop.isEmpty()) {
            var a = n.putArray("stop");
            stop.forEach(a::add);
        }
        if (topLogprobs > 0) n.put("top_logprobs", topLogprobs);
        if (system != null) n.put("system", system);
        return n;
    }
}
