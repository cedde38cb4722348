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
 * across tokenizers, bytes are not).
 *
 * <p>Teacher token {@code i} covers the bytes {@code [Σ_{j<i} |bytes_j|, Σ_{j≤i} |bytes_j|)} of the reply; a
 * student token covers what {@link TextTokenizer#tokenBytes} says, located in the rendered text by
 * {@link #spans}. A student position gets a KD target when it covers exactly the bytes of one teacher position
 * and every alternative of that position is exactly one student token (looked up by its bytes in the student's
 * vocabulary). Anywhere else the student learns from the text alone. When both sides use the same tokenizer, the
 * boundaries coincide everywhere and every position aligns.
 */
public final class TokenAligner {
    private static final Pattern SP_BYTE_TOKEN = Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    private final TextTokenizer student;
    private final Map<ByteBuffer, Integer> idsByBytes;
    private final boolean addsPrefixSpace;

    public TokenAligner(TextTokenizer student) {
        this.student = student;
        byte[] probe = spelled(student.encode("a", false));
        this.addsPrefixSpace = probe.length == 2 && probe[0] == ' ';
        this.idsByBytes = new HashMap<>(student.vocabSize() * 2);
        for (int id = 0; id < student.vocabSize(); id++) {
            if (student.isSpecial(id)) continue;
            byte[] b = student.tokenBytes(id);
            if (b.length == 0) continue;
            // SentencePiece has both "A" and its byte-fallback "<0x41>": the piece is what encoding produces
            idsByBytes.merge(ByteBuffer.wrap(b), id,
                    (old, neu) -> SP_BYTE_TOKEN.matcher(student.tokenString(old)).matches() ? neu : old);
        }
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
        return new Spans(start, end, phantomAt);
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
     */
    public record Spans(int[] start, int[] end, int phantomAt) {}

    /** The student token for {@code bytes} at token {@code i} of {@code spans} (see {@link Spans#phantomAt}). */
    int studentIdAt(Spans spans, int i, byte[] bytes) {
        if (i != spans.phantomAt() || bytes.length == 0) return studentId(bytes);
        byte[] spaced = new byte[bytes.length + 1];
        spaced[0] = ' ';
        System.arraycopy(bytes, 0, spaced, 1, bytes.length);
        return studentId(spaced);
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
     */
    public Result align(List<TokenPosition> positions, int teacherStart, int replyStart, int replyEnd, Spans spans,
                        int from, int to, int exampleOffset) {
        // teacher positions keyed by their start offset; zero-width ones (special tokens) never align
        Map<Integer, Integer> byStart = new HashMap<>();
        int[] tEnd = new int[positions.size()];
        int off = teacherStart;
        int teacherBoundariesInReply = 0;
        for (int i = 0; i < positions.size(); i++) {
            int n = positions.get(i).chosen().bytes().length;
            if (n > 0) {
                byStart.put(off, i);
                if (off >= replyStart && off + n <= replyEnd) teacherBoundariesInReply++;
            }
            tEnd[i] = off + n;
            off += n;
        }
        int rows = to - from;
        int[][] rowIds = new int[rows][];
        float[][] rowLps = new float[rows][];
        float[] tail = new float[rows];
        int response = 0;
        int exact = 0;
        int k = 0;
        for (int r = 0; r < rows; r++) {
            int s = spans.start()[from + r];
            int e = spans.end()[from + r];
            if (s < 0 || e <= s || e <= replyStart || s >= replyEnd) continue;
            response++;
            Integer t = byStart.get(s);
            if (t == null || tEnd[t] != e) continue;
            exact++;
            TokenPosition p = positions.get(t);
            // TOP_K(0) teachers report the chosen token only: it is the one known point of the distribution
            List<TokenLogprob> alts = p.alternatives().isEmpty() ? List.of(p.chosen()) : p.alternatives();
            int[] ids = mapAlternatives(alts, spans, from + r);
            if (ids == null) continue;
            float[] lps = new float[ids.length];
            int m = mergeDuplicates(ids, alts, lps);
            rowIds[r] = Arrays.copyOf(ids, m);
            rowLps[r] = Arrays.copyOf(lps, m);
            tail[r] = p.alternatives().isEmpty() ? (float) Math.max(0, 1 - Math.exp(p.chosen().logprob())) : p.tail();
            k = Math.max(k, m);
        }
        boolean identical = response > 0 && exact == response && exact == teacherBoundariesInReply;
        if (k == 0) return new Result(null, response, identical);
        KdTargets kd = KdTargets.empty(exampleOffset + from, rows, k);
        for (int r = 0; r < rows; r++) {
            if (rowIds[r] == null) continue;
            kd.present()[r] = true;
            kd.tail()[r] = tail[r];
            System.arraycopy(rowIds[r], 0, kd.ids(), r * k, rowIds[r].length);
            System.arraycopy(rowLps[r], 0, kd.logprobs(), r * k, rowLps[r].length);
        }
        return new Result(kd, response, identical);
    }

    /** Student ids of the alternatives, or null when one of them is not exactly one student token. */
    private int[] mapAlternatives(List<TokenLogprob> alternatives, Spans spans, int at) {
        int[] ids = new int[alternatives.size()];
        for (int j = 0; j < ids.length; j++) {
            ids[j] = studentIdAt(spans, at, alternatives.get(j).bytes());
            if (ids[j] < 0) return null;
        }
        return ids;
    }

    /**
     * Two teacher alternatives can be the same student token (e.g. "A" and a byte-fallback "&lt;0x41&gt;"): their
     * probabilities add. Compacts {@code ids} in place and writes the logprobs; returns how many remain.
     */
    private static int mergeDuplicates(int[] ids, List<TokenLogprob> alternatives, float[] lps) {
        int m = 0;
        for (int j = 0; j < ids.length; j++) {
            float lp = alternatives.get(j).logprob();
            int at = -1;
            for (int q = 0; q < m; q++) if (ids[q] == ids[j]) at = q;
            if (at < 0) {
                ids[m] = ids[j];
                lps[m++] = lp;
            } else {
                double a = Math.max(lps[at], lp);
                lps[at] = (float) (a + Math.log(Math.exp(lps[at] - a) + Math.exp(lp - a)));
            }
        }
        return m;
    }
}
