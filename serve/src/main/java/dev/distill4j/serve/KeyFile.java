package dev.distill4j.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The accounts of {@code distill serve --keys FILE}: JSONL, one account per line,
 * {@code {"name": "acme", "key": "sk-…"}} or {@code {"name": "acme", "key_sha256": "<64 hex>"}}, with optional
 * positive integer limits {@code "rpm"}, {@code "tpm"} (prompt + completion tokens per minute) and
 * {@code "daily_tokens"} (per UTC day). Blank lines are skipped. Anything else — bad JSON, an unknown field (a typo
 * like {@code "rmp"} must not silently mean "unlimited"), a missing name or key, both a key and a hash, a duplicate
 * name or key — is an {@link InvalidInputException} naming {@code file:line}.
 *
 * <p>Only the keys' SHA-256 digests are kept. Error messages never quote a line's text, since the line holds a key.
 */
public final class KeyFile {
    private static final Set<String> FIELDS = Set.of("name", "key", "key_sha256", "rpm", "tpm", "daily_tokens");

    /** One account: its name, the SHA-256 of its key, and its limits (0 = none). */
    public record Account(String name, byte[] keySha256, long rpm, long tpm, long dailyTokens) {}

    private KeyFile() {}

    /** Reads and checks the whole file; nothing is returned unless every line is good. */
    public static List<Account> read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Account> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> hashes = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String where = file + ":" + (i + 1);
            Account a = parse(line, where);
            if (!names.add(a.name())) throw new InvalidInputException(where + ": the name '" + a.name()
                    + "' is already used by an earlier line; account names must be unique");
            if (!hashes.add(HexFormat.of().formatHex(a.keySha256()))) {
                throw new InvalidInputException(where + ": account '" + a.name() + "' has the same key as an earlier "
                        + "line; every account needs its own key");
            }
            out.add(a);
        }
        return out;
    }

    private static Account parse(String line, String where) {
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            // Jackson's message quotes the offending token, which may be the key itself
            throw new InvalidInputException(where + ": not valid JSON (column " + e.getLocation().getColumnNr()
                    + "); each line must be an object like {\"name\": \"acme\", \"key\": \"sk-...\"}");
        }
        if (n == null || !n.isObject()) {
            throw new InvalidInputException(where + ": each line must be a JSON object like "
                    + "{\"name\": \"acme\", \"key\": \"sk-...\"}");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) throw new InvalidInputException(where + ": unknown field '" + f + "'; the fields "
                    + "are name, key or key_sha256, rpm, tpm, daily_tokens");
        }
        JsonNode name = n.get("name");
        if (name == null || !name.isTextual() || name.asText().isBlank()) {
            throw new InvalidInputException(where + ": 'name' must be a non-empty string");
        }
        String nm = name.asText();
        if (nm.equals("-")) throw new InvalidInputException(where + ": the name '-' is kept for requests without "
                + "accounts; choose another");
        JsonNode key = n.get("key");
        JsonNode hash = n.get("key_sha256");
        if ((key == null) == (hash == null)) {
            throw new InvalidInputException(where + ": account '" + nm + "' needs exactly one of 'key' and "
                    + "'key_sha256'");
        }
        byte[] digest;
        if (key != null) {
            if (!key.isTextual() || key.asText().isEmpty()) {
                throw new InvalidInputException(where + ": account '" + nm + "': 'key' must be a non-empty string");
            }
            digest = sha256(key.asText());
        } else {
            String hex = hash.isTextual() ? hash.asText().strip() : "";
            if (!hex.matches("[0-9a-fA-F]{64}")) {
                throw new InvalidInputException(where + ": account '" + nm + "': 'key_sha256' must be 64 hex digits "
                        + "(the SHA-256 of the key's UTF-8 bytes, e.g. from: printf %s \"$KEY\" | sha256sum)");
            }
            digest = HexFormat.of().parseHex(hex.toLowerCase(java.util.Locale.ROOT));
        }
        return new Account(nm, digest, limit(n, "rpm", where, nm), limit(n, "tpm", where, nm),
                limit(n, "daily_tokens", where, nm));
    }

    private static long limit(JsonNode n, String field, String where, String name) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return 0;
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 1) {
            throw new InvalidInputException(where + ": account '" + name + "': '" + field + "' must be a positive "
                    + "integer (leave it out for no limit)");
        }
        return v.asLong();
    }

    /** SHA-256 of the UTF-8 bytes. */
    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
