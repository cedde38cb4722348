package dev.distill4j.guard.detect;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import java.util.TreeMap;

/**
 * A detection {@link Detector.Report} as one JSON document ({@code distill guard detect --json}). Every p-value is
 * given three ways, because strong evidence underflows a double: {@code p_value} (a number, 0 below 1e-308),
 * {@code log10_p_value} (exact at any magnitude) and {@code p_value_text} ("1.7e-412"). The key's public id and
 * parameters are included; its secret never is.
 *
 * <pre>{@code
 * {"key_id": "…", "scheme": "kgw", "params": {…}, "tokenizer": "…", "score": "green fraction", "null_mean": 0.25,
 *  "texts": [{"id", "tokens", "scored", "skipped", "mean_score", "p_value", "log10_p_value", "p_value_text",
 *             "passage": {"from_token", "to_token", "scored", "char_start", "text", "mean_score", "p_value", …,
 *                         "corrected_p_value", …, "windows_compared"}}],
 *  "pooled": {"texts", "tokens", "scored", "skipped", "mean_score", "p_value", "log10_p_value", "p_value_text"}}
 * }</pre>
 */
public final class ReportJson {
    private ReportJson() {}

    public static ObjectNode of(Detector.Report report, Watermark wm) {
        WatermarkKey key = wm.key();
        ObjectNode o = Json.object();
        o.put("key_id", key.keyId());
        o.put("scheme", key.scheme().id);
        o.set("params", Json.MAPPER.valueToTree(new TreeMap<>(key.params())));
        o.put("tokenizer", key.tokenizer().sha256());
        o.put("score", wm.scoreName());
        o.put("null_mean", wm.nullMean());
        var texts = o.putArray("texts");
        for (Detector.TextResult t : report.texts()) {
            ObjectNode n = texts.addObject();
            n.put("id", t.id());
            n.put("tokens", t.tokens());
            n.put("scored", t.scored());
            n.put("skipped", t.skipped());
            number(n, "mean_score", t.meanScore());
            pValue(n, "", t.pValue());
            if (t.passage() != null) {
                Localizer.Passage p = t.passage();
                ObjectNode q = n.putObject("passage");
                q.put("from_scored", p.from());
                q.put("to_scored", p.to());
                q.put("scored", p.to() - p.from());
                q.put("char_start", t.passageCharStart());
                q.put("text", t.passageText());
                number(q, "mean_score", p.meanScore());
                pValue(q, "", p.pValue());
                pValue(q, "corrected_", p.corrected());
                q.put("windows_compared", p.windowsCompared());
            } else {
                n.putNull("passage");
            }
        }
        Detector.Pooled p = report.pooled();
        ObjectNode q = o.putObject("pooled");
        q.put("texts", p.texts());
        q.put("tokens", p.tokens());
        q.put("scored", p.scored());
        q.put("skipped", p.skipped());
        number(q, "mean_score", p.meanScore());
        pValue(q, "", p.pValue());
        return o;
    }

    private static void pValue(ObjectNode n, String prefix, PValue p) {
        n.put(prefix + "p_value", p.value());
        number(n, prefix + "log10_p_value", p.log10());
        n.put(prefix + "p_value_text", p.toString());
    }

    /** NaN (no scored tokens) and −∞ (an impossible observation) are not JSON numbers: null. */
    private static void number(ObjectNode n, String field, double v) {
        if (Double.isFinite(v)) n.put(field, v);
        else n.putNull(field);
    }
}
