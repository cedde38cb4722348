package dev.distill4j.core.store;

import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The compact binary form of a {@link TokenDistribution}, stored in the {@code tokens} column of {@code samples}.
 * A TOP_K(20) answer of 1000 tokens is 21,000 token records; as JSON that is about a megabyte, here a fraction of it.
 *
 * <pre>
 * blob     = 'D' '4' 'T' version(=1) varint(positions) position*
 * position = varint(alternatives) chosen alternative* float32(tail)
 * chosen   = varint(0) token            -- stored in full
 *          | varint(i + 1)              -- equal (string, bytes, logprob) to alternative i, as OpenAI reports it
 * token    = varint(len(bytes) &lt;&lt; 2 | form) bytes [string] float32(logprob)
 * form     = 0: string is exactly the UTF-8 decoding of bytes, not stored again
 *            1: string follows as varint(len) + UTF-8 bytes
 *            2: string follows as varint(chars) + UTF-16BE chars (strings with lone surrogates)
 * </pre>
 * Varints are unsigned LEB128; floats are IEEE 754 big-endian. See docs/run-store.md.
 */
public final class TokenDistributionCodec {
    static final byte[] MAGIC = {'D', '4', 'T'};
    static final int VERSION = 1;

    private static final int FORM_DECODED = 0;
    private static final int FORM_UTF8 = 1;
    private static final int FORM_UTF16 = 2;

    private TokenDistributionCodec() {}

    public static byte[] encode(TokenDistribution distribution) {
        Out out = new Out(16 + distribution.size() * 64);
        out.bytes(MAGIC);
        out.write(VERSION);
        out.varint(distribution.size());
        for (TokenPosition p : distribution.positions()) {
            List<TokenLogprob> alternatives = p.alternatives();
            out.varint(alternatives.size());
            int ref = alternatives.indexOf(p.chosen());
            if (ref >= 0) {
                out.varint(ref + 1);
            } else {
                out.varint(0);
                token(out, p.chosen());
            }
            for (TokenLogprob a : alternatives) token(out, a);
            out.float32(p.tail());
        }
        return out.toByteArray();
    }

