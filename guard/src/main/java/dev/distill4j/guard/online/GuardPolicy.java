package dev.distill4j.guard.online;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.serve.AccountGuard.Action;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The policy of {@code distill serve --guard POLICY}: which behaviour features are scored over each account's last
 * {@code window} requests, the threshold at which each fires, and what happens when enough fire. JSON, documented
 * in docs/guard.md ("Online mode"):
 *
 * <pre>{@code
 * {
 *   "window": 200, "min_requests": 20,
 *   "features": {"logprobs_share": 0.5, "temperature0_share": 0.8, "template_share": 0.5, "cot_share": 0.3},
 *   "levels": [
 *     {"fired": 2, "action": "flag"},
 *     {"fired": 3, "action": "throttle", "rpm": 10},
 *     {"fired": 4, "action": "block"}
 *   ]
 * }
 * }</pre>
 *
 * A feature left out of {@code features} is not scored. An account's action is that of the highest level whose
 * {@code fired} count its window meets, once the window holds at least {@code min_requests} requests.
 *
 * @param window      requests kept per account (the sliding window the features are computed over)
 * @param minRequests requests an account needs before any feature can fire
 * @param thresholds  the scored features and their thresholds
 * @param levels      by ascending {@code fired}, with strictly more severe actions
 */
public record GuardPolicy(int window, int minRequests, Map<Feature, Double> thresholds, List<Level> levels) {
    public static final int MAX_WINDOW = 10_000;

    /** A behaviour feature: its policy name, whether it fires at or above ({@code >=}) or at or below the threshold. */
    public enum Feature {
        /** Share of requests asking for token logprobs (distillation on soft labels needs them). */
        LOGPROBS_SHARE("logprobs_share", true),
        /** Share of requests sampling at temperature 0 (the teacher's argmax: clean labels). */
        TEMPERATURE0_SHARE("temperature0_share", true),
        /** Mean {@code n} (choices per request): many samples per prompt. */
        MEAN_N("mean_n", true),
        /** Share of requests with a near-duplicate (same template, other slots) earlier in the window. */
        TEMPLATE_SHARE("template_share", true),
        /** Share of requests whose query asks for the reasoning (chain-of-thought elicitation). */
        COT_SHARE("cot_share", true),
        /** Requests in the last 60 s. */
        RPM("rpm", true),
        /** Coefficient of variation of inter-arrival times (needs 20 requests): scripts are regular, people are not. */
        TIMING_CV("timing_cv", false);

        public final String key;
        public final boolean atLeast;

        Feature(String key, boolean atLeast) {
            this.key = key;
            this.atLeast = atLeast;
        }

        static Feature of(String key) {
            for (Feature f : values()) if (f.key.equals(key)) return f;
            return null;
        }

        public boolean fires(double value, double threshold) {
            return !Double.isNaN(value) && (atLeast ? value >= threshold : value <= threshold);
        }
    }

    /** A policy level: at least {@code fired} features fired means {@code action} ({@code rpm}: a throttle's cap). */
    public record Level(int fired, Action action, int rpm) {}

    public GuardPolicy {
        thresholds = Collections.unmodifiableMap(new EnumMap<>(thresholds));
        levels = List.copyOf(levels);
    }

