package dev.distill4j.core.store;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The compact binary form of a {@link TokenDistribution}, stored in the {@code tokens} column of {@code samples}.
 * A TOP_K(20) answer of 1000 tokens is 21,000 token records; as JSON that is well over a megabyte, here about a
 * tenth of it.
 *
 * <pre>
 * blob     = 'D' '4' 'T' version(=1) varint(positions) position*
 * position = varint(alternatives) chosen alternative* float32(tail)
 * chosen   = varint(0) token            -- stored as a token
 *          | varint(i + 1)              -- equal (string, bytes, logprob) to alternative i, as OpenAI reports it
 * token    = varint(index &lt;&lt; 2 | 3) float32(logprob)
 *                                       -- the index-th distinct (string, bytes) of the blob, seen before
 *          | varint(len(bytes) &lt;&lt; 2 | form) bytes [string] float32(logprob)
 *                                       -- a token new to the blob; it takes the next index
 * form     = 0: string is exactly the UTF-8 decoding of bytes, not stored again
 *            1: string follows as varint(len) + UTF-8 bytes
 *            2: string follows as varint(chars) + UTF-16BE chars (strings with lone surrogates)
 * </pre>
 * Varints are unsigned LEB128; floats are IEEE 754 big-endian, so values round-trip bit for bit. Top-k lists repeat
 * the same few thousand tokens, so most token records are a 1–2 byte reference and the logprob. Decoded tokens that
 * are equal share their {@code String} and {@code byte[]}: treat {@link TokenLogprob#bytes()} as read-only.
 * See docs/run-store.md.
 */
public final class TokenDistributionCodec {
    static final byte[] MAGIC = {'D', '4', 'T'};
    static final int VERSION = 1;

    private static final int FORM_DECODED = 0;
    private static final int FORM_UTF8 = 1;
    private static final int FORM_UTF16 = 2;
    private static final int FORM_SEEN = 3;

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
                out.token(p.chosen());
            }
            for (TokenLogprob a : alternatives) out.token(a);
            out.float32(p.tail());
        }
        return out.toByteArray();
    }

    public static TokenDistribution decode(byte[] blob) {
        In in = new In(blob);
        for (byte m : MAGIC) {
            if (in.remaining() == 0 || in.read() != (m & 0xff)) {
                throw new InvalidInputException("not a token distribution blob (bad magic; expected 'D4T')");
            }
        }
        int version = in.byteValue("version");
        if (version != VERSION) {
            throw new InvalidInputException("token distribution blob has version " + version
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
            TokenLogprob chosen = ref == 0 ? in.token() : null;
            List<TokenLogprob> alternatives = new ArrayList<>(k);
            for (int j = 0; j < k; j++) alternatives.add(in.token());
            if (ref > 0) chosen = alternatives.get(ref - 1);
            positions.add(new TokenPosition(chosen, alternatives, in.float32("tail")));
        }
        if (in.remaining() != 0) throw in.corrupt(in.remaining() + " trailing bytes after the last position");
        return new TokenDistribution(positions);
    }

    private static CharsetDecoder strictUtf8() {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) if (b < 0) return false;
        return true;
    }

    /** Tokens already written to a blob with one string: usually one, several where the bytes differ. */
    private record Seen(byte[] bytes, int index, Seen next) {}

    /** A growing byte array; not a ByteArrayOutputStream, whose every write takes a lock. */
    private static final class Out {
        private byte[] buf;
        private int size;
        private final Map<String, Seen> seen = new HashMap<>();
        private int distinct;
        private final CharsetDecoder utf8 = strictUtf8();

        Out(int capacity) { buf = new byte[capacity]; }

        byte[] toByteArray() { return Arrays.copyOf(buf, size); }

        void write(int b) {
            if (size == buf.length) buf = Arrays.copyOf(buf, buf.length * 2);
            buf[size++] = (byte) b;
        }

        void bytes(byte[] b) {
            if (size + b.length > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + b.length));
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        void token(TokenLogprob t) {
            String s = t.token();
            byte[] bytes = t.bytes();
            Seen chain = seen.get(s);
            Seen hit = chain;
            while (hit != null && !Arrays.equals(hit.bytes, bytes)) hit = hit.next;
            if (hit != null) {
                varint((long) hit.index << 2 | FORM_SEEN);
            } else {
                seen.put(s, new Seen(bytes, distinct++, chain));
                if (isDecodingOf(s, bytes)) {
                    varint((long) bytes.length << 2 | FORM_DECODED);
                    bytes(bytes);
                } else if (isDecodingOf(s, s.getBytes(StandardCharsets.UTF_8))) {
                    varint((long) bytes.length << 2 | FORM_UTF8);
                    bytes(bytes);
                    byte[] utf8Bytes = s.getBytes(StandardCharsets.UTF_8);
                    varint(utf8Bytes.length);
                    bytes(utf8Bytes);
                } else {
                    varint((long) bytes.length << 2 | FORM_UTF16);
                    bytes(bytes);
                    varint(s.length());
                    for (int i = 0; i < s.length(); i++) {
                        write(s.charAt(i) >>> 8);
                        write(s.charAt(i));
                    }
                }
            }
            float32(t.logprob());
        }

        /** Whether {@code s} is exactly the strict UTF-8 decoding of {@code bytes}. */
        private boolean isDecodingOf(String s, byte[] bytes) {
            if (isAscii(bytes)) {
                if (s.length() != bytes.length) return false;
                for (int i = 0; i < bytes.length; i++) if (s.charAt(i) != bytes[i]) return false;
                return true;
            }
            try {
                return s.contentEquals(utf8.decode(ByteBuffer.wrap(bytes)));
            } catch (CharacterCodingException e) {
                return false;
            }
        }

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
        /** Distinct tokens in order of first appearance; a decoded token is its (string, bytes) with a logprob. */
        private final List<TokenLogprob> seen = new ArrayList<>();
        private final CharsetDecoder utf8 = strictUtf8();

        In(byte[] buf) {
            if (buf == null) throw new InvalidInputException("not a token distribution blob (null)");
            this.buf = buf;
        }

        int remaining() { return buf.length - pos; }

        int read() { return buf[pos++] & 0xff; }

        IllegalArgumentException corrupt(String what) {
            return new InvalidInputException("corrupt token distribution blob (" + buf.length + " bytes) at byte "
                    + pos + ": " + what);
        }

        TokenLogprob token() {
            long header = varintLong("token header");
            int form = (int) (header & 3);
            if (form == FORM_SEEN) {
                long index = header >>> 2;
                if (index >= seen.size()) {
                    throw corrupt("token refers to distinct token " + index + " of " + seen.size());
                }
                TokenLogprob first = seen.get((int) index);
                return new TokenLogprob(first.token(), first.bytes(), float32("logprob"));
            }
            byte[] bytes = bytes(header >>> 2, "token bytes");
            String s = switch (form) {
                case FORM_DECODED -> {
                    if (isAscii(bytes)) yield new String(bytes, StandardCharsets.ISO_8859_1);
                    try {
                        yield utf8.decode(ByteBuffer.wrap(bytes)).toString();
                    } catch (CharacterCodingException e) {
                        throw corrupt("token bytes marked as UTF-8 are not valid UTF-8");
                    }
                }
                case FORM_UTF8 -> new String(bytes(varint("token string length"), "token string"),
                        StandardCharsets.UTF_8);
                default -> {
                    // built char by char: a UTF-16 decoder would replace the lone surrogates this form exists for
                    byte[] raw = bytes(2L * varint("token string length"), "token string");
                    char[] chars = new char[raw.length / 2];
                    for (int i = 0; i < chars.length; i++) {
                        chars[i] = (char) ((raw[2 * i] & 0xff) << 8 | raw[2 * i + 1] & 0xff);
                    }
                    yield new String(chars);
                }
            };
            TokenLogprob t = new TokenLogprob(s, bytes, float32("logprob"));
            seen.add(t);
            return t;
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
            if (n > remaining()) {
                throw corrupt("truncated inside the " + what + " (" + n + " bytes, " + remaining() + " left)");
            }
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
