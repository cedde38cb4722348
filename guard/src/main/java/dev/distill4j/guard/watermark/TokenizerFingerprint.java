package dev.distill4j.guard.watermark;

import dev.distill4j.model.tokenizer.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What a watermark key must agree with: SHA-256 over the tokenizer's vocabulary (each id's token string, length-prefixed,
 * and whether it is special, in id order). Two tokenizers with the same fingerprint split every text into the same
 * ids, so a key is bound to the token ids its PRF hashes; one made for another tokenizer would score a different
 * sequence and call watermarked text clean.
 */
public record TokenizerFingerprint(String sha256, int vocabSize) {

    public static TokenizerFingerprint of(TextTokenizer tokenizer) {
        MessageDigest d = digest();
        int v = tokenizer.vocabSize();
        for (int id = 0; id < v; id++) {
            byte[] b = tokenizer.tokenString(id).getBytes(StandardCharsets.UTF_8);
            d.update(intBytes(b.length));
            d.update(b);
            d.update((byte) (tokenizer.isSpecial(id) ? 1 : 0));
        }
        return new TokenizerFingerprint(HexFormat.of().formatHex(d.digest()), v);
    }

    /** The first 12 hex digits, for messages. */
    public String shortId() { return sha256.substring(0, 12); }

    static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static byte[] intBytes(int n) {
        return new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n};
    }
}
