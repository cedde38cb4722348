package dev.distill4j.train.data;

import dev.distill4j.core.Capability;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenDistribution;
import java.util.List;

/** Prompts and samples as the harvester stores them. */
final class Runs {
    private Runs() {}

    static Prompt chat(String id, Message... messages) {
        return new Prompt(id, null, List.of(messages), null, "prompts.jsonl", 1);
    }

    static Prompt text(String id, String text) {
        return new Prompt(id, text, null, null, "prompts.jsonl", 1);
    }

    static Sample done(String promptId, int index, String text, Capability capability, TokenDistribution tokens) {
        return Sample.builder(promptId + "#" + index, promptId, index).status(SampleStatus.DONE).text(text)
                .finishReason("stop").capability(capability).tokens(tokens).latencyMs(10).attempts(1).build();
    }

    static Sample textSample(String promptId, int index, String text) {
        return done(promptId, index, text, Capability.TEXT, TokenDistribution.EMPTY);
    }

    static Sample pending(String promptId, int index) {
        return Sample.builder(promptId + "#" + index, promptId, index).build();
    }
}
