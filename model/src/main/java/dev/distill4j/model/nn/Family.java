package dev.distill4j.model.nn;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.config.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * What differs between the supported families, decided once from the config so the layer code has no
 * {@code modelType} switches.
 *
 * <pre>
 *   family   q/k/v bias        o bias            q/k norm   sliding window
 *   llama    attention_bias    attention_bias    no         no
 *   mistral  no                no                no         sliding_window (all layers)
 *   qwen2    always            no                no         no
 *   qwen3    attention_bias    attention_bias    yes        no
 * </pre>
 *
 * @param qkvBias       q/k/v projections carry biases
 * @param oBias         the output projection carries a bias
 * @param qkNorm        RMSNorm over head_dim on each query and key head, before RoPE (qwen3)
 * @param slidingWindow a query at position i sees keys j with i − j &lt; window; null for full causal attention
 */
public record Family(boolean qkvBias, boolean oBias, boolean qkNorm, Integer slidingWindow) {

    /** Reads the family's options and rejects the ones this implementation would silently get wrong. */
    public static Family of(ModelConfig c) {
        List<String> unsupported = new ArrayList<>();
        JsonNode raw = c.raw();
        String act = raw.path("hidden_act").asText("silu");
        if (!act.equals("silu")) unsupported.add("hidden_act=" + act + " (only silu)");
        if (raw.path("mlp_bias").asBoolean(false)) unsupported.add("mlp_bias=true");
        if (raw.has("partial_rotary_factor") && raw.get("partial_rotary_factor").asDouble() != 1.0) {
            unsupported.add("partial_rotary_factor=" + raw.get("partial_rotary_factor").asText());
        }
        if (c.headDim() % 2 != 0) unsupported.add("head_dim=" + c.headDim() + " (RoPE needs an even head_dim)");
        Family f = switch (c.modelType()) {
            case "llama" -> new Family(c.attentionBias(), c.attentionBias(), false, null);
            case "mistral" -> {
                if (c.attentionBias()) unsupported.add("attention_bias=true (mistral has none)");
                yield new Family(false, false, false, c.slidingWindow());
            }
            case "qwen2" -> new Family(true, false, false, null);
            case "qwen3" -> new Family(c.attentionBias(), c.attentionBias(), true, null);
            default -> throw new InvalidInputException("model_type '" + c.modelType()
                    + "' is not supported (supported: llama, mistral, qwen2, qwen3)");
        };
        if (c.slidingWindow() != null && !c.modelType().equals("mistral")) {
            // qwen2/qwen3 apply the window only to layers >= max_window_layers; not implemented
            unsupported.add("sliding_window with model_type " + c.modelType() + " (only mistral)");
        }
        if (!unsupported.isEmpty()) {
            throw new InvalidInputException("unsupported " + c.modelType() + " config options: "
                    + String.join(", ", unsupported) + "; use a model without them");
        }
        return f;
    }
}
