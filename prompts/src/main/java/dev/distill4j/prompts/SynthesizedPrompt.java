package dev.distill4j.prompts;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import java.util.List;

/**
 * One kept synthetic prompt and where it came from, written as an ordinary prompt line
 * ({@code {"id", "prompt", "metadata"}}) so that {@code distill harvest} reads the output file as it is.
 *
 * @param id        {@code syn-000001}, …, in the order kept
 * @param text      the prompt
 * @param method    self-instruct or evol-instruct
 * @param operation the evol operation (null for self-instruct)
 * @param topic     the topic the request asked for (null if none)
 * @param parents   ids of the prompts the request showed the teacher (seed ids or earlier synthetic ids)
 * @param round     the round it was written in (1-based)
 * @param request   id of the teacher request it came from (a prompt id in the work run)
 */
public record SynthesizedPrompt(String id, String text, SynthesisMethod method, EvolOperation operation, String topic,
                                List<String> parents, int round, String request) {
    public SynthesizedPrompt {
        parents = List.copyOf(parents);
    }

    /** Reads back a line {@link #toJsonLine} wrote. */
    public static SynthesizedPrompt fromPrompt(dev.distill4j.core.Prompt p) {
        var m = p.metadata();
        java.util.List<String> parents = new java.util.ArrayList<>();
        m.path("parents").forEach(n -> parents.add(n.asText()));
        EvolOperation op = null;
        if (m.hasNonNull("operation")) {
            for (EvolOperation o : EvolOperation.values()) if (o.label().equals(m.get("operation").asText())) op = o;
        }
        return new SynthesizedPrompt(p.id(), p.text(), SynthesisMethod.parse(m.get("synthetic").asText()), op,
                m.hasNonNull("topic") ? m.get("topic").asText() : null, parents, m.path("round").asInt(1),
                m.path("request").asText(""));
    }

    public String toJsonLine() {
        ObjectNode n = Json.object();
        n.put("id", id);
        n.put("prompt", text);
        ObjectNode m = n.putObject("metadata");
        m.put("synthetic", method.label());
        if (operation != null) m.put("operation", operation.label());
        if (topic != null) m.put("topic", topic);
        var p = m.putArray("parents");
        parents.forEach(p::add);
        m.put("round", round);
        m.put("request", request);
        return Json.write(n);
    }
}
