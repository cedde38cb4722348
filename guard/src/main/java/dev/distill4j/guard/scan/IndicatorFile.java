package dev.distill4j.guard.scan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes indicator files (format {@value Indicators#FORMAT}, version {@value Indicators#VERSION}; the
 * fields are documented in docs/guard.md, "Indicator files"). Writes are atomic; reads check every field and name
 * the file and the field in their error.
 */
public final class IndicatorFile {
    private IndicatorFile() {}

    public static void write(Indicators ind, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        AtomicFiles.writeString(file, Json.writePretty(json(ind)) + "\n");
    }

    public static ObjectNode json(Indicators ind) {
        ObjectNode o = Json.object();
        o.put("format", Indicators.FORMAT);
        o.put("version", Indicators.VERSION);
        if (ind.source() != null) o.put("source", ind.source());
        o.put("created", ind.created().toString());
        ObjectNode fp = o.putObject("fingerprint");
        fp.put("skeleton", "lower case, digit runs masked as <n>, split into words and punctuation");
        fp.put("shingles", "word 2-shingles with ^ and $ markers, FNV-1a 64 then SplitMix64");
        fp.put("minhash_values", Templates.HASHES);
        fp.put("match_similarity", Templates.SIMILARITY);
        ObjectNode emb = o.putObject("embedder");
        emb.put("name", ind.embedder());
        emb.put("dimension", ind.dimension());
        ArrayNode list = o.putArray("indicators");
        for (Indicators.Indicator i : ind.list()) {
            ObjectNode n = list.addObject();
            n.put("id", i.id());
            n.put("kind", i.kind());
            n.put("accounts", i.accounts());
            n.put("requests", i.requests());
            n.put("first_seen", i.firstSeen().toString());
            n.put("last_seen", i.lastSeen().toString());
            ArrayNode ts = n.putArray("templates");
            for (Indicators.Template t : i.templates()) {
                ObjectNode x = ts.addObject();
                x.put("queries", t.queries());
                ArrayNode mh = x.putArray("minhash");
                for (long v : t.minhash()) mh.add(HexFormat.of().toHexDigits(v));
            }
            if (i.centroid() == null) {
                n.putNull("centroid");
            } else {
                ArrayNode c = n.putArray("centroid");
                for (float v : i.centroid()) c.add(Math.round(v * 1e6) / 1e6);
            }
            num(n, "spread", i.spread());
            num(n, "match_cosine", i.matchCosine());
            if (i.calibration() == null) {
                n.putNull("calibration");
            } else {
                Indicators.Calibration c = i.calibration();
                ObjectNode x = n.putObject("calibration");
                x.put("subset", c.subset());
                x.put("draws", c.draws());
                x.put("benign_queries", c.benignQueries());
                num(x, "benign_max", c.benignMax());
                num(x, "campaign_recall", c.campaignRecall());
            }
            ObjectNode b = n.putObject("behaviour");
            for (var e : i.behaviour().entrySet()) {
                ObjectNode x = b.putObject(e.getKey());
                num(x, "value", e.getValue().value());
                num(x, "min", e.getValue().min());
                num(x, "max", e.getValue().max());
            }
        }
        return o;
    }

    /** Reads and checks an indicator file. @throws IllegalArgumentException naming the file and the bad field */
    public static Indicators read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no such indicator file: " + file);
        JsonNode o;
        try {
            o = Json.MAPPER.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not JSON (" + e.getOriginalMessage() + ")");
        }
        try {
            return parse(o);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
    }

    static Indicators parse(JsonNode o) {
        if (o == null || !o.isObject()) throw new IllegalArgumentException("not a JSON object");
        if (!Indicators.FORMAT.equals(o.path("format").asText(null))) {
            throw new IllegalArgumentException("\"format\" is " + o.get("format") + ", expected \""
                    + Indicators.FORMAT + "\"");
        }
        if (!o.path("version").isInt() || o.get("version").asInt() != Indicators.VERSION) {
            throw new IllegalArgumentException("\"version\" " + o.get("version") + " is not supported (this reader "
                    + "reads version " + Indicators.VERSION + ")");
        }
        int hashes = intField(o.path("fingerprint").path("minhash_values"), "fingerprint.minhash_values");
        if (hashes != Templates.HASHES) {
            throw new IllegalArgumentException("fingerprint.minhash_values is " + hashes + ", this reader uses "
                    + Templates.HASHES);
        }
        String embedder = text(o.path("embedder"), "name", "embedder.name");
        int dim = intField(o.path("embedder").path("dimension"), "embedder.dimension");
        if (dim < 1) throw new IllegalArgumentException("embedder.dimension must be positive");
        JsonNode list = o.get("indicators");
        if (list == null || !list.isArray()) throw new IllegalArgumentException("\"indicators\" must be a list");
        List<Indicators.Indicator> out = new ArrayList<>();
        for (int k = 0; k < list.size(); k++) {
            JsonNode n = list.get(k);
            String at = "indicators[" + k + "].";
            List<Indicators.Template> ts = new ArrayList<>();
            JsonNode tl = n.path("templates");
            if (!tl.isArray()) throw new IllegalArgumentException(at + "templates must be a list");
            for (int t = 0; t < tl.size(); t++) {
                JsonNode mh = tl.get(t).path("minhash");
                String f = at + "templates[" + t + "].minhash";
                if (!mh.isArray() || mh.size() != Templates.HASHES) {
                    throw new IllegalArgumentException(f + " must be a list of " + Templates.HASHES + " hex values");
                }
                long[] sig = new long[mh.size()];
                for (int j = 0; j < sig.length; j++) {
                    String h = mh.get(j).asText("");
                    if (!h.matches("[0-9a-fA-F]{16}")) {
                        throw new IllegalArgumentException(f + "[" + j + "] is not 16 hex digits: " + mh.get(j));
                    }
                    sig[j] = HexFormat.fromHexDigitsToLong(h);
                }
                ts.add(new Indicators.Template(sig, tl.get(t).path("queries").asInt(0)));
            }
            float[] centroid = null;
            JsonNode c = n.path("centroid");
            if (c.isArray()) {
                if (c.size() != dim) {
                    throw new IllegalArgumentException(at + "centroid has " + c.size() + " values, embedder.dimension "
                            + "is " + dim);
                }
                centroid = new float[dim];
                for (int j = 0; j < dim; j++) {
                    if (!c.get(j).isNumber()) throw new IllegalArgumentException(at + "centroid[" + j + "] is not a number");
                    centroid[j] = (float) c.get(j).asDouble();
                }
            } else if (!c.isNull() && !c.isMissingNode()) {
                throw new IllegalArgumentException(at + "centroid must be a list of numbers or null");
            }
            double match = n.path("match_cosine").isNumber() ? n.get("match_cosine").asDouble() : Double.NaN;
            if (!Double.isNaN(match) && (match < -1 || match > 1)) {
                throw new IllegalArgumentException(at + "match_cosine must be in [-1, 1], got " + match);
            }
            if (ts.isEmpty() && (centroid == null || Double.isNaN(match))) {
                throw new IllegalArgumentException(at + " has neither templates nor a calibrated centroid: it can "
                        + "match nothing");
            }
            Indicators.Calibration cal = null;
            JsonNode cn = n.path("calibration");
            if (cn.isObject()) {
                cal = new Indicators.Calibration(cn.path("subset").asInt(Indicators.CAL_SUBSET), cn.path("draws").asInt(0),
                        cn.path("benign_queries").asInt(0), dbl(cn.path("benign_max")), dbl(cn.path("campaign_recall")));
            }
            Map<String, Indicators.Range> behaviour = new LinkedHashMap<>();
            n.path("behaviour").properties().forEach(e -> behaviour.put(e.getKey(), new Indicators.Range(
                    dbl(e.getValue().path("value")), dbl(e.getValue().path("min")), dbl(e.getValue().path("max")))));
            out.add(new Indicators.Indicator(text(n, "id", at + "id"), n.path("kind").asText("cluster"),
                    n.path("accounts").asInt(0), n.path("requests").asInt(0), time(n, "first_seen", at),
                    time(n, "last_seen", at), List.copyOf(ts), centroid, dbl(n.path("spread")), match, cal, behaviour));
        }
        Instant created = o.has("created") ? time(o, "created", "") : null;
        return new Indicators(o.path("source").asText(null), created, embedder, dim, List.copyOf(out));
    }

    private static String text(JsonNode o, String field, String name) {
        JsonNode v = o.path(field);
        if (!v.isTextual() || v.asText().isBlank()) throw new IllegalArgumentException(name + " is missing");
        return v.asText();
    }

    private static int intField(JsonNode v, String name) {
        if (!v.isInt()) throw new IllegalArgumentException(name + " must be an integer, got " + v);
        return v.asInt();
    }

    private static Instant time(JsonNode o, String field, String at) {
        JsonNode v = o.path(field);
        if (v.isMissingNode() || v.isNull()) return null;
        try {
            return Instant.parse(v.asText());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(at + field + " is not an ISO-8601 instant: " + v);
        }
    }

    private static double dbl(JsonNode v) { return v.isNumber() ? v.asDouble() : Double.NaN; }

    private static void num(ObjectNode o, String k, double v) {
        if (Double.isFinite(v)) o.put(k, v);
        else o.putNull(k);
    }
}
