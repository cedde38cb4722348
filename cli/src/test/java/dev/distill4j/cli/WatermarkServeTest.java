package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.distill4j.guard.detect.Detector;
import dev.distill4j.guard.watermark.TokenizerFingerprint;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.serve.TinyModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A watermarked server as {@code distill serve --watermark KEY} builds it (the key file loaded and checked by
 * {@link WatermarkOption}, the scheme passed to the server as its token chooser), asked by the official OpenAI client
 * on every path: chat, legacy completions, streaming, {@code n = 3}, concurrent (batched) requests. The texts it
 * writes detect with its key at a small pooled p-value and not with another key of the same scheme.
 *
 * <p>Keys have fixed secrets and requests fixed seeds, so the p-values are the same on every run. The tiny random
 * model (context 512) at temperature 1 has enough entropy per token for every scheme; about a thousand tokens per
 * scheme give p-values far below the thresholds asserted (see the printed figures).
 */
class WatermarkServeTest {
    private static final String NAME = "tiny";
    private static final int MAX_TOKENS = 64;
    private static final double TEMPERATURE = 1.2;

    @TempDir static Path tmp;
    static Path modelDir;
    static LocalModel model;

    @BeforeAll
    static void load() throws Exception {
        modelDir = TinyModel.write(tmp.resolve("tiny"), 32, 2, 4, 2, 64, 512);
        model = LocalModel.load(modelDir);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** A key file with a fixed secret (so the test is deterministic), written as keygen writes it. */
    static Path key(String file, WatermarkKey.Scheme scheme, Map<String, Object> params, long secretSeed)
            throws Exception {
        byte[] secret = new byte[WatermarkKey.SECRET_BYTES];
        SplittableRandom r = new SplittableRandom(secretSeed);
        for (int i = 0; i < secret.length; i++) secret[i] = (byte) r.nextInt(256);
        Path f = tmp.resolve(file);
        new WatermarkKey(scheme, params, TokenizerFingerprint.of(model.tokenizer()), secret).write(f, modelDir);
        return f;
    }

    static Map<String, Object> kgw(String hash) {
        return Map.of("gamma", 0.25, "delta", 2.0, "context", hash.equals("self") ? 4 : 1, "hash", hash);
    }

    @Test
    void kgwLeftHash() throws Exception {
        roundTrip("kgw-left", WatermarkKey.Scheme.KGW, kgw("left"));
    }

    @Test
    void kgwSelfHash() throws Exception {
        roundTrip("kgw-self", WatermarkKey.Scheme.KGW, kgw("self"));
    }

    @Test
    void gumbel() throws Exception {
        roundTrip("gumbel", WatermarkKey.Scheme.GUMBEL, Map.of("context", 4));
    }

    @Test
    void synthId() throws Exception {
        roundTrip("synthid", WatermarkKey.Scheme.SYNTHID, Map.of("context", 4, "layers", 30));
    }

    private void roundTrip(String name, WatermarkKey.Scheme scheme, Map<String, Object> params) throws Exception {
        WatermarkOption option = new WatermarkOption();
        option.key = key(name + ".wmkey", scheme, params, name.hashCode());
        Watermark wm = option.load(model.tokenizer(), "--model " + modelDir);
        Watermark other = Watermark.of(WatermarkKey.read(key(name + "-other.wmkey", scheme, params,
                name.hashCode() + 1L)));

        List<String> texts = new ArrayList<>();
        long completionTokens = 0;
        try (OpenAiServer server = OpenAiServer.builder().setModel(model).optServedModelName(NAME).optPort(0)
                .optMaxBatch(4).optTokenChooser(wm, "watermark " + WatermarkOption.describe(wm)).build()) {
            int port = server.start();
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1")
                    .apiKey("unused").maxRetries(0).build();
            try {
                // chat
                ChatCompletion c = client.chat().completions().create(chat("Tell me about the sea", 1).build());
                texts.add(c.choices().getFirst().message().content().orElseThrow());
                completionTokens += c.usage().orElseThrow().completionTokens();
                // legacy completions, two prompts
                Completion l = client.completions().create(CompletionCreateParams.builder().model(NAME)
                        .prompt(CompletionCreateParams.Prompt.ofArrayOfStrings(List.of("Once upon a time",
                                "The weather today")))
                        .maxTokens(MAX_TOKENS).temperature(TEMPERATURE).seed(2).build());
                l.choices().forEach(ch -> texts.add(ch.text()));
                completionTokens += l.usage().orElseThrow().completionTokens();
                // streaming
                StringBuilder streamed = new StringBuilder();
                try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                        chat("Stream a story", 3).streamOptions(ChatCompletionStreamOptions.builder()
                                .includeUsage(true).build()).build())) {
                    for (ChatCompletionChunk ch : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
                        ch.choices().forEach(x -> x.delta().content().ifPresent(streamed::append));
                        if (ch.usage().isPresent()) completionTokens += ch.usage().get().completionTokens();
                    }
                }
                texts.add(streamed.toString());
                // n = 3
                ChatCompletion n3 = client.chat().completions().create(chat("Three answers, please", 4).n(3).build());
                assertThat(n3.choices()).hasSize(3);
                List<String> choices = n3.choices().stream().map(ch -> ch.message().content().orElseThrow()).toList();
                if (scheme == WatermarkKey.Scheme.GUMBEL) {
                    // Gumbel is deterministic given the key: one prompt, one answer (docs/guard.md)
                    assertThat(choices).containsOnly(choices.getFirst());
                } else {
                    assertThat(choices).doesNotHaveDuplicates();
                }
                texts.addAll(choices);
                completionTokens += n3.usage().orElseThrow().completionTokens();
                // concurrent requests with equal parameters: batched together
                try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
                    List<Future<ChatCompletion>> futures = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        String q = "Question number " + i + " about rivers";
                        futures.add(pool.submit(() -> client.chat().completions().create(chat(q, 5).build())));
                    }
                    for (Future<ChatCompletion> f : futures) {
                        ChatCompletion r = f.get();
                        texts.add(r.choices().getFirst().message().content().orElseThrow());
                        completionTokens += r.usage().orElseThrow().completionTokens();
                    }
                }
                assertThat(metric(port, "distill4j_watermarked_tokens_total")).isEqualTo(completionTokens);
            } finally {
                client.close();
            }
        }

        List<Detector.Input> inputs = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) inputs.add(new Detector.Input(name + "-" + i, null, texts.get(i)));
        Detector.Report mine = new Detector(wm, model.tokenizer(), "tiny").detect(inputs, false, 20);
        Detector.Report theirs = new Detector(other, model.tokenizer(), "tiny").detect(inputs, false, 20);
        System.out.printf("%s: %d texts, %d tokens, %d scored, mean %.3f (null %.3f), p = %s; other key: mean %.3f, "
                        + "p = %s%n", name, texts.size(), mine.pooled().tokens(), mine.pooled().scored(),
                mine.pooled().meanScore(), wm.nullMean(), mine.pooled().pValue(), theirs.pooled().meanScore(),
                theirs.pooled().pValue());
        assertThat(mine.pooled().pValue().log10()).as(name + " with its own key").isLessThan(-4);
        assertThat(theirs.pooled().pValue().value()).as(name + " with another key").isGreaterThan(0.01);
    }

    private static ChatCompletionCreateParams.Builder chat(String user, long seed) {
        return ChatCompletionCreateParams.builder().model(NAME).addUserMessage(user).maxCompletionTokens(MAX_TOKENS)
                .temperature(TEMPERATURE).seed(seed);
    }

    static long metric(int port, String name) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = Pattern.compile("(?m)^" + name + " (\\d+)$").matcher(body);
            assertThat(m.find()).as(name + " in /metrics").isTrue();
            return Long.parseLong(m.group(1));
        }
    }
}
