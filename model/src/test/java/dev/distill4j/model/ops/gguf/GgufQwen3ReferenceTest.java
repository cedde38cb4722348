package dev.distill4j.model.ops.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.ops.gguf.GgufExport.Quantization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Qwen3 students through a real llama.cpp. The llama.cpp of {@code de.kherud:llama} 4.2.0 (b4916, the newest
 * binding Maven Central serves here) predates Qwen3, so the round trip runs against a newer llama.cpp — the one
 * npm's {@code node-llama-cpp} ships — and its answers are recorded as a test resource
 * ({@code gguf/qwen3-llamacpp.json}, written by {@code tools/gguf/llamacpp_reference.sh}), as the PyTorch reference
 * numbers are: the test needs no Node.
 *
 * <p>What holds it honest: the test rebuilds each student (deterministic in its seed), exports it again and first
 * checks the three files are byte for byte the ones llama.cpp read (SHA-256); then llama.cpp's own greedy decoding
 * must equal distill4j's token ids (F32), its F32 logits along distill4j's sequences must equal distill4j's to
 * float rounding, its F16 and Q8_0 argmax must agree on ≥ 95 % of positions, and its tokenization must match.
 */
class GgufQwen3ReferenceTest {
    static final String RESOURCE = "/gguf/qwen3-llamacpp.json";
    static final List<String> VARIANTS = List.of("qwen3", "qwen3+linear-rope");
    static final long SEED = 11;

