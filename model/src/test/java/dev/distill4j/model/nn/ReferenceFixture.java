package dev.distill4j.model.nn;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.ModelConfig;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** One family's checkpoint and reference outputs from tools/reference/reference.py. */
public record ReferenceFixture(ModelConfig config, Path dir, JsonNode reference) {

    public static ReferenceFixture load(String family) throws IOException {
        Path dir;
        try {
            dir = Path.of(ReferenceFixture.class.getResource("/reference/" + family + "/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        return new ReferenceFixture(ModelConfig.read(dir), dir,
                Json.MAPPER.readTree(dir.resolve("reference.json").toFile()));
    }

    public CausalLM model(NDManager m) throws IOException {
        return CausalLM.fromWeights(config, TestSafetensors.read(dir.resolve("model.safetensors"), m), m);
    }

    public int[][] ints(String field) {
        JsonNode n = reference.get(field);
        int[][] out = new int[n.size()][];
        for (int i = 0; i < n.size(); i++) {
            out[i] = new int[n.get(i).size()];
            for (int j = 0; j < out[i].length; j++) out[i][j] = n.get(i).get(j).asInt();
        }
        return out;
    }

    /** Reference logits [B][T][V]. */
    public double[][][] logits() {
        JsonNode n = reference.get("logits");
        double[][][] out = new double[n.size()][][];
        for (int b = 0; b < n.size(); b++) {
            out[b] = new double[n.get(b).size()][];
            for (int t = 0; t < out[b].length; t++) {
                JsonNode row = n.get(b).get(t);
                out[b][t] = new double[row.size()];
                for (int v = 0; v < row.size(); v++) out[b][t][v] = row.get(v).asDouble();
            }
        }
        return out;
    }
}
