package dev.distill4j.train.data;

import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Maps a teacher's per-token distributions onto a student's tokens by byte offsets (token strings are ambiguous
 * across tokenizers, bytes are not), including where the two tokenizers cut the text differently.
 *
 * <p>Teacher token {@code i} covers the bytes {@code [Σ_{j<i} |bytes_j|, Σ_{j≤i} |bytes_j|)} of the reply; a
 * student token covers what {@link TextTokenizer#tokenBytes} says, located in the rendered text by
 * {@link #spans}. The target of a student position is the teacher's distribution over <em>which student token
 * comes next</em> there, estimated from what the teacher listed along its chosen path:
 *
 * <ul>
 *   <li>Each alternative {@code A} at teacher position {@code t} stands for the event "the text continues with the
 *       chosen tokens before {@code t}, then {@code A}", of probability {@code Π p(chosen before t) · p(A)}. Its
 *       student token is the longest student token that is a byte prefix of that continuation, read from the
 *       student position's first byte. Events that reach the same student token add up; an alternative with no
 *       such token (a tokenizer without byte tokens, a teacher's end token) is left out, so its mass stays in the
 *       row's tail.</li>
 *   <li>The teacher positions read are those the student token overlaps along the chosen path: one when both cut
 *       alike, several when one student token covers several teacher tokens. The whole chosen path is the
 *       student's own token.</li>
 *   <li>A student token that starts inside a teacher token (after its part {@code P}) gets the teacher's
 *       distribution conditioned on the text continuing with {@code P}: alternatives that do not start with
 *       {@code P} are dropped, and the rest is divided by an estimate {@code Z} of the probability of {@code P}:
 *       the listed mass that starts with {@code P}, plus the unlisted mass (and alternatives too short to tell) in
 *       the proportion that the listed mass starts with {@code P}.</li>
 *   <li>A row keeps the student's own token and the most probable others, as many as the teacher's k; the rest of
 *       the probability is the row's tail, which the loss compares with the student's mass outside the row.</li>
 * </ul>
 *
 * When both sides use the same tokenizer the boundaries coincide everywhere, every alternative is one student
 * token, and each row is the teacher's top-k as it was sent. The approximation and its limits are described in
 * {@code docs/losses.md} ("Top-k targets across tokenizers").
 */
public final class TokenAligner {
    private static final Pattern SP_BYTE_TOKEN = Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    private final TextTokenizer student;
    private final Map<ByteBuffer, Integer> idsByBytes;
    private final boolean addsPrefixSpace;
    /** Bytes in the longest student token: no longer prefix can be a token. */
    private final int maxTokenBytes;

    public TokenAligner(TextTokenizer student) {
        this.student = student;
        byte[] probe = spelled(student.encode("a", false));
        this.addsPrefixSpace = probe.length == 2 && probe[0] == ' ';
        this.idsByBytes = new HashMap<>(student.vocabSize() * 2);
        int longest = 0;
        for (int id = 0; id < student.vocabSize(); id++) {
            if (student.isSpecial(id)) continue;
            byte[] b = student.tokenBytes(id);
            if (b.length == 0) continue;
            longest = Math.max(longest, b.length);
            // SentencePiece has both "A" and its byte-fallback "<0x41>": the piece is what encoding produces
            idsByBytes.merge(ByteBuffer.wrap(b), id,
                    (old, neu) -> SP_BYTE_TOKEN.matcher(student.tokenString(old)).matches() ? neu : old);
        }
        this.maxTokenBytes = longest;
    }

    /** The student token whose bytes are exactly {@code bytes}, or -1. */
    public int studentId(byte[] bytes) {
        if (bytes.length == 0) return -1;
        Integer id = idsByBytes.get(ByteBuffer.wrap(bytes));
        return id == null ? -1 : id;
    }

    /**
     * Byte spans of {@code ids} in {@code text} (the text they were encoded from): {@code [start[i], end[i])} in
     * the text's UTF-8. Special tokens cover their literal text where the text has it, and nothing where the
     * tokenizer added them (BOS, an appended EOS). The prefix space a SentencePiece tokenizer puts before the text
     * covers nothing: "▁" alone gets an empty span, "▁Hello" covers "Hello". Where the tokens stop spelling the
     * text (a normalizer rewrote it, an unknown token), the rest get start = end = -1.
     */
    public Spans spans(int[] ids, byte[] text) {
        int[] start = new int[ids.length];
        int[] end = new int[ids.length];
        int phantomAt = -1;
        int cursor = 0;
        boolean first = true;
        boolean lost = false;
        for (int i = 0; i < ids.length; i++) {
            int skip = 0;
            byte[] b;
            if (student.isSpecial(ids[i])) {
                b = student.tokenString(ids[i]).getBytes(StandardCharsets.UTF_8);
                if (!regionMatches(text, cursor, b, 0)) b = new byte[0];
            } else {
                b = student.tokenBytes(ids[i]);
                if (first && addsPrefixSpace && b.length > 0 && b[0] == ' ' && !regionMatches(text, cursor, b, 0)
                        && regionMatches(text, cursor, b, 1)) {
                    skip = 1;
                    if (b.length > 1) phantomAt = i;
                }
                first &= b.length == 0;
            }
            lost = lost || !regionMatches(text, cursor, b, skip);
            if (lost) {
                start[i] = -1;
                end[i] = -1;
            } else {
                start[i] = cursor;
                cursor += b.length - skip;
                end[i] = cursor;
            }
        }
        return new Spans(ids.clone(), start, end, phantomAt);
    }

    /**
     * Ids of {@code text} encoded on its own as the continuation of earlier text. A tokenizer that puts a space
     * before every text (SentencePiece) would make a leading space of the continuation two spaces: the space is
     * left to the tokenizer instead, so {@code " Hello"} becomes {@code ▁Hello} as it would inside the whole text.
     */
    public int[] encodeContinuation(String text) {
        if (addsPrefixSpace && text.startsWith(" ")) return student.encode(text.substring(1), false);
        return student.encode(text, false);
    }

    private byte[] spelled(int[] ids) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int id : ids) out.writeBytes(student.tokenBytes(id));
        return out.toByteArray();
    }

    private static boolean regionMatches(byte[] text, int at, byte[] b, int from) {
        int n = b.length - from;
        return at + n <= text.length && Arrays.equals(text, at, at + n, b, from, b.length);
    }

    /**
     * Byte spans of a token sequence; -1 where unknown. {@code phantomAt} is the token whose first byte is the
     * tokenizer's own prefix space (e.g. "▁Hello" spelling "Hello"), or -1: there, any word the student could put
     * is "▁" + word, so alternatives are looked up with a space before them.
     *
     * @param ids the tokens, as given to {@link #spans}
     */
    public record Spans(int[] ids, int[] start, int[] end, int phantomAt) {}

    /** The student token for {@code bytes} at token {@code i} of {@code spans} (see {@link Spans#phantomAt}). */
    int studentIdAt(Spans spans, int i, byte[] bytes) {
        if (i != spans.phantomAt() || bytes.length == 0) return studentId(bytes);
        byte[] spaced = new byte[bytes.length + 1];
        spaced[0] = ' ';
        System.arraycopy(bytes, 0, spaced, 1, bytes.length);
        return studentId(spaced);
    }

    /**
     * The student token that is the longest byte prefix of {@code bytes[from, to)}, or -1 when none is (a
     * tokenizer without single-byte tokens). At token {@code i} of {@code spans} a leading space is implied (see
     * {@link Spans#phantomAt}).
     */
    int longestPrefixId(Spans spans, int i, byte[] bytes, int from, int to) {
        if (to <= from) return -1;
        byte[] b = bytes;
        if (i == spans.phantomAt()) {
            b = new byte[to - from + 1];
            b[0] = ' ';
            System.arraycopy(bytes, from, b, 1, to - from);
            from = 0;
            to = b.length;
        }
        for (int n = Math.min(to - from, maxTokenBytes); n > 0; n--) {
            Integer id = idsByBytes.get(ByteBuffer.wrap(b, from, n));
            if (id != null) return id;
        }
        return -1;
    }

    /**
     * The outcome of aligning one reply.
     *
     * @param targets           KD rows for the given student positions (null when none aligned)
     * @param responsePositions student positions that cover reply bytes
     * @param identical         whether every teacher token boundary is a student token boundary and vice versa
     *                          over the reply (same tokenizer, or one that splits this text the same way)
     */
    public record Result(KdTargets targets, int responsePositions, boolean identical) {}

    /**
     * Aligns the teacher's {@code positions}, whose bytes start at offset {@code teacherStart} of the text, onto
     * the student tokens {@code [from, to)} with {@code spans}; the reply occupies bytes
     * {@code [replyStart, replyEnd)}. Returned targets cover example positions from {@code exampleOffset + from}.
     * A student position gets a target when the teacher's tokens cover its bytes (see the class comment for how).
     */
    public Result align(List<TokenPosition> positions, int teacherStart, int replyStart, int replyEnd, Spans spans,
                        int from, int to, int exampleOffset) {
        ChosenPath path = new ChosenPath(positions, teacherStart);
        int teacherBoundariesInReply = 0;
        for (int i = 0; i < path.size(); i++) {
            if (path.start[i] >= replyStart && path.end[i] <= replyEnd) teacherBoundariesInReply++;
        }
        // rows keep as many entries as the teacher listed: unbounded rows would multiply the batch's KD arrays
        int width = 1;
        for (TokenPosition p : positions) width = Math.max(width, p.alternatives().size());
        int rows = to - from;
        Row[] built = new Row[rows];
        int response = 0;
        int exact = 0;
        int k = 0;
        for (int r = 0; r < rows; r++) {
            int s = spans.start()[from + r];
            int e = spans.end()[from + r];
            if (s < 0 || e <= s || e <= replyStart || s >= replyEnd) continue;
            response++;
            int t0 = path.containing(s);
            int t1 = path.containing(e - 1);
            if (t0 < 0 || t1 < 0) continue;
            if (path.start[t0] == s && path.end[t1] == e && t0 == t1) exact++;
            built[r] = row(path, t0, t1, s, spans, from + r, width);
            if (built[r] != null) k = Math.max(k, built[r].ids.length);
        }
        boolean identical = response > 0 && exact == response && exact == teacherBoundariesInReply;
        if (k == 0) return new Result(null, response, identical);
        KdTargets kd = KdTargets.empty(exampleOffset + from, rows, k);
        for (int r = 0; r < rows; r++) {
            Row row = built[r];
            if (row == null) continue;
            kd.present()[r] = true;
            kd.tail()[r] = row.tail;
            System.arraycopy(row.ids, 0, kd.ids(), r * k, row.ids.length);
            System.arraycopy(row.logprobs, 0, kd.logprobs(), r * k, row.logprobs.length);
        }
        return new Result(kd, response, identical);
    }

    /** One KD row: student ids (the student's own token first), their teacher logprobs, and the rest's mass. */
    private record Row(int[] ids, float[] logprobs, float tail) {}

    /**
     * The target of the student token at {@code at}, whose bytes start at {@code s} and lie in teacher tokens
     * {@code t0..t1} of the chosen path: the teacher's probability of each student token coming next at byte
     * {@code s}, from the events its listed alternatives stand for (class comment), or null when there is none.
     */
    private Row row(ChosenPath path, int t0, int t1, int s, Spans spans, int at, int width) {
        int prefix = s - path.start[t0]; // P = text[start(t0), s): the part of teacher token t0 before s
        Tally mass = new Tally();
        double pathProbability = 1;     // Π p(chosen) over t0 .. t−1
        double agree = 0;                // listed mass at t0 that starts with P (all of it when P is empty)
        double disagree = 0;             // listed mass at t0 that does not
        double unknown = 0;              // mass at t0 that may or may not: unlisted, or shorter than P
        for (int t = t0; t <= t1; t++) {
            TokenPosition p = path.position(t);
            byte[] chosen = p.chosen().bytes();
            double pChosen = Math.exp(p.chosen().logprob());
            double listed = pChosen;
            for (TokenLogprob alt : p.alternatives()) {
                byte[] a = alt.bytes();
                // the chosen token continues the path; a different teacher token with the same bytes (SentencePiece's
                // "A" and "<0x41>") is another way to the same text, and adds up below
                if (alt.token().equals(p.chosen().token()) && Arrays.equals(a, chosen)) continue;
                double pa = Math.exp(alt.logprob());
                listed += pa;
                if (pa == 0) continue;
                int id;
                if (t == t0 && prefix == 0) {
                    agree += pa;
                    id = longestPrefixId(spans, at, a, 0, a.length); // -1 for a token without bytes (an end token)
                } else if (t == t0) {
                    // the event "text continues with A at start(t0)": does it agree with P = text[start(t0), s)?
                    if (a.length == 0) {
                        disagree += pa; // the text ends: it does not continue with P
                        continue;
                    }
                    if (a.length <= prefix) {
                        if (path.spells(a, 0, a.length, path.start[t0])) {
                            unknown += pa; // A is a prefix of P: what follows A decides, and it is not known
                        } else {
                            disagree += pa;
                        }
                        continue;
                    }
                    if (!path.spells(a, 0, prefix, path.start[t0])) {
                        disagree += pa;
                        continue;
                    }
                    agree += pa;
                    id = longestPrefixId(spans, at, a, prefix, a.length);
                } else {
                    // the event "text continues with text[s, start(t)), then A"
                    byte[] continuation = new byte[path.start[t] - s + a.length];
                    path.copy(s, path.start[t], continuation);
                    System.arraycopy(a, 0, continuation, path.start[t] - s, a.length);
                    id = longestPrefixId(spans, at, continuation, 0, continuation.length);
                }
                if (id >= 0) mass.add(id, pathProbability * pa);
            }
            if (t == t0) {
                agree += pChosen;
                unknown += Math.max(0, 1 - listed);
            }
            pathProbability *= pChosen;
        }
        // the whole chosen path spells the student's own token (and goes past it where t1 ends after e)
        int own = spans.ids()[at];
        mass.add(own, pathProbability);

        // Z ≈ P(text continues with P at start(t0)); 1 when P is empty (then disagree = 0)
        double z = agree + (agree + disagree > 0 ? unknown * agree / (agree + disagree) : unknown);
        if (!(z > 0)) return null;
        int[] order = mass.order(own, width);
        if (order.length == 0) return null;
        int[] ids = new int[order.length];
        float[] lps = new float[order.length];
        double listed = 0;
        for (int j = 0; j < order.length; j++) {
            ids[j] = mass.ids[order[j]];
            double q = mass.mass[order[j]] / z;
            lps[j] = (float) Math.log(q);
            listed += q;
        }
        return new Row(ids, lps, (float) Math.max(0, 1 - listed));
    }

    /** Probability per student id, summed; a row has a few dozen ids at most, so arrays beat a map. */
    private static final class Tally {
        int[] ids = new int[32];
        double[] mass = new double[32];
        int size;

        void add(int id, double p) {
            for (int i = 0; i < size; i++) {
                if (ids[i] == id) {
                    mass[i] += p;
                    return;
                }
            }
            if (size == ids.length) {
                ids = Arrays.copyOf(ids, size * 2);
                mass = Arrays.copyOf(mass, size * 2);
            }
            ids[size] = id;
            mass[size++] = p;
        }

        /**
         * Indices of at most {@code width} entries with mass: {@code first}'s, then the others by decreasing mass
         * (ties: lower id first).
         */
        int[] order(int first, int width) {
            Integer[] idx = new Integer[size];
            int n = 0;
            for (int i = 0; i < size; i++) if (mass[i] > 0) idx[n++] = i;
            Arrays.sort(idx, 0, n, (x, y) -> ids[x] == first ? -1 : ids[y] == first ? 1
                    : mass[x] != mass[y] ? Double.compare(mass[y], mass[x]) : Integer.compare(ids[x], ids[y]));
            int[] out = new int[Math.min(n, width)];
            for (int i = 0; i < out.length; i++) out[i] = idx[i];
            return out;
        }
    }

    /**
     * The teacher's chosen path: its tokens with bytes (tokens without bytes, e.g. a special end token, cover
     * nothing and are skipped), each token's byte range, and the text they spell.
     */
    private static final class ChosenPath {
        final List<TokenPosition> positions;
        final int[] index;
        final int[] start;
        final int[] end;
        /** The bytes the path spells, from offset {@code origin} (negative where a template trimmed the reply). */
        private final byte[] text;
        private final int origin;

        ChosenPath(List<TokenPosition> all, int teacherStart) {
            positions = all;
            int n = 0;
            for (TokenPosition p : all) if (p.chosen().bytes().length > 0) n++;
            index = new int[n];
            start = new int[n];
            end = new int[n];
            int off = teacherStart;
            int j = 0;
            for (int i = 0; i < all.size(); i++) {
                byte[] b = all.get(i).chosen().bytes();
                if (b.length == 0) continue;
                index[j] = i;
                start[j] = off;
                off += b.length;
                end[j++] = off;
            }
            origin = teacherStart;
            text = new byte[off - origin];
            j = 0;
            for (TokenPosition p : all) {
                byte[] b = p.chosen().bytes();
                if (b.length == 0) continue;
                System.arraycopy(b, 0, text, start[j++] - origin, b.length);
            }
        }

        int size() { return index.length; }

        /** Whether {@code a[from, to)} is what the path spells at offset {@code at}. */
        boolean spells(byte[] a, int from, int to, int at) {
            return Arrays.equals(a, from, to, text, at - origin, at - origin + to - from);
        }

        /** Copies the path's bytes {@code [from, to)} to the start of {@code dst}. */
        void copy(int from, int to, byte[] dst) {
            System.arraycopy(text, from - origin, dst, 0, to - from);
        }

        TokenPosition position(int t) { return positions.get(index[t]); }

        /** The path token whose bytes contain offset {@code x}, or -1. */
        int containing(int x) {
            int i = Arrays.binarySearch(start, x);
            if (i >= 0) return i;
            i = -i - 2; // the last token starting before x
            return i >= 0 && x < end[i] ? i : -1;
        }
    }
}
