package dev.distill4j.guard.watermark;

/**
 * The keyed pseudo-random function every scheme draws from: SipHash-2-4 (Aumasson &amp; Bernstein 2012) of the
 * watermark window under the secret key gives a 64-bit seed; a token's uniforms are the seed mixed with the token
 * id and a layer index by a 64-bit finaliser (Stafford's Mix13, as in SplitMix64).
 *
 * <p>Detection's null hypothesis is that the text does not depend on the key. Then every distinct PRF input maps
 * to a fresh uniform, which is what makes the per-token scores independent and the p-values exact; that is why
 * the detectors score each (window, token) input once.
 */
public final class Prf {
    private final long k0;
    private final long k1;

    /** @param secret at least 16 bytes; the first 16 are the SipHash key (little-endian k0, k1) */
    public Prf(byte[] secret) {
        if (secret.length < 16) throw new IllegalArgumentException("a watermark secret needs at least 16 bytes");
        this.k0 = le(secret, 0);
        this.k1 = le(secret, 8);
    }

    /** SipHash-2-4 of the message {@code words[0, n)}, each word 8 little-endian bytes. */
    public long hash(long[] words, int n) {
        long[] v = {k0 ^ 0x736f6d6570736575L, k1 ^ 0x646f72616e646f6dL, k0 ^ 0x6c7967656e657261L,
            k1 ^ 0x7465646279746573L};
        for (int i = 0; i < n; i++) absorb(v, words[i]);
        absorb(v, ((long) n * 8) << 56);     // the final block: the message length in bytes
        v[2] ^= 0xff;
        sipRounds(v, 4);
        return v[0] ^ v[1] ^ v[2] ^ v[3];
    }

    /** One message word: v3 ^= m, two compression rounds, v0 ^= m. */
    private static void absorb(long[] v, long m) {
        v[3] ^= m;
        sipRounds(v, 2);
        v[0] ^= m;
    }

    private static void sipRounds(long[] v, int rounds) {
        long v0 = v[0], v1 = v[1], v2 = v[2], v3 = v[3];
        for (int r = 0; r < rounds; r++) {
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
        }
        v[0] = v0;
        v[1] = v1;
        v[2] = v2;
        v[3] = v3;
    }

    /**
     * The seed of a window: SipHash of (domain, tokens…). {@code domain} separates the uses of one key (window
     * seeds, per-token hashes of SelfHash), so they never share an input.
     */
    public long seed(long domain, int[] tokens, int from, int to) {
        long[] words = new long[to - from + 1];
        words[0] = domain;
        for (int i = from; i < to; i++) words[i - from + 1] = tokens[i];
        return hash(words, words.length);
    }

    /** SipHash of (domain, the last h tokens of {@code history[0, length)}, token): a (window, token) fingerprint. */
    public long windowAndToken(long domain, int[] history, int length, int h, int token) {
        int from = Math.max(0, length - h);
        long[] words = new long[length - from + 2];
        words[0] = domain;
        for (int i = from; i < length; i++) words[i - from + 1] = history[i];
        words[words.length - 1] = token;
        return hash(words, words.length);
    }

    /** 64 pseudo-random bits for ({@code seed}, {@code token}, {@code layer}). */
    public static long bits(long seed, int token, int layer) {
        return mix(seed ^ mix(0x9E3779B97F4A7C15L * (((long) layer << 32) | (token & 0xffffffffL)) + 0x632BE59BD9B4E019L));
    }

    /**
     * A uniform in (0, 1) from 64 bits: the top 52 bits, offset by half a step, so neither 0 nor 1 occurs (with 53
     * bits the largest value would round to 1.0).
     */
    public static double uniform(long bits) {
        return ((bits >>> 12) + 0.5) * 0x1.0p-52;
    }

    /** Stafford's Mix13 finaliser, a bijection of 64-bit words with full avalanche. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static long le(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) v = (v << 8) | (b[off + i] & 0xff);
        return v;
    }
}
