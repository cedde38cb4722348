package dev.distill4j.serve;

import dev.distill4j.model.local.LocalModel;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

/** One tiny model folder per JVM (written once) and raw-HTTP helpers for the tests. */
final class ServerFixture {
    static final String KEY = "sk-serve-test-0123456789";
    static final String NAME = "tiny";
    private static Path modelDir;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private ServerFixture() {}

    static synchronized Path modelDir() throws IOException {
        if (modelDir == null) {
            Path dir = Files.createTempDirectory("distill4j-serve-tiny");
            dir.toFile().deleteOnExit();
            modelDir = TinyModel.write(dir.resolve("tiny"));
        }
        return modelDir;
    }

    record Reply(int status, String body, HttpResponse<String> response) {}

    /** A started server for {@code model} under {@link #NAME}, batches of 4, whose worker tells {@code hook} every token. */
    static OpenAiServer startWithHook(LocalModel model, dev.distill4j.model.generate.TokenListener hook) {
        OpenAiServer server = OpenAiServer.builder().setModel(model).optServedModelName(NAME).optPort(0).optMaxBatch(4)
                .optTokenHook(hook).build();
        server.start();
        return server;
    }

    static Reply post(int port, String path, String key, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) b.header("Authorization", "Bearer " + key);
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r);
    }

    static Reply get(int port, String path, String key) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET();
        if (key != null) b.header("Authorization", "Bearer " + key);
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r);
    }
}
