package dev.distill4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The trainer's {@code metrics.jsonl} as series of (step, value): training lines carry {@code loss}, evaluation
 * lines {@code eval_loss}, {@code eval_top1_agreement}, {@code eval_kl}. Lines that are not JSON objects with a
 * numeric {@code step} (a line cut by a kill) are skipped.
 */
public record TrainingLog(Map<String, List<double[]>> series) {
    public static final String FILE = "metrics.jsonl";
    static final List<String> KEYS = List.of("loss", "eval_loss", "eval_top1_agreement", "eval_kl");

    /** The {@value #FILE} in {@code dir}; empty when there is none. */
    public static TrainingLog read(Path dir) throws IOException {
        return readFile(dir.resolve(FILE));
    }

    public static TrainingLog empty() {
        Map<String, List<double[]>> out = new LinkedHashMap<>();
        for (String k : KEYS) out.put(k, new ArrayList<>());
        return new TrainingLog(out);
    }

    /** A metrics file; empty when it does not exist. */
    public static TrainingLog readFile(Path f) throws IOException {
        Map<String, List<double[]>> out = empty().series();
        if (!Files.isRegularFile(f)) return new TrainingLog(out);
        try (BufferedReader r = Files.newBufferedReader(f)) {
            String line;
            while ((line = r.readLine()) != null) {
                JsonNode n;
                try {
                    n = Json.MAPPER.readTree(line);
                } catch (IOException e) {
                    continue;
                }
                if (n == null || !n.isObject() || !n.path("step").isNumber()) continue;
                double step = n.get("step").asDouble();
                for (String k : KEYS) {
                    JsonNode v = n.get(k);
                    if (v != null && v.isNumber() && Double.isFinite(v.asDouble())) {
                        out.get(k).add(new double[] {step, v.asDouble()});
                    }
                }
            }
        }
        return new TrainingLog(out);
    }

    public List<double[]> get(String key) { return series.getOrDefault(key, List.of()); }

    public boolean isEmpty() { return series.values().stream().allMatch(List::isEmpty); }
}
