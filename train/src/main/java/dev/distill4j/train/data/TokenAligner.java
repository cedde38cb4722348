package dev.distill4j.train.data;

import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.nio.ByteBuffer;
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

    public TokenAligner(TextTokenizer student) {
        this.student = student;
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
     * the text's UTF-8. Special tokens cover their literal text; a SentencePiece prefix space the text does not
     * have covers nothing. Where the tokens stop spelling the text (a normalizer rewrote it, an unknown token),
     * the rest get start = end = -1.
     */
    public Spans spans(int[] ids, byte[] text) {
        int[] start = new int[ids.length];
        int[] end = new int[ids.length];
        int cursor = 0;
        boolean sawBytes = false;
        boolean lost = false;
        for (int i = 0; i < ids.length; i++) {
            if (!lost) {
                byte[] b = student.isSpecial(ids[i])
                        ? student.tokenString(ids[i]).getBytes(java.nio.charset.StandardCharsets.UTF_8)
                        : student.tokenBytes(ids[i]);
                int skip = 0;
                if (!regionMatches(text, cursor, b, 0)) {
                    // SentencePiece's normalizer puts one space before the text; it stands for nothing
                    if (!sawBytes && b.length > 0 && b[0] == ' ' && regionMatches(text, cursor, b, 1)) skip = 1;
                    else lost = true;
                }
                if (!lost) {
                    start[i] = cursor;
                    cursor += b.length - skip;
                    end[i] = cursor;
                    sawBytes |= b.length > 0;
                }
            }
            if (lost) {
                start[i] = -1;
                end[i] = -1;
            }
        }
        return new Spans(start, end);
    }

    private static boolean regionMatches(byte[] text, int at, byte[] b, int from) {
        int n = b.length - from;
        return at + n <= text.length && Arrays.equals(text, at, at + n, b, from, b.length);
    }

    /** Byte spans of a token sequence; -1 where unknown. */
    public record Spans(int[] start, int[] end) {}

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
            int[] ids = mapAlternatives(p.alternatives());
            if (ids == null) continue;
            float[] lps = new float[ids.length];
            int m = mergeDuplicates(ids, p.alternatives(), lps);
            rowIds[r] = Arrays.copyOf(ids, m);
            rowLps[r] = Arrays.copyOf(lps, m);
            tail[r] = p.tail();
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

    /** Student ids of the alternatives, or null when one of them is not exactly one student token (or none given). */
    private int[] mapAlternatives(List<TokenLogprob> alternatives) {
        if (alternatives.isEmpty()) return null;
        int[] ids = new int[alternatives.size()];
        for (int j = 0; j < ids.length; j++) {
            ids[j] = studentId(alternatives.get(j).bytes());
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
