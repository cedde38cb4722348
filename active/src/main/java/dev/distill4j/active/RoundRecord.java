package dev.distill4j.active;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One finished round, as {@code active/rounds.jsonl} logs it.
 *
 * @param round            1-based
 * @param select           what it bought by (uniform for a pilot)
 * @param candidates       pool prompts the student scored (0 when nothing was scored: uniform)
 * @param bought           prompts whose answers this round bought
 * @param roundUsd         what this round spent
 * @param trainingUsd      spend on training prompts so far (the x axis of an agreement-against-spend curve)
 * @param heldOutUsd       spend on the held-out set (bought once, before round 1)
 * @param totalUsd         everything the run has spent
 * @param trainingPrompts  training prompts with an answer after this round
 * @param meanScoreBought  mean of the round's score over what it bought (NaN for uniform)
 * @param meanScorePool    mean of the round's score over every candidate scored (NaN for uniform)
 * @param heldOutAgreement the retrained student's top-1 agreement with the teacher on the held-out answers
 * @param heldOutLoss      its held-out training loss
 * @param heldOutKl        its held-out KL to the teacher's top-k (NaN for text-only teachers)
 * @param trainSteps       optimizer steps of this round
 * @param probeSeconds     seconds the student spent scoring candidates
 * @param harvestSeconds   seconds the purchase took
 * @param trainSeconds     seconds of training
 * @param calibration      the pilot's Spearman ρ per score (empty except on a pilot round)
 * @param student          the retrained student's folder
 */
public record RoundRecord(int round, String select, int candidates, int bought, double roundUsd, double trainingUsd,
                          double heldOutUsd, double totalUsd, int trainingPrompts, double meanScoreBought,
                          double meanScorePool, double heldOutAgreement, double heldOutLoss, double heldOutKl,
                          long trainSteps, double probeSeconds, double harvestSeconds, double trainSeconds,
                          Map<String, Double> calibration, String student) {

    public ObjectNode toJson() {
        ObjectNode o = Json.object().put("round", round).put("select", select).put("candidates", candidates)
                .put("bought", bought).put("round_usd", roundUsd).put("training_usd", trainingUsd)
                .put("heldout_usd", heldOutUsd).put("total_usd", totalUsd).put("training_prompts", trainingPrompts);
        num(o, "mean_score_bought", meanScoreBought);
        num(o, "mean_score_pool", meanScorePool);
        num(o, "heldout_agreement", heldOutAgreement);
        num(o, "heldout_loss", heldOutLoss);
        num(o, "heldout_kl", heldOutKl);
        o.put("train_steps", trainSteps).put("probe_seconds", probeSeconds).put("harvest_seconds", harvestSeconds)
                .put("train_seconds", trainSeconds);
        if (!calibration.isEmpty()) {
            ObjectNode c = o.putObject("calibration_spearman");
            calibration.forEach((k, v) -> num(c, k, v));
        }
        return o.put("student", student);
    }

    public static RoundRecord fromJson(JsonNode o) {
        Map<String, Double> cal = new LinkedHashMap<>();
        o.path("calibration_spearman").properties().forEach(e -> cal.put(e.getKey(), dbl(e.getValue())));
        return new RoundRecord(o.path("round").asInt(), o.path("select").asText(), o.path("candidates").asInt(),
                o.path("bought").asInt(), o.path("round_usd").asDouble(), o.path("training_usd").asDouble(),
                o.path("heldout_usd").asDouble(), o.path("total_usd").asDouble(), o.path("training_prompts").asInt(),
                dbl(o.path("mean_score_bought")), dbl(o.path("mean_score_pool")), dbl(o.path("heldout_agreement")),
                dbl(o.path("heldout_loss")), dbl(o.path("heldout_kl")), o.path("train_steps").asLong(),
                o.path("probe_seconds").asDouble(), o.path("harvest_seconds").asDouble(),
                o.path("train_seconds").asDouble(), cal, o.path("student").asText());
    }

    /** NaN is not JSON: it is written as null and read back as NaN. */
    private static void num(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }

    private static double dbl(JsonNode n) { return n == null || n.isNull() || n.isMissingNode() ? Double.NaN : n.asDouble(); }
}
