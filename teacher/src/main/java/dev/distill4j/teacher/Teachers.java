package dev.distill4j.teacher;

import dev.distill4j.core.InvalidInputException;

/** Makes the teacher a config describes. */
public final class Teachers {
    private Teachers() {}

    /**
     * @throws IllegalArgumentException with a message for the user when the config asks for something the provider
     *                                  cannot do (e.g. logprobs from Anthropic, more top logprobs than the API gives)
     */
    public static Teacher create(TeacherConfig c) {
        if (c.endpoint().equals(TeacherConfig.EMBEDDINGS)) {
            throw new InvalidInputException("an embeddings endpoint answers no prompts: harvest it with "
                    + "'distill embed harvest' (OpenAiEmbeddingTeacher)");
        }
        return switch (c.provider()) {
            case TeacherConfig.ANTHROPIC -> new AnthropicTeacher(c);
            case TeacherConfig.OPENAI -> c.endpoint().equals(TeacherConfig.COMPLETIONS)
                    ? new OpenAiCompletionsTeacher(c) : new OpenAiChatTeacher(c);
            default -> throw new InvalidInputException("unknown teacher provider '" + c.provider() + "'");
        };
    }
}
