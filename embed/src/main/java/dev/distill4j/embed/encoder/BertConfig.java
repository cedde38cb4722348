package dev.distill4j.embed.encoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import java.io.IOException;

/** The shape of a BERT encoder, in Hugging Face {@code BertConfig}'s terms. */
public record BertConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                         int maxPositionEmbeddings, int typeVocabSize, double layerNormEps) {
    public BertConfig {
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden size " + hiddenSize + " is not a multiple of " + numAttentionHeads + " heads");
        }
    }

    public int headDim() { return hiddenSize / numAttentionHeads; }

    public BertConfig withLayers(int layers) {
        return new BertConfig(vocabSize, hiddenSize, layers, numAttentionHeads, intermediateSize, maxPositionEmbeddings,
                typeVocabSize, layerNormEps);
    }

    public BertConfig withIntermediateSize(int width) {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, width, maxPositionEmbeddings,
                typeVocabSize, layerNormEps);
    }

    /** HF's config.json fields for {@code BertModel}, so transformers and sentence-transformers load the folder. */
    public ObjectNode toJson() {
        ObjectNode n = Json.object();
        n.putArray("architectures").add("BertModel");
        n.put("model_type", "bert");
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("num_hidden_layers", numHiddenLayers);
        n.put("num_attention_heads", numAttentionHeads);
        n.put("intermediate_size", intermediateSize);
        n.put("hidden_act", "gelu");
        n.put("hidden_dropout_prob", 0.1);
        n.put("attention_probs_dropout_prob", 0.1);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("type_vocab_size", typeVocabSize);
        n.put("initializer_range", 0.02);
        n.put("layer_norm_eps", layerNormEps);
        n.put("pad_token_id", 0);
        n.put("position_embedding_type", "absolute");
        n.put("torch_dtype", "float32");
        return n;
    }

    public static BertConfig fromJson(JsonNode n) throws IOException {
        if (!"bert".equals(n.path("model_type").asText())) {
            throw new IOException("config.json has model_type '" + n.path("model_type").asText() + "', not 'bert'");
        }
        if (!"gelu".equals(n.path("hidden_act").asText("gelu")) || !"absolute".equals(n.path("position_embedding_type").asText("absolute"))) {
            throw new IOException("only BERT with GELU and absolute positions is supported");
        }
        return new BertConfig(need(n, "vocab_size"), need(n, "hidden_size"), need(n, "num_hidden_layers"),
                need(n, "num_attention_heads"), need(n, "intermediate_size"), need(n, "max_position_embeddings"),
                n.path("type_vocab_size").asInt(2), n.path("layer_norm_eps").asDouble(1e-12));
    }

    private static int need(JsonNode n, String field) throws IOException {
        if (!n.path(field).canConvertToInt()) throw new IOException("config.json lacks '" + field + "'");
        return n.path(field).asInt();
    }
}