    /** Reads and checks a policy file; every mistake is an {@link InvalidInputException} naming the file and field. */
    public static GuardPolicy read(Path file) throws IOException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidInputException("guard policy " + file + " is not valid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ")");
        }
        return parse(root, file.toString());
    }

    /** Checks a parsed policy; {@code where} names it in errors. */
    public static GuardPolicy parse(JsonNode root, String where) {
        if (root == null || !root.isObject()) throw bad(where, "must be a JSON object");
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!Set.of("window", "min_requests", "features", "levels", "description").contains(f)) {
                throw bad(where, "unknown field \"" + f + "\" (known: window, min_requests, features, levels)");
            }
        }
        int window = intField(root, "window", 200, where);
        if (window < 2 || window > MAX_WINDOW) throw bad(where, "\"window\" must be 2.." + MAX_WINDOW + ", got " + window);
        int min = intField(root, "min_requests", Math.min(20, window), where);
        if (min < 1 || min > window) {
            throw bad(where, "\"min_requests\" must be 1..window (" + window + "), got " + min);
        }
        JsonNode fs = root.get("features");
        if (fs == null || !fs.isObject() || fs.isEmpty()) {
            throw bad(where, "\"features\" must be an object of feature thresholds, e.g. {\"logprobs_share\": 0.5}");
        }
        Map<Feature, Double> thresholds = new EnumMap<>(Feature.class);
        for (var it = fs.fields(); it.hasNext(); ) {
            var e = it.next();
            Feature f = Feature.of(e.getKey());
            if (f == null) {
                List<String> known = new ArrayList<>();
                for (Feature k : Feature.values()) known.add(k.key);
                throw bad(where, "unknown feature \"" + e.getKey() + "\" (known: " + String.join(", ", known) + ")");
            }
            if (!e.getValue().isNumber()) throw bad(where, "feature \"" + f.key + "\" needs a number threshold");
            double t = e.getValue().asDouble();
            boolean share = f.key.endsWith("_share");
            if (share && (t <= 0 || t > 1)) throw bad(where, "\"" + f.key + "\" is a share: give 0 < threshold <= 1");
            if (!share && t <= 0) throw bad(where, "\"" + f.key + "\" needs a threshold > 0");
            if (f == Feature.RPM && t > window) {
                throw bad(where, "\"rpm\" " + t + " can never be seen in a window of " + window + " requests");
            }
            thresholds.put(f, t);
        }
        JsonNode ls = root.get("levels");
        if (ls == null || !ls.isArray() || ls.isEmpty()) {
            throw bad(where, "\"levels\" must be a non-empty array, e.g. [{\"fired\": 2, \"action\": \"flag\"}]");
        }
        List<Level> levels = new ArrayList<>();
        for (int i = 0; i < ls.size(); i++) {
            JsonNode l = ls.get(i);
            String at = "levels[" + i + "]";
            if (!l.isObject()) throw bad(where, at + " must be an object");
            int fired = intField(l, "fired", -1, where + " " + at);
            if (fired < 1 || fired > thresholds.size()) {
                throw bad(where, at + ".fired must be 1.." + thresholds.size() + " (the features scored), got " + fired);
            }
            String name = l.path("action").asText("");
            Action action = switch (name) {
                case "flag" -> Action.FLAG;
                case "throttle" -> Action.THROTTLE;
                case "block" -> Action.BLOCK;
                default -> throw bad(where, at + ".action must be \"flag\", \"throttle\" or \"block\", got \""
                        + name + "\"");
            };
            int rpm = 0;
            if (action == Action.THROTTLE) {
                rpm = intField(l, "rpm", -1, where + " " + at);
                if (rpm < 1) throw bad(where, at + " throttles: give \"rpm\" >= 1 (the cap)");
            } else if (l.has("rpm")) {
                throw bad(where, at + ".rpm is only for \"throttle\"");
            }
            if (!levels.isEmpty()) {
                Level prev = levels.getLast();
                if (fired <= prev.fired() || action.compareTo(prev.action()) <= 0) {
                    throw bad(where, at + " must need more features and act more severely than the level before");
                }
            }
            levels.add(new Level(fired, action, rpm));
        }
        return new GuardPolicy(window, min, thresholds, levels);
    }

    private static int intField(JsonNode o, String field, int dflt, String where) {
        JsonNode v = o.get(field);
        if (v == null) {
            if (dflt < 0) throw bad(where, "\"" + field + "\" is required");
            return dflt;
        }
        if (!v.isIntegralNumber()) throw bad(where, "\"" + field + "\" must be an integer, got " + v);
        return v.asInt();
    }

    private static InvalidInputException bad(String where, String what) {
        return new InvalidInputException("guard policy " + where + ": " + what);
    }

    /** The level an account with {@code fired} features fired is at: its action, ALLOW below every level. */
    public Level levelFor(int fired) {
        Level at = null;
        for (Level l : levels) if (fired >= l.fired()) at = l;
        return at;
    }

    /** A few lines for the startup output. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append("guard policy: the last ").append(window).append(" requests of each account, from ")
                .append(minRequests).append(" on\n  features: ");
        List<String> fs = new ArrayList<>();
        thresholds.forEach((f, t) -> fs.add(f.key + (f.atLeast ? " >= " : " <= ") + num(t)));
        sb.append(String.join(", ", fs)).append("\n  levels:");
        for (Level l : levels) {
            sb.append(' ').append(l.fired()).append("+ fired -> ").append(l.action().wireName());
            if (l.action() == Action.THROTTLE) sb.append(" (").append(l.rpm()).append(" rpm)");
            sb.append(';');
        }
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }

    static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        // three significant digits, without trailing zeros: 0.5, 0.875, 12.3
        return new java.math.BigDecimal(String.format(Locale.ROOT, "%.3g", v)).stripTrailingZeros().toPlainString();
    }
}