    public static TokenDistribution decode(byte[] blob) {
        In in = new In(blob);
        for (byte m : MAGIC) {
            if (in.remaining() == 0 || in.read() != (m & 0xff)) {
                throw new IllegalArgumentException("not a token distribution blob (bad magic; expected 'D4T')");
            }
        }
        int version = in.byteValue("version");
        if (version != VERSION) {
            throw new IllegalArgumentException("token distribution blob has version " + version
                    + "; this distill4j reads version " + VERSION + " (upgrade distill4j)");
        }
        // each position takes at least 6 bytes, so a count beyond that is corruption, not a reason to allocate
        int n = in.count("position count", 6);
        List<TokenPosition> positions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = in.count("alternative count", 5);
            int ref = in.varint("chosen reference");
            if (ref > k) {
                throw in.corrupt("chosen token refers to alternative " + (ref - 1) + " of " + k);
            }
            TokenLogprob chosen = ref == 0 ? token(in) : null;
            List<TokenLogprob> alternatives = new ArrayList<>(k);
            for (int j = 0; j < k; j++) alternatives.add(token(in));
            if (ref > 0) chosen = alternatives.get(ref - 1);
            positions.add(new TokenPosition(chosen, alternatives, in.float32("tail")));
        }
        if (in.remaining() != 0) throw in.corrupt(in.remaining() + " trailing bytes after the last position");
        return new TokenDistribution(positions);
    }

    private static void token(Out out, TokenLogprob t) {
        byte[] bytes = t.bytes();
        String s = t.token();
        if (s.equals(decodeStrict(bytes))) {
            out.varint((long) bytes.length << 2 | FORM_DECODED);
            out.bytes(bytes);
        } else if (decodeStrict(s.getBytes(StandardCharsets.UTF_8)) instanceof String back && back.equals(s)) {
            out.varint((long) bytes.length << 2 | FORM_UTF8);
            out.bytes(bytes);
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            out.varint(utf8.length);
            out.bytes(utf8);
        } else {
            out.varint((long) bytes.length << 2 | FORM_UTF16);
            out.bytes(bytes);
            out.varint(s.length());
            for (int i = 0; i < s.length(); i++) {
                out.write(s.charAt(i) >>> 8);
                out.write(s.charAt(i));
            }
        }
        out.float32(t.logprob());
    }

    private static TokenLogprob token(In in) {
        long header = in.varint("token header");
        int form = (int) (header & 3);
        byte[] bytes = in.bytes(header >>> 2, "token bytes");
        String s = switch (form) {
            case FORM_DECODED -> {
                String d = decodeStrict(bytes);
                if (d == null) throw in.corrupt("token bytes marked as UTF-8 are not valid UTF-8");
                yield d;
            }
            case FORM_UTF8 -> new String(in.bytes(in.varint("token string length"), "token string"),
                    StandardCharsets.UTF_8);
            case FORM_UTF16 -> {
                // built char by char: a UTF-16 decoder would replace the lone surrogates this form exists for
                byte[] raw = in.bytes(2L * in.varint("token string length"), "token string");
                char[] chars = new char[raw.length / 2];
                for (int i = 0; i < chars.length; i++) {
                    chars[i] = (char) ((raw[2 * i] & 0xff) << 8 | raw[2 * i + 1] & 0xff);
                }
                yield new String(chars);
            }
            default -> throw in.corrupt("unknown token form " + form);
        };
        return new TokenLogprob(s, bytes, in.float32("logprob"));
    }

    /** The UTF-8 decoding of {@code bytes}, or null where they are not valid UTF-8. */
    private static String decodeStrict(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static final class Out extends ByteArrayOutputStream {
        Out(int size) { super(size); }

        void bytes(byte[] b) { write(b, 0, b.length); }

        void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                write((int) (v & 0x7F) | 0x80);
                v >>>= 7;
            }
            write((int) v);
        }

        void float32(float f) {
            int bits = Float.floatToRawIntBits(f);
            write(bits >>> 24);
            write(bits >>> 16);
            write(bits >>> 8);
            write(bits);
        }
    }

    private static final class In {
        private final byte[] buf;
        private int pos;

        In(byte[] buf) {
            if (buf == null) throw new IllegalArgumentException("not a token distribution blob (null)");
            this.buf = buf;
        }

        int remaining() { return buf.length - pos; }

        int read() { return buf[pos++] & 0xff; }

        IllegalArgumentException corrupt(String what) {
            return new IllegalArgumentException("corrupt token distribution blob (" + buf.length + " bytes) at byte "
                    + pos + ": " + what);
        }

        int byteValue(String what) {
            if (remaining() < 1) throw corrupt("truncated before the " + what);
            return read();
        }

        int varint(String what) {
            long v = varintLong(what);
            if (v > Integer.MAX_VALUE) throw corrupt(what + " " + v + " is out of range");
            return (int) v;
        }

        long varintLong(String what) {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (remaining() < 1) throw corrupt("truncated inside the " + what);
                int b = read();
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) return v;
            }
            throw corrupt("overlong varint for the " + what);
        }

        /** A count of items that each take at least {@code minBytes}, checked against what is left. */
        int count(String what, int minBytes) {
            int n = varint(what);
            if ((long) n * minBytes > remaining()) {
                throw corrupt(what + " " + n + " cannot fit in the " + remaining() + " bytes left");
            }
            return n;
        }

        byte[] bytes(long n, String what) {
            if (n > remaining()) throw corrupt("truncated inside the " + what + " (" + n + " bytes, " + remaining()
                    + " left)");
            byte[] b = Arrays.copyOfRange(buf, pos, pos + (int) n);
            pos += (int) n;
            return b;
        }

        float float32(String what) {
            if (remaining() < 4) throw corrupt("truncated inside the " + what);
            int bits = read() << 24 | read() << 16 | read() << 8 | read();
            return Float.intBitsToFloat(bits);
        }
    }
}