    @TempDir Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "qwen3+linear-rope"})
    void newerLlamaCppDecodesQwen3LikeDistill4j(String variant) throws IOException {
        JsonNode root = recordedRoot();
        JsonNode recorded = recorded(root, variant);
        Path dir = GgufRoundTrip.student(tmp, variant, SEED);
        Map<Quantization, GgufExport.Result> files = GgufRoundTrip.exportAll(dir);
        for (var e : files.entrySet()) {
            assertThat(sha256(e.getValue().file())).as("%s %s: the export is not the file llama.cpp read; rerun "
                            + "tools/gguf/llamacpp_reference.sh to record llama.cpp's answers for the new export",
                    variant, e.getKey()).isEqualTo(recorded.path("files").path(key(e.getKey())).path("sha256")
                    .asText());
        }
        assertThat(files.get(Quantization.F32).architecture()).isEqualTo("qwen3");

        try (LocalModel ours = LocalModel.load(dir)) {
            List<String> texts = GgufRoundTrip.tokenizationTexts(ours);
            for (int i = 0; i < texts.size(); i++) {
                assertThat(ints(recorded.path("tokenize").get(i))).as(texts.get(i))
                        .containsExactly(ours.encodeText(texts.get(i)));
            }
            GgufRoundTrip.Ours o = GgufRoundTrip.ours(ours);
            JsonNode f32 = recorded.path("files").path("f32");
            double maxDiff = 0, maxLogit = 0;
            int same16 = 0, same8 = 0, positions = 0;
            for (int s = 0; s < o.prompts().size(); s++) {
                // llama.cpp decoded greedily on its own from the prompt
                assertThat(ints(f32.path("greedy").get(s))).as("%s f32 greedy, prompt %d", variant, s)
                        .containsExactly(o.generated(s));
                int[] seq = o.sequences().get(s);
                int first = o.prompts().get(s).length - 1;
                float[] theirs = floats(f32.path("logits").get(s).asText());
                int[] arg16 = ints(recorded.path("files").path("f16").path("argmax").get(s));
                int[] arg8 = ints(recorded.path("files").path("q8_0").path("argmax").get(s));
                int vocab = ours.config().vocabSize();
                assertThat(theirs).hasSize((seq.length - 1 - first) * vocab);
                for (int i = first; i < seq.length - 1; i++) {
                    float[] mine = o.logits().get(s)[i];
                    int row = (i - first) * vocab;
                    for (int v = 0; v < vocab; v++) {
                        maxDiff = Math.max(maxDiff, Math.abs(theirs[row + v] - mine[v]));
                        maxLogit = Math.max(maxLogit, Math.abs(mine[v]));
                    }
                    int want = GgufRoundTrip.argmax(mine);
                    if (arg16[i - first] == want) same16++;
                    if (arg8[i - first] == want) same8++;
                    positions++;
                }
            }
            double agree16 = (double) same16 / positions, agree8 = (double) same8 / positions;
            System.out.printf("GGUF %s vs %s: %d greedy tokens (%d distinct) equal (f32); max |logit diff| f32 %.2e "
                            + "(max |logit| %.1f); top-1 agreement f16 %.4f, q8_0 %.4f over %d positions%n", variant,
                    root.path("llama_cpp").asText(), o.generatedTokens(), o.distinctGenerated(), maxDiff,
                    maxLogit, agree16, agree8, positions);
            assertThat(o.distinctGenerated()).as("a greedy path that is not one token repeated").isGreaterThan(8);
            assertThat(maxDiff).as("f32 logits").isLessThan(1e-5 * Math.max(1, maxLogit));
            assertThat(agree16).as("f16 top-1 agreement").isGreaterThanOrEqualTo(0.95);
            assertThat(agree8).as("q8_0 top-1 agreement").isGreaterThanOrEqualTo(0.95);
        }
    }

    /**
     * Writes what the reference tool feeds llama.cpp: each variant's student and its three GGUF files under
     * {@code args[0]}, and {@code request.json} with the files' paths, the texts to tokenize, the prompts and
     * distill4j's greedy sequences (along which llama.cpp's logits are recorded). Run from the model module's folder
     * (the test tokenizer is a relative path), as tools/gguf/llamacpp_reference.sh does.
     */
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]).toAbsolutePath();
        Files.createDirectories(out);
        ArrayNode variants = Json.array();
        for (String variant : VARIANTS) {
            Path dir = GgufRoundTrip.student(out, variant, SEED);
            Map<Quantization, GgufExport.Result> files = GgufRoundTrip.exportAll(dir);
            ObjectNode v = variants.addObject().put("variant", variant).put("seed", SEED);
            ObjectNode f = v.putObject("files");
            for (var e : files.entrySet()) f.put(key(e.getKey()), e.getValue().file().toString());
            try (LocalModel model = LocalModel.load(dir)) {
                ArrayNode texts = v.putArray("texts");
                GgufRoundTrip.tokenizationTexts(model).forEach(texts::add);
                GgufRoundTrip.Ours o = GgufRoundTrip.ours(model);
                ArrayNode prompts = v.putArray("prompts"), seqs = v.putArray("sequences");
                for (int s = 0; s < o.prompts().size(); s++) {
                    ArrayNode p = prompts.addArray();
                    for (int id : o.prompts().get(s)) p.add(id);
                    ArrayNode q = seqs.addArray();
                    for (int id : o.sequences().get(s)) q.add(id);
                }
                ArrayNode stop = v.putArray("stop");
                for (int id : o.stop()) stop.add(id);
                v.put("new_tokens", GgufRoundTrip.NEW_TOKENS).put("vocab_size", model.config().vocabSize());
            }
        }
        ObjectNode request = Json.object();
        request.set("variants", variants);
        Files.writeString(out.resolve("request.json"), Json.writePretty(request));
        System.out.println("wrote " + out.resolve("request.json"));
    }

    private static String key(Quantization q) {
        return q.name().toLowerCase();
    }

    private static JsonNode recordedRoot() throws IOException {
        try (InputStream in = GgufQwen3ReferenceTest.class.getResourceAsStream(RESOURCE)) {
            assertThat(in).as(RESOURCE).isNotNull();
            return Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    private static JsonNode recorded(JsonNode root, String variant) {
        for (JsonNode v : root.path("variants")) if (v.path("variant").asText().equals(variant)) return v;
        throw new AssertionError(variant + " is not in " + RESOURCE);
    }

    private static int[] ints(JsonNode array) {
        assertThat(array).isNotNull();
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Little-endian float32, base64: how the tool stores a run of logits compactly. */
    private static float[] floats(String base64) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(base64)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
