package dev.distill4j.core.export;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.store.RunStore;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Writes a run's done samples as a JSONL training set, one line per sample in prompt order, streaming from the store
 * into a temp file that is renamed over {@code out} at the end: a killed export leaves the old file or none.
 */
public final class Exporter {

    public enum Format {
        /** OpenAI's fine-tuning chat format: {"messages": [..., {"role": "assistant", "content": ...}]}. */
        OPENAI_CHAT("openai-chat"),
        /** Hugging Face TRL's conversational format, with the prompt id, sample index and metadata beside. */
        HF_MESSAGES("hf-messages"),
        /** Everything a logit-level trainer needs: text, usage and per-token top-k logprobs with bytes. */
        LOGPROBS_JSONL("logprobs-jsonl");

        private final String cliName;

        Format(String cliName) { this.cliName = cliName; }

        public String cliName() { return cliName; }

        /** Parses the CLI name (openai-chat, hf-messages, logprobs-jsonl); the enum name works too. */
        public static Format parse(String name) {
            String n = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
            for (Format f : values()) if (f.cliName.equals(n)) return f;
            throw new InvalidInputException("unknown export format '" + name + "' (expected "
                    + Arrays.stream(values()).map(Format::cliName).collect(Collectors.joining(", ")) + ")");
        }
    }

    private Exporter() {}

    /**
     * Writes every done sample of {@code store} to {@code out} in {@code format}.
     *
     * @param systemPromptOrNull a system message to put first in each conversation that does not start with a
     *                           system or developer message of its own (the one the teacher was given, usually)
     * @return the number of lines written
     */
    public static long export(RunStore store, Format format, Path out, String systemPromptOrNull) throws IOException {
        String system = systemPromptOrNull == null || systemPromptOrNull.isBlank() ? null : systemPromptOrNull;
        long[] lines = {0};
        AtomicFiles.write(out, stream -> {
            BufferedWriter writer = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), 1 << 16);
            JsonGenerator gen = Json.MAPPER.getFactory().createGenerator(writer);
            gen.setRootValueSeparator(null); // lines end in "\n", written below; no separator before the next
            try {
                store.forEachSample(SampleStatus.DONE, (prompt, sample) -> {
                    try {
                        switch (format) {
                            case OPENAI_CHAT -> openAiChat(gen, prompt, sample, system);
                            case HF_MESSAGES -> hfMessages(gen, prompt, sample, system);
                            case LOGPROBS_JSONL -> logprobs(gen, prompt, sample, system);
                        }
                        gen.writeRaw('\n');
                        lines[0]++;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            gen.flush();
        });
        return lines[0];
    }

    /** The conversation the teacher answered: the prompt's chat, after the system prompt where it has none. */
    static List<Message> conversation(Prompt prompt, String system) {
        List<Message> chat = prompt.chat();
        if (system == null) return chat;
        String first = chat.getFirst().role();
        if (first.equals("system") || first.equals("developer")) return chat;
        List<Message> withSystem = new ArrayList<>(chat.size() + 1);
        withSystem.add(Message.system(system));
        withSystem.addAll(chat);
        return withSystem;
    }

    private static void openAiChat(JsonGenerator gen, Prompt prompt, Sample sample, String system) throws IOException {
        gen.writeStartObject();
        writeMessages(gen, prompt, sample, system);
        gen.writeEndObject();
    }

    private static void hfMessages(JsonGenerator gen, Prompt prompt, Sample sample, String system) throws IOException {
        gen.writeStartObject();
        writeMessages(gen, prompt, sample, system);
        gen.writeStringField("id", prompt.id());
        gen.writeNumberField("sample_index", sample.sampleIndex());
        if (!prompt.metadata().isEmpty()) {
            gen.writeFieldName("metadata");
            gen.writeTree(prompt.metadata());
        }
        gen.writeEndObject();
    }

    private static void writeMessages(JsonGenerator gen, Prompt prompt, Sample sample, String system)
            throws IOException {
        gen.writeArrayFieldStart("messages");
        for (Message m : conversation(prompt, system)) writeMessage(gen, m);
        writeMessage(gen, Message.assistant(text(sample)));
        gen.writeEndArray();
    }

    private static void writeMessage(JsonGenerator gen, Message m) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("role", m.role());
        gen.writeStringField("content", m.content());
        gen.writeEndObject();
    }

    private static void logprobs(JsonGenerator gen, Prompt prompt, Sample sample, String system) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("key", sample.key());
        gen.writeStringField("prompt_id", prompt.id());
        gen.writeNumberField("sample_index", sample.sampleIndex());
        List<Message> conversation = conversation(prompt, system);
        if (!prompt.isChat() && conversation.size() == 1) {
            gen.writeStringField("prompt", prompt.text());
        } else {
            gen.writeArrayFieldStart("messages");
            for (Message m : conversation) writeMessage(gen, m);
            gen.writeEndArray();
        }
        gen.writeStringField("text", text(sample));
        gen.writeStringField("finish_reason", sample.finishReason());
        gen.writeStringField("capability", sample.capability().toString());
        gen.writeObjectFieldStart("usage");
        gen.writeNumberField("prompt_tokens", sample.usage().promptTokens());
        gen.writeNumberField("completion_tokens", sample.usage().completionTokens());
        gen.writeEndObject();
        gen.writeArrayFieldStart("tokens");
        for (TokenPosition p : sample.tokens().positions()) {
            gen.writeStartObject();
            writeToken(gen, p.chosen());
            gen.writeArrayFieldStart("top_logprobs");
            for (TokenLogprob a : p.alternatives()) {
                gen.writeStartObject();
                writeToken(gen, a);
                gen.writeEndObject();
            }
            gen.writeEndArray();
            gen.writeNumberField("tail", p.tail());
            gen.writeEndObject();
        }
        gen.writeEndArray();
        gen.writeEndObject();
    }

    /** token, bytes (unsigned, as OpenAI writes them) and logprob. */
    private static void writeToken(JsonGenerator gen, TokenLogprob t) throws IOException {
        gen.writeStringField("token", t.token());
        gen.writeArrayFieldStart("bytes");
        for (byte b : t.bytes()) gen.writeNumber(b & 0xff);
        gen.writeEndArray();
        gen.writeNumberField("logprob", t.logprob());
    }

    private static String text(Sample sample) { return sample.text() == null ? "" : sample.text(); }
}
