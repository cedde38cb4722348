package dev.distill4j.guard.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.watermark.Watermark;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a radioactivity audit found: the scored tuples, their mean score against the null mean, the exact pooled
 * p-value, and how many positions each filter removed. {@code extra} holds the mode's own counts (open: predictions
 * that equal the text's token; closed: prompts, requests, answers, answer tokens).
 *
 * <p>The p-value is P(a suspect never trained on the watermarked texts scores at least this much), exact under the
 * assumptions of {@code docs/guard-audit.md}: a small one says the suspect learned the watermark, i.e. it was
 * trained (or fine-tuned, or distilled) on the watermarked texts.
 */
public record AuditReport(Mode mode, String keyId, String scheme, Map<String, Object> params, String scoreName,
                          double nullMean, String suspect, int texts, long positions, long scored, double totalScore,
                          PValue pValue, Map<Filter, Long> filtered, Map<String, Long> extra) {
    public enum Mode {
        OPEN("open"), CLOSED("closed");

        public final String id;

        Mode(String id) { this.id = id; }
    }

    /** The default significance level of the verdict. */
    public static final double DEFAULT_ALPHA = 1e-3;

    public AuditReport {
        params = new TreeMap<>(params);
        filtered = new EnumMap<>(filtered);
        extra = new LinkedHashMap<>(extra);
    }

    static AuditReport of(Mode mode, Watermark wm, String suspect, int texts, Tally tally, Map<String, Long> extra) {
        return new AuditReport(mode, wm.key().keyId(), wm.key().scheme().id, wm.key().params(), wm.scoreName(),
                wm.nullMean(), suspect, texts, tally.positions(), tally.scored(), tally.total(),
                wm.pValue(tally.total(), tally.scored()), tally.filtered(), extra);
    }

    /** The mean score of the scored tuples (NaN when none were scored). */
    public double meanScore() { return scored == 0 ? Double.NaN : totalScore / scored; }

    /** True when the p-value is below {@code alpha}. */
    public boolean radioactive(double alpha) { return pValue.ln() < Math.log(alpha); }

    /** "radioactive" or "no evidence". */
    public String verdict(double alpha) { return radioactive(alpha) ? "radioactive" : "no evidence"; }

    /** The human summary: verdict, p-value, then the evidence lines. */
    public List<String> summary(double alpha) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "verdict: %s (p = %s, alpha = %s)", verdict(alpha), pValue,
                java.math.BigDecimal.valueOf(alpha).stripTrailingZeros().toPlainString()));
        lines.add(radioactive(alpha)
                ? "  the suspect's " + (mode == Mode.OPEN ? "predictions" : "answers") + " favour the watermark's "
                        + "keyed choices: it was trained on text carrying this watermark"
                : "  no sign at this level that the suspect was trained on text carrying this watermark");
        lines.add(String.format(Locale.ROOT, "mode: %s; suspect: %s; key %s (%s %s)", mode.id, suspect, keyId,
                scheme, params));
        lines.add(String.format(Locale.ROOT, "scored tuples: %d of %d positions in %d watermarked texts", scored,
                positions, texts));
        lines.add(String.format(Locale.ROOT, "%s: %s vs %s expected without the watermark (log10 p = %.2f)",
                scoreName, scored == 0 ? "n/a" : String.format(Locale.ROOT, "%.4f", meanScore()),
                String.format(Locale.ROOT, "%.4f", nullMean), pValue.log10()));
        for (Map.Entry<Filter, Long> f : filtered.entrySet()) {
            if (f.getValue() > 0) lines.add(String.format(Locale.ROOT, "not scored: %d, %s", f.getValue(), f.getKey().label));
        }
        for (Map.Entry<String, Long> e : extra.entrySet()) {
            lines.add(e.getKey().replace('_', ' ') + ": " + e.getValue());
        }
        return lines;
    }

    /** {@code --json}: every figure, p as a number (0 when it underflows) and as its log10, which never does. */
    public ObjectNode toJson(double alpha) {
        ObjectNode o = Json.object();
        o.put("mode", mode.id);
        o.put("verdict", verdict(alpha));
        o.put("radioactive", radioactive(alpha));
        o.put("alpha", alpha);
        o.put("p_value", pValue.value());
        o.put("log10_p_value", pValue.log10());
        o.put("p_value_text", pValue.toString());
        o.put("suspect", suspect);
        ObjectNode key = o.putObject("key");
        key.put("key_id", keyId);
        key.put("scheme", scheme);
        key.set("params", Json.MAPPER.valueToTree(params));
        o.put("texts", texts);
        o.put("positions", positions);
        o.put("scored", scored);
        o.put("score_name", scoreName);
        o.put("total_score", totalScore);
        if (scored > 0) o.put("mean_score", meanScore());
        else o.putNull("mean_score");
        o.put("null_mean", nullMean);
        ObjectNode f = o.putObject("filtered");
        for (Map.Entry<Filter, Long> e : filtered.entrySet()) f.put(e.getKey().id, e.getValue());
        for (Map.Entry<String, Long> e : extra.entrySet()) o.put(e.getKey(), e.getValue());
        return o;
    }
}
