package dev.distill4j.guard.watermark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A watermark key file: the scheme, its parameters, the fingerprint of the tokenizer whose ids it hashes, and a
 * 32-byte secret. The secret is what makes the watermark invisible to anyone without the file, so it is never
 * logged or printed ({@link #toString()} shows only {@link #keyId()}, a hash of it) and the file is written readable
 * by its owner only.
 *
 * <pre>{@code
 * {"format": "distill4j-watermark-key", "version": 1, "scheme": "kgw",
 *  "params": {"gamma": 0.25, "delta": 2.0, "context": 1, "hash": "left"},
 *  "tokenizer": {"sha256": "…", "vocab_size": 768, "dir": "/models/teacher"}, "key_id": "3f0a…",
 *  "secret": "base64…"}
 * }</pre>
 *
 * @param params the scheme's parameters, validated by the scheme when a {@link Watermark} is made from the key
 */
public record WatermarkKey(Scheme scheme, Map<String, Object> params, TokenizerFingerprint tokenizer, byte[] secret) {
    public static final String FORMAT = "distill4j-watermark-key";
    public static final int SECRET_BYTES = 32;

    public enum Scheme {
        KGW("kgw"), GUMBEL("gumbel"), SYNTHID("synthid");

        public final String id;

        Scheme(String id) { this.id = id; }

        public static Scheme parse(String s) {
            for (Scheme k : values()) if (k.id.equalsIgnoreCase(s)) return k;
            throw new InvalidInputException("unknown watermark scheme '" + s + "': use kgw, gumbel or synthid");
        }
    }

    public WatermarkKey {
        params = Map.copyOf(params);
        if (secret.length < 16) throw new InvalidInputException("a watermark secret needs at least 16 bytes");
        secret = secret.clone();
    }

    /** A new key with a fresh secret from {@link SecureRandom}; the parameters are checked by building the scheme. */
    public static WatermarkKey generate(Scheme scheme, Map<String, Object> params, TextTokenizer tokenizer) {
        byte[] secret = new byte[SECRET_BYTES];
        new SecureRandom().nextBytes(secret);
        WatermarkKey key = new WatermarkKey(scheme, withDefaults(scheme, params), TokenizerFingerprint.of(tokenizer),
                secret);
        Watermark.of(key);   // rejects bad parameters now, not at first use
        return key;
    }

    /** The scheme's parameters with its defaults filled in, so a key file states every value it uses. */
    public static Map<String, Object> withDefaults(Scheme scheme, Map<String, Object> given) {
        Map<String, Object> p = new TreeMap<>(switch (scheme) {
            case KGW -> Kgw.defaults(given);
            case GUMBEL -> Gumbel.defaults();
            case SYNTHID -> SynthId.defaults();
        });
        p.putAll(given);
        return p;
    }

    /** A public name for the key: the first 16 hex digits of SHA-256(secret). Safe to log. */
    public String keyId() {
        return HexFormat.of().formatHex(TokenizerFingerprint.digest().digest(secret)).substring(0, 16);
    }

    public byte[] secret() { return secret.clone(); }

    public double doubleParam(String name) {
        Object v = params.get(name);
        if (v instanceof Number n) return n.doubleValue();
        throw new InvalidInputException("the watermark key's " + scheme.id + " parameter '" + name + "' is missing or "
                + "not a number (got " + v + ")");
    }

    public int intParam(String name) {
        double v = doubleParam(name);
        if (v != Math.rint(v)) throw new InvalidInputException("the watermark key's parameter '" + name
                + "' must be a whole number, got " + v);
        return (int) v;
    }

    public String stringParam(String name) {
        Object v = params.get(name);
        if (v instanceof String s) return s;
        throw new InvalidInputException("the watermark key's " + scheme.id + " parameter '" + name + "' is missing or "
                + "not a string (got " + v + ")");
    }

    /**
     * Fails unless {@code tokenizer} is the one the key was made for. {@code what} names it in the message
     * (e.g. the model folder).
     */
    public void requireTokenizer(TextTokenizer tokenizer, String what) {
        TokenizerFingerprint other = TokenizerFingerprint.of(tokenizer);
        if (!other.equals(this.tokenizer)) {
            throw new InvalidInputException("watermark key " + keyId() + " was made for a tokenizer with fingerprint "
                    + this.tokenizer.shortId() + " (" + this.tokenizer.vocabSize() + " tokens), but " + what
                    + " has " + other.shortId() + " (" + other.vocabSize() + " tokens): the key's PRF hashes token "
                    + "ids, so it only works with the tokenizer of the model that wrote the text; use that model's "
                    + "folder (--tokenizer DIR)");
        }
    }

    public void write(Path file) throws IOException { write(file, null); }

    /**
     * Writes the key file, readable and writable by its owner only from its first byte
     * ({@link AtomicFiles#writePrivate}).
     *
     * @param tokenizerDir the model folder whose tokenizer the key was made for, recorded (absolute) as a hint so
     *                     that detection can find it without {@code --tokenizer}; null records none. It is only a
     *                     hint: the fingerprint is what binds the key, and is checked wherever the key is used.
     */
    public void write(Path file, Path tokenizerDir) throws IOException {
        ObjectNode o = Json.object();
        o.put("format", FORMAT);
        o.put("version", 1);
        o.put("scheme", scheme.id);
        o.set("params", Json.MAPPER.valueToTree(new TreeMap<>(params)));
        ObjectNode t = o.putObject("tokenizer");
        t.put("sha256", tokenizer.sha256());
        t.put("vocab_size", tokenizer.vocabSize());
        if (tokenizerDir != null) t.put("dir", tokenizerDir.toAbsolutePath().normalize().toString());
        o.put("key_id", keyId());
        o.put("secret", Base64.getEncoder().encodeToString(secret));
        byte[] bytes = (Json.writePretty(o) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        AtomicFiles.writePrivate(file, out -> out.write(bytes));
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing stronger to do portably
        }
    }

    /**
     * The model folder recorded in a key file by {@link #write(Path, Path)}, if any (it may since have moved).
     */
    public static java.util.Optional<Path> tokenizerDir(Path file) throws IOException {
        JsonNode dir;
        try {
            dir = Json.parse(Files.readString(file)).path("tokenizer").path("dir");
        } catch (NoSuchFileException e) {
            throw new InvalidInputException("watermark key file " + file + " does not exist");
        } catch (RuntimeException e) {
            return java.util.Optional.empty();   // read() reports what is wrong with the file
        }
        return dir.isTextual() ? java.util.Optional.of(Path.of(dir.asText())) : java.util.Optional.empty();
    }

    public static WatermarkKey read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException("watermark key file " + file + " does not exist; make one with "
                    + "`distill guard keygen --scheme kgw --tokenizer MODEL_DIR --out " + file + "`");
        }
        JsonNode o;
        try {
            o = Json.parse(text);
        } catch (RuntimeException e) {
            throw new InvalidInputException(file + " is not a watermark key file (not JSON): " + e.getMessage());
        }
        if (!FORMAT.equals(o.path("format").asText())) {
            throw new InvalidInputException(file + " is not a watermark key file (no \"format\": \"" + FORMAT + "\")");
        }
        if (o.path("version").asInt() != 1) {
            throw new InvalidInputException(file + " has key format version " + o.path("version") + "; this distill4j "
                    + "reads version 1");
        }
        byte[] secret;
        try {
            secret = Base64.getDecoder().decode(o.path("secret").asText());
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file + ": the secret is not valid base64");
        }
        Map<String, Object> params = new LinkedHashMap<>();
        o.path("params").properties().forEach(e -> params.put(e.getKey(),
                e.getValue().isNumber() ? (Object) e.getValue().numberValue() : e.getValue().asText()));
        JsonNode t = o.path("tokenizer");
        if (!t.path("sha256").isTextual()) throw new InvalidInputException(file + " has no tokenizer fingerprint");
        WatermarkKey key = new WatermarkKey(Scheme.parse(o.path("scheme").asText()), params,
                new TokenizerFingerprint(t.path("sha256").asText(), t.path("vocab_size").asInt()), secret);
        String id = o.path("key_id").asText(null);
        if (id != null && !id.equals(key.keyId())) {
            throw new InvalidInputException(file + ": key_id " + id + " does not match its secret (the file was "
                    + "edited or corrupted)");
        }
        Watermark.of(key);   // the parameters must make a valid scheme
        return key;
    }

    /** Never the secret. */
    @Override public String toString() {
        return "WatermarkKey[" + scheme.id + " " + new TreeMap<>(params) + ", tokenizer " + tokenizer.shortId()
                + ", id " + keyId() + "]";
    }

    @Override public boolean equals(Object o) {
        return o instanceof WatermarkKey k && k.scheme == scheme && k.params.equals(params)
                && k.tokenizer.equals(tokenizer) && java.util.Arrays.equals(k.secret, secret);
    }

    @Override public int hashCode() { return keyId().hashCode(); }
}
