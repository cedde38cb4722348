package dev.distill4j.embed;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/** DJL Hugging Face tokenizers built from tokenizer.json bytes, never padding, always offline. */
public final class HfTokenizers {
    static {
        // The native library ships in DJL's jar; offline mode keeps DJL from downloading or calling home.
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    private HfTokenizers() {}

    /** {@code maxLength} ≤ 0: no truncation. */
    public static HuggingFaceTokenizer load(byte[] tokenizerJson, boolean addSpecialTokens, int maxLength) throws IOException {
        Map<String, String> opts = new HashMap<>();
        opts.put("addSpecialTokens", Boolean.toString(addSpecialTokens));
        opts.put("padding", "false");
        opts.put("truncation", Boolean.toString(maxLength > 0));
        if (maxLength > 0) opts.put("maxLength", Integer.toString(maxLength));
        return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(tokenizerJson), opts);
    }

    /** Ids the tokenizer can produce: one past the largest id of its vocabulary and added tokens. */
    static int vocabSize(JsonNode tokenizerJson) {
        int vocab = 0;
        for (JsonNode id : tokenizerJson.path("model").path("vocab")) vocab = Math.max(vocab, id.asInt() + 1);
        for (JsonNode t : tokenizerJson.path("added_tokens")) vocab = Math.max(vocab, t.path("id").asInt() + 1);
        return vocab;
    }
}
