package dev.distill4j.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Content keys. A sample's key hashes everything that decides what the teacher would answer: the prompt (id and
 * content), the teacher (provider, model, endpoint: not the base URL, so a run survives a proxy or a new local port),
 * the sampling parameters and the sample index. Same key = same request, so a re-run skips it; any change = new key.
 */
public final class SampleKey {
    private SampleKey() {}

    public static String of(Prompt prompt, String provider, String model, String endpoint, JsonNode sampling,
                            int sampleIndex) {
        ObjectNode n = Json.object();
        n.put("v", 1);
        n.put("prompt_id", prompt.id());
        n.set("prompt", promptContent(prompt));
        n.put("provider", provider);
        n.put("model", model);
        n.put("endpoint", endpoint);
        n.set("sampling", sampling);
        n.put("index", sampleIndex);
        return sha256Hex(Json.write(n)).substring(0, 32);
    }

    /**
     * An embedding's key: the text and what decides its vector (teacher provider, model, requested dimensions, 0 for
     * the model's own). Not the base URL, as for samples, and not the encoding, which does not change the floats.
     */
    public static String embedding(String provider, String model, int requestedDims, String text) {
        ObjectNode n = Json.object();
        n.put("v", 1);
        n.put("kind", "embedding");
        n.put("provider", provider);
        n.put("model", model);
        n.put("dims", requestedDims);
        n.put("text", text);
        return sha256Hex(Json.write(n)).substring(0, 32);
    }

    /** The prompt's content as canonical JSON (text, or the list of role/content pairs). */
    public static JsonNode promptContent(Prompt prompt) {
        if (!prompt.isChat()) return Json.MAPPER.getNodeFactory().textNode(prompt.text());
        var a = Json.array();
        for (Message m : prompt.messages()) a.addObject().put("role", m.role()).put("content", m.content());
        return a;
    }

    /** A stable id for a prompt line that has none: a hash of its content. */
    public static String promptId(Prompt contentOnly) {
        return "p-" + sha256Hex(Json.write(promptContent(contentOnly))).substring(0, 16);
    }

    public static String sha256Hex(String s) {
        return sha256Hex(s.getBytes(StandardCharsets.UTF_8));
    }

    public static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
