package dev.distill4j.teacher;

import dev.distill4j.core.Prompt;

/**
 * One sample to ask for.
 *
 * @param prompt      the prompt
 * @param sampleIndex 0-based index among this prompt's samples
 * @param key         the sample's content key; sent as {@code X-Client-Request-Id} so a teacher (and our test stubs)
 *                    can correlate requests with stored samples
 */
public record TeacherRequest(Prompt prompt, int sampleIndex, String key) {}
