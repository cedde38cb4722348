package dev.distill4j.train.data;

import dev.distill4j.core.Capability;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.Usage;
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
        return new Sample(promptId + "#" + index, promptId, index, SampleStatus.DONE, text, "stop", capability, tokens,
                Usage.ZERO, 0, 10, null, null, null, 1, null, null);
    }

    static Sample textSample(String promptId, int index, String text) {
        return done(promptId, index, text, Capability.TEXT, TokenDistribution.EMPTY);
    }

    static Sample pending(String promptId, int index) {
        return new Sample(promptId + "#" + index, promptId, index, SampleStatus.PENDING, null, null, null, null, null,
                0, 0, null, null, null, 0, null, null);
    }
}
