package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK against the server: what a user's existing client code sees. */
class OpenAiSdkTest {
    static LocalModel model;
    static OpenAiServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        model = LocalModel.load(ServerFixture.modelDir());
        server = OpenAiServer.builder().setModel(model).optServedModelName(ServerFixture.NAME)
                .optApiKey(ServerFixture.KEY).optPort(0).optMaxBatch(4).build();
        int port = server.start();
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey(ServerFixture.KEY)
                .maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
        model.close();
    }

    private static ChatCompletionCreateParams.Builder chat(String user) {
        return ChatCompletionCreateParams.builder().model(ServerFixture.NAME).addUserMessage(user)
                .maxCompletionTokens(12).temperature(0.0).seed(3);
    }

    @Test
    void listsTheModel() {
        List<Model> models = client.models().list().data();
        assertThat(models).extracting(Model::id).containsExactly(ServerFixture.NAME);
        assertThat(models.getFirst().ownedBy()).isEqualTo("distill4j");
    }

    @Test
    void plainChatCompletion() {
        ChatCompletion c = client.chat().completions().create(chat("Hello there").build());
        assertThat(c.id()).startsWith("chatcmpl-");
        assertThat(c.model()).isEqualTo(ServerFixture.NAME);
        assertThat(c.created()).isPositive();
        assertThat(c.systemFingerprint()).hasValueSatisfying(f -> assertThat(f).startsWith("fp_"));
        assertThat(c.choices()).hasSize(1);
        ChatCompletion.Choice choice = c.choices().getFirst();
        assertThat(choice.finishReason()).isIn(ChatCompletion.Choice.FinishReason.LENGTH,
                ChatCompletion.Choice.FinishReason.STOP);
        assertThat(choice.message().content()).isPresent();
        var usage = c.usage().orElseThrow();
        assertThat(usage.promptTokens()).isPositive();
        assertThat(usage.completionTokens()).isBetween(1L, 12L);
        assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());
        // greedy is deterministic
        ChatCompletion again = client.chat().completions().create(chat("Hello there").build());
        assertThat(again.choices().getFirst().message().content()).isEqualTo(choice.message().content());
    }

    @Test
    void stopStringCutsTheTextAndFinishesWithStop() {
        String full = client.chat().completions().create(chat("Where does it stop?").build())
                .choices().getFirst().message().content().orElseThrow();
        assertThat(full.length()).as(full).isGreaterThan(4);
        String stop = full.substring(2, 4);
        int cut = full.indexOf(stop);
        ChatCompletion c = client.chat().completions().create(chat("Where does it stop?").stop(stop).build());
        assertThat(c.choices().getFirst().message().content().orElseThrow()).isEqualTo(full.substring(0, cut));
        assertThat(c.choices().getFirst().finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    }

    @Test
    void nChoicesSampledWithASeedAreReproducible() {
        var p = ChatCompletionCreateParams.builder().model(ServerFixture.NAME).addUserMessage("tell me")
                .maxCompletionTokens(10).temperature(1.0).seed(11).n(3).build();
        ChatCompletion a = client.chat().completions().create(p);
        ChatCompletion b = client.chat().completions().create(p);
        assertThat(a.choices()).hasSize(3);
        assertThat(a.choices()).extracting(ch -> ch.message().content().orElse(""))
                .isEqualTo(b.choices().stream().map(ch -> ch.message().content().orElse("")).toList());
        assertThat(a.choices()).extracting(ChatCompletion.Choice::index).containsExactly(0L, 1L, 2L);
    }

    @Test
    void streamingConcatenatesToTheNonStreamedAnswer() {
        ChatCompletion whole = client.chat().completions().create(chat("Stream this").build());
        StringBuilder text = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(chat("Stream this")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(chunks::add);
        }
        assertThat(chunks.size()).isGreaterThan(3);
        assertThat(chunks.getFirst().choices().getFirst().delta().role()).isPresent();
        String finish = null;
        for (ChatCompletionChunk ch : chunks) {
            assertThat(ch._object_().toString()).contains("chat.completion.chunk");
            assertThat(ch.id()).isEqualTo(chunks.getFirst().id());
            for (ChatCompletionChunk.Choice c : ch.choices()) {
                c.delta().content().ifPresent(text::append);
                if (c.finishReason().isPresent()) finish = c.finishReason().get().toString();
            }
        }
        assertThat(text.toString()).isEqualTo(whole.choices().getFirst().message().content().orElseThrow());
        assertThat(finish).isEqualTo(whole.choices().getFirst().finishReason().toString());
        ChatCompletionChunk last = chunks.getLast();
        assertThat(last.choices()).isEmpty();
        assertThat(last.usage().orElseThrow().completionTokens())
                .isEqualTo(whole.usage().orElseThrow().completionTokens());
    }

    @Test
    void logprobsWithFiveAlternativesAndBytes() {
        ChatCompletion c = client.chat().completions().create(chat("Give me logprobs").logprobs(true).topLogprobs(5)
                .build());
        ChatCompletion.Choice choice = c.choices().getFirst();
        List<ChatCompletionTokenLogprob> content = choice.logprobs().orElseThrow().content().orElseThrow();
        assertThat(content).hasSize((int) c.usage().orElseThrow().completionTokens());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (ChatCompletionTokenLogprob t : content) {
            assertThat(t.logprob()).isLessThanOrEqualTo(0.0);
            assertThat(t.topLogprobs()).hasSize(5);
            for (var alt : t.topLogprobs()) assertThat(alt.bytes()).isPresent();
            // greedy: the chosen token is the most likely alternative
            assertThat(t.token()).isEqualTo(t.topLogprobs().getFirst().token());
            assertThat(t.logprob()).isEqualTo(t.topLogprobs().getFirst().logprob());
            for (long b : t.bytes().orElseThrow()) bytes.write((int) b);
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(choice.message().content().orElseThrow());
    }

    @Test
    void legacyCompletionEchoScoresThePrompt() {
        String prompt = "the cat sat on the mat";
        Completion c = client.completions().create(CompletionCreateParams.builder().model(ServerFixture.NAME)
                .prompt(prompt).maxTokens(0).echo(true).logprobs(3).build());
        assertThat(c.id()).startsWith("cmpl-");
        CompletionChoice choice = c.choices().getFirst();
        assertThat(choice.text()).isEqualTo(prompt);
        CompletionChoice.Logprobs lp = choice.logprobs().orElseThrow();
        List<String> tokens = lp.tokens().orElseThrow();
        int promptTokens = (int) c.usage().orElseThrow().promptTokens();
        assertThat(tokens).hasSize(promptTokens);
        assertThat(String.join("", tokens)).isEqualTo(prompt);
        List<Long> offsets = lp.textOffset().orElseThrow();
        assertThat(offsets.getFirst()).isZero();
        List<Double> logprobs = lp.tokenLogprobs().orElseThrow();
        assertThat(logprobs).hasSize(promptTokens);
        assertThat(logprobs.getFirst()).isNull();    // nothing precedes the first token, as OpenAI reports it

        // the scores are the model's own teacher forcing
        int[] ids = model.tokenizer().encode(prompt, true);
        var scored = model.scorer().score(java.util.Arrays.copyOf(ids, 1),
                java.util.Arrays.copyOfRange(ids, 1, ids.length), 3);
        for (int i = 1; i < promptTokens; i++) {
            assertThat(logprobs.get(i)).isCloseTo(scored.logprobs()[i - 1], org.assertj.core.data.Offset.offset(1e-5));
        }
        var top = lp.topLogprobs().orElseThrow();
        assertThat(top).hasSize(promptTokens);
        assertThat(top.get(1)._additionalProperties()).hasSize(3);

        // echo with generation: the text starts with the prompt, then the completion
        Completion g = client.completions().create(CompletionCreateParams.builder().model(ServerFixture.NAME)
                .prompt(prompt).maxTokens(5).temperature(0.0).echo(true).logprobs(2).build());
        CompletionChoice gc = g.choices().getFirst();
        assertThat(gc.text()).startsWith(prompt);
        assertThat(g.usage().orElseThrow().completionTokens()).isEqualTo(5);
        assertThat(gc.finishReason()).isEqualTo(CompletionChoice.FinishReason.LENGTH);
    }
}
