package dev.distill4j.core.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.Usage;
import dev.distill4j.core.store.RunStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExporterTest {
    @TempDir Path dir;
    RunStore store;

    static final TokenLogprob HALF = new TokenLogprob("bytes:\\xe2\\x80", new byte[] {(byte) 226, (byte) 128}, -0.5f);
    static final TokenLogprob HI = TokenLogprob.of("Hi", -0.25);
    static final TokenDistribution TOKENS = new TokenDistribution(List.of(
            TokenPosition.of(HI, List.of(HI, HALF)),
            new TokenPosition(HALF, List.of(), 0.125f)));

    @BeforeEach
    void fill() throws IOException {
        store = RunStore.open(dir.resolve("run"));
        store.putPrompts(List.of(
                new Prompt("raw", "Say hi", null, Json.object().put("topic", "greeting"), "p.jsonl", 1),
                new Prompt("chat", null, List.of(Message.system("own system"), Message.user("2+2?")), null, "p.jsonl",
                        2),
                new Prompt("dev", null, List.of(Message.user("a"), Message.assistant("b"), Message.user("c")), null,
                        "p.jsonl", 3)));
        store.upsertSamples(List.of(
                done("k-raw-1", "raw", 1, "Hello again", Capability.TEXT, TokenDistribution.EMPTY),
                done("k-raw-0", "raw", 0, "Hi", Capability.topK(2), TOKENS),
                done("k-chat", "chat", 0, "4", Capability.TEXT, null),
                Sample.builder("k-failed", "dev", 0).status(SampleStatus.FAILED).error("timeout", null).attempts(2)
                        .build()));
        store.putPending(List.of(Sample.builder("k-pending", "dev", 1).build()));
    }

    @org.junit.jupiter.api.AfterEach
    void close() {
        store.close();
    }

    static Sample done(String key, String promptId, int index, String text, Capability c, TokenDistribution t) {
        return Sample.builder(key, promptId, index).status(SampleStatus.DONE).text(text).finishReason("stop")
                .capability(c).tokens(t).usage(new Usage(12, 3)).costUsd(0.001).latencyMs(50).attempts(1).build();
    }

    private List<JsonNode> lines(Path file) throws IOException {
        String content = Files.readString(file);
        assertThat(content).endsWith("\n").doesNotStartWith(" ");
        try (Stream<String> lines = content.lines()) {
            return lines.map(Json::parse).toList();
        }
    }

    @Test
    void openAiChatIsExactlyTheFineTuningFormat() throws IOException {
        Path out = dir.resolve("out/train.jsonl");
        long n = Exporter.export(store, Exporter.Format.OPENAI_CHAT, out, null);
        assertThat(n).isEqualTo(3);
        List<JsonNode> lines = lines(out);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo(Json.parse("""
                {"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi"}]}"""));
        assertThat(lines.get(1)).isEqualTo(Json.parse("""
                {"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hello again"}]}"""));
        assertThat(lines.get(2)).isEqualTo(Json.parse("""
                {"messages": [{"role": "system", "content": "own system"}, {"role": "user", "content": "2+2?"},
                              {"role": "assistant", "content": "4"}]}"""));
    }

    @Test
    void aSystemPromptGoesFirstWhereThePromptHasNone() throws IOException {
        Path out = dir.resolve("train.jsonl");
        Exporter.export(store, Exporter.Format.OPENAI_CHAT, out, "You are terse.");
        List<JsonNode> lines = lines(out);
        assertThat(lines.get(0).get("messages").get(0)).isEqualTo(Json.parse("""
                {"role": "system", "content": "You are terse."}"""));
        assertThat(lines.get(0).get("messages")).hasSize(3);
        // the chat prompt brought its own system message: that is what the teacher saw
        assertThat(lines.get(2).get("messages").get(0).get("content").asText()).isEqualTo("own system");
        assertThat(lines.get(2).get("messages")).hasSize(3);
    }

    @Test
    void hfMessagesCarriesIdIndexAndMetadata() throws IOException {
        Path out = dir.resolve("hf.jsonl");
        assertThat(Exporter.export(store, Exporter.Format.HF_MESSAGES, out, null)).isEqualTo(3);
        List<JsonNode> lines = lines(out);
        assertThat(lines.get(0)).isEqualTo(Json.parse("""
                {"messages": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi"}],
                 "id": "raw", "sample_index": 0, "metadata": {"topic": "greeting"}}"""));
        assertThat(lines.get(1).get("sample_index").asInt()).isEqualTo(1);
        assertThat(lines.get(2).has("metadata")).isFalse();
        assertThat(lines.get(2).get("id").asText()).isEqualTo("chat");
    }

    @Test
    void logprobsJsonlHasTokensWithBytes() throws IOException {
        Path out = dir.resolve("lp.jsonl");
        assertThat(Exporter.export(store, Exporter.Format.LOGPROBS_JSONL, out, null)).isEqualTo(3);
        List<JsonNode> lines = lines(out);
        assertThat(lines.get(0)).isEqualTo(Json.parse("""
                {"key": "k-raw-0", "prompt_id": "raw", "sample_index": 0, "prompt": "Say hi", "text": "Hi",
                 "finish_reason": "stop", "capability": "TOP_K(2)",
                 "usage": {"prompt_tokens": 12, "completion_tokens": 3},
                 "tokens": [
                   {"token": "Hi", "bytes": [72, 105], "logprob": -0.25,
                    "top_logprobs": [{"token": "Hi", "bytes": [72, 105], "logprob": -0.25},
                                     {"token": "bytes:\\\\xe2\\\\x80", "bytes": [226, 128], "logprob": -0.5}],
                    "tail": %s},
                   {"token": "bytes:\\\\xe2\\\\x80", "bytes": [226, 128], "logprob": -0.5, "top_logprobs": [],
                    "tail": 0.125}]}""".formatted(TOKENS.positions().getFirst().tail())));
        assertThat(lines.get(2).get("messages").get(1).get("content").asText()).isEqualTo("2+2?");
        assertThat(lines.get(2).has("prompt")).isFalse();
        assertThat(lines.get(2).get("tokens")).isEmpty();
        assertThat(lines.get(2).get("capability").asText()).isEqualTo("TEXT");
    }

    @Test
    void logprobsWithASystemPromptUseMessages() throws IOException {
        Path out = dir.resolve("lp.jsonl");
        Exporter.export(store, Exporter.Format.LOGPROBS_JSONL, out, "sys");
        JsonNode first = lines(out).getFirst();
        assertThat(first.has("prompt")).isFalse();
        assertThat(first.get("messages")).isEqualTo(Json.parse("""
                [{"role": "system", "content": "sys"}, {"role": "user", "content": "Say hi"}]"""));
    }

    @Test
    void aFailedExportLeavesTheOldFileAndNoTempFiles() throws IOException {
        Path out = Files.writeString(dir.resolve("keep.jsonl"), "old\n");
        store.close();
        assertThatThrownBy(() -> Exporter.export(store, Exporter.Format.OPENAI_CHAT, out, null))
                .isInstanceOf(IllegalStateException.class);
        assertThat(out).hasContent("old");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("keep.jsonl", "run");
        }
    }

    @Test
    void anEmptyRunExportsAnEmptyFile() throws IOException {
        try (RunStore empty = RunStore.open(dir.resolve("empty"))) {
            Path out = dir.resolve("e.jsonl");
            assertThat(Exporter.export(empty, Exporter.Format.HF_MESSAGES, out, null)).isZero();
            assertThat(out).isEmptyFile();
        }
    }

    @Test
    void formatsParseFromTheirCliNames() {
        assertThat(Exporter.Format.parse("openai-chat")).isEqualTo(Exporter.Format.OPENAI_CHAT);
        assertThat(Exporter.Format.parse("hf-messages")).isEqualTo(Exporter.Format.HF_MESSAGES);
        assertThat(Exporter.Format.parse("LOGPROBS_JSONL")).isEqualTo(Exporter.Format.LOGPROBS_JSONL);
        assertThat(Exporter.Format.HF_MESSAGES.cliName()).isEqualTo("hf-messages");
        assertThatThrownBy(() -> Exporter.Format.parse("alpaca"))
                .hasMessage("unknown export format 'alpaca' (expected openai-chat, hf-messages, logprobs-jsonl)");
    }
}
