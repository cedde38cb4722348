package dev.distill4j.guard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** What the guard benchmarks share: the four schemes under test, reproducible keys, the sample files. */
final class Bench {
    private Bench() {}

    /** The schemes of the benchmark with their default parameters, by report name. */
    static Map<String, WatermarkKey> schemes(TextTokenizer tok) {
        Map<String, WatermarkKey> m = new LinkedHashMap<>();
        m.put("kgw-left-h1", WatermarkKey.generate(WatermarkKey.Scheme.KGW, Map.of(), tok));
        m.put("kgw-self-h4", WatermarkKey.generate(WatermarkKey.Scheme.KGW, Map.of("hash", "self"), tok));
        m.put("gumbel-h4", WatermarkKey.generate(WatermarkKey.Scheme.GUMBEL, Map.of(), tok));
        m.put("synthid-m30-h4", WatermarkKey.generate(WatermarkKey.Scheme.SYNTHID, Map.of(), tok));
        return m;
    }

    /**
     * The key of test {@code index}: {@code base}'s scheme and parameters with a secret drawn from a generator seeded
     * by (seed, index), so every test has its own independent key and a rerun gets the same ones.
     */
    static Watermark watermark(WatermarkKey base, long seed, long index) {
        byte[] secret = new byte[WatermarkKey.SECRET_BYTES];
        new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index).nextBytes(secret);
        return Watermark.of(new WatermarkKey(base.scheme(), base.params(), base.tokenizer(), secret));
    }

    /** A generated answer: its prompt's ids (the chat template applied), its own ids (no EOS) and text. */
    record Sample(String id, String kind, String gold, int[] promptIds, int[] ids, String text) {}

    static void writeSamples(Path file, List<Sample> samples) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Sample s : samples) {
            ObjectNode o = Json.object();
            o.put("id", s.id());
            o.put("kind", s.kind());
            o.put("gold", s.gold());
            o.set("prompt_ids", Json.MAPPER.valueToTree(s.promptIds()));
            o.set("ids", Json.MAPPER.valueToTree(s.ids()));
            o.put("text", s.text());
            sb.append(Json.write(o)).append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    static List<Sample> readSamples(Path file) throws IOException {
        List<Sample> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) continue;
            JsonNode o = Json.parse(line);
            out.add(new Sample(o.path("id").asText(), o.path("kind").asText(), o.path("gold").asText(),
                    ints(o.path("prompt_ids")), ints(o.path("ids")), o.path("text").asText()));
        }
        return out;
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }

    static int threads() { return Integer.getInteger("threads", 2); }
}
