package dev.distill4j.guard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.local.LocalModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Samples the house teacher in-process at temperature 1 (no top-k/top-p, up to 96 new tokens, the demo's answer
 * length), plainly or watermarked ({@code LocalModel.setTokenChooser(Watermark.of(key))}), in batches of 64, and
 * writes the answers with their prompt ids ({@link Bench.Sample}).
 *
 * <pre>  TeacherSamples TEACHER_DIR PROMPTS.jsonl[,MORE.jsonl] OUT.jsonl none|SCHEME SECONDS [MAX_PROMPTS]</pre>
 *
 * Prompts are demo prompt files ({@code messages} + {@code metadata.answer}) or gold files ({@code prompt} +
 * {@code answer}). It stops after SECONDS or MAX_PROMPTS answers; {@code none} cycles through the prompts again
 * (with another seed) when time is left, a watermark does not (Gumbel would repeat its answers). SCHEME is a name of
 * {@link Bench#schemes}; its key is the benchmark's key 0 of that scheme (seeded, so reruns agree), or key N with
 * {@code -DkeyIndex=N}.
 */
public final class TeacherSamples {
    public static void main(String[] a) throws Exception {
        Path teacher = Path.of(a[0]);
        record Prompt(String id, String kind, String gold, List<Message> messages) {}
        List<Prompt> prompts = new ArrayList<>();
        for (String f : a[1].split(",")) {
            for (String line : Files.readAllLines(Path.of(f))) {
                if (line.isBlank()) continue;
                JsonNode o = Json.parse(line);
                List<Message> msgs = new ArrayList<>();
                if (o.has("messages")) {
                    for (JsonNode m : o.get("messages")) msgs.add(new Message(m.get("role").asText(), m.get("content").asText()));
                } else {
                    msgs.add(new Message("user", o.get("prompt").asText()));
                }
                JsonNode meta = o.has("metadata") ? o.get("metadata") : o;
                prompts.add(new Prompt(o.path("id").asText(), meta.path("kind").asText(), meta.path("answer").asText(), msgs));
            }
        }
        Path out = Path.of(a[2]);
        String scheme = a[3];
        long budget = (long) (Double.parseDouble(a[4]) * 1e9);
        int max = a.length > 5 ? Integer.parseInt(a[5]) : Integer.MAX_VALUE;
        List<Bench.Sample> samples = new ArrayList<>();
        long t0 = System.nanoTime(), tokens = 0;
        try (LocalModel m = LocalModel.load(teacher)) {
            if (!scheme.equals("none")) {
                WatermarkKey base = Bench.schemes(m.tokenizer()).get(scheme);
                if (base == null) throw new IllegalArgumentException("unknown scheme " + scheme + "; one of " + Bench.schemes(m.tokenizer()).keySet());
                m.setTokenChooser(Bench.watermark(base, scheme.hashCode(), Long.getLong("keyIndex", 0)));
            }
            Set<Integer> eos = Set.copyOf(m.eosTokenIds());
            int batch = 64, round = 0;
            outer:
            while (true) {
                for (int i = 0; i < prompts.size(); i += batch) {
                    if (System.nanoTime() - t0 > budget || samples.size() >= max) break outer;
                    List<Prompt> ps = prompts.subList(i, Math.min(prompts.size(), i + batch));
                    List<int[]> ids = ps.stream().map(p -> m.encodeChat(p.messages())).toList();
                    SamplingParams params = new SamplingParams(96, 1.0, 0, 1.0, 1000L * round + i, m.eosTokenIds(),
                            List.of(), 0);
                    List<Generation> gs = m.generator().generate(ids, params);
                    for (int j = 0; j < ps.size(); j++) {
                        int[] g = gs.get(j).tokenIds();
                        int n = g.length;
                        while (n > 0 && eos.contains(g[n - 1])) n--;
                        Prompt p = ps.get(j);
                        samples.add(new Bench.Sample(p.id() + (round == 0 ? "" : "#" + round), p.kind(), p.gold(),
                                ids.get(j), Arrays.copyOf(g, n), gs.get(j).text()));
                        tokens += n;
                    }
                }
                if (!scheme.equals("none")) break;
                round++;
            }
        }
        Bench.writeSamples(out, samples);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "%s: %d answers, %d tokens in %.0f s (%.0f tokens/s) -> %s%n", scheme,
                samples.size(), tokens, s, tokens / s, out);
    }
}
