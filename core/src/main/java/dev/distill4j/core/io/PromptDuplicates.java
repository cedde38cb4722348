package dev.distill4j.core.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.SampleKey;
import dev.distill4j.core.store.RunStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * One id names one prompt. The run store keeps one prompt per id and a sample carries only its prompt's id, so two
 * different prompts under one id would pair one prompt's text with answers to the other. {@link #scan} reads a whole
 * prompt file before anything is asked and holds it to that rule:
 * <ul>
 *   <li>a line that repeats an earlier line's id, content and metadata is a harmless copy: it is listed here and
 *       {@link PromptReader#openUnique} skips it;</li>
 *   <li>a line that reuses an earlier line's id for anything else is refused with {@link ConflictingIdException},
 *       naming the id and both lines. Ids derived from content (lines without an id) take part like any other id,
 *       so a written id that happens to equal another line's derived id is caught too.</li>
 *   <li>given the run the file is harvested into, a line whose id the run already holds for a different prompt (from
 *       an earlier version of the file, or another file) is refused the same way: the run would keep its old prompt
 *       and pair it with answers to the new one.</li>
 * </ul>
 * Malformed lines are left to the caller's own pass. Memory: one entry per distinct id (the id, its first line and
 * two 64-bit fingerprints, about 100 bytes) while scanning, then 8 bytes per duplicate line.
 */
public final class PromptDuplicates {
    private static final int SHOWN = 10;
    private static final int RUN_BATCH = 512;

    private final String file;
    private final long prompts;
    private final long[] lines;

    private PromptDuplicates(String file, long prompts, long[] lines) {
        this.file = file;
        this.prompts = prompts;
        this.lines = lines;
    }

    static PromptDuplicates none(String file) {
        return new PromptDuplicates(file, 0, new long[0]);
    }

    /**
     * Two prompts under one id: lines {@link #firstLine} and {@link #line} of the file, or, when the run already
     * holds the id, {@link #firstLine} is the stored prompt's line in the file it was harvested from.
     */
    public static final class ConflictingIdException extends IOException {
        private final String id;
        private final long firstLine;
        private final long line;

        ConflictingIdException(String message, String id, long firstLine, long line) {
            super(message);
            this.id = id;
            this.firstLine = firstLine;
            this.line = line;
        }

        public String id() { return id; }
        public long firstLine() { return firstLine; }
        public long line() { return line; }
    }

    /** What decides a line's identity besides its id: the request (content) and what travels with it (metadata). */
    private record Seen(long line, long content, long metadata, boolean derivedId) {
        static Seen of(Prompt p) {
            return new Seen(p.line(), fingerprint(Json.write(SampleKey.promptContent(p))),
                    fingerprint(sortedJson(p.metadata())), SampleKey.promptId(p).equals(p.id()));
        }
    }

    /**
     * Reads {@code file} once and lists its exact duplicate lines.
     *
     * @throws ConflictingIdException at the first line that reuses an id for a different prompt
     */
    public static PromptDuplicates scan(Path file) throws IOException {
        return scan(file, null);
    }

    /**
     * {@link #scan(Path)}, and each id also checked against the prompts {@code run} already holds (null: a new run).
     *
     * @throws ConflictingIdException also at the first line whose id the run holds for a different prompt
     */
    public static PromptDuplicates scan(Path file, RunStore run) throws IOException {
        boolean checkRun = run != null && run.promptCount() > 0;
        List<Prompt> unchecked = new ArrayList<>();  // first lines of their ids, not yet compared with the run
        Map<String, Seen> seen = new HashMap<>();
        long[] dups = new long[16];
        int n = 0;
        try (PromptReader reader = PromptReader.open(file)) {
            while (reader.hasNext()) {
                if (!(reader.next() instanceof PromptReader.Ok(Prompt p))) continue;
                Seen now = Seen.of(p);
                Seen first = seen.putIfAbsent(p.id(), now);
                if (first == null) {
                    if (checkRun) unchecked.add(p);
                    if (unchecked.size() == RUN_BATCH) compareWithRun(file.toString(), unchecked, run);
                    continue;
                }
                if (first.content() != now.content() || first.metadata() != now.metadata()) {
                    throw conflict(file.toString(), p.id(), first, now);
                }
                if (n == dups.length) dups = Arrays.copyOf(dups, n * 2);
                dups[n++] = p.line();
            }
        }
        compareWithRun(file.toString(), unchecked, run);
        return new PromptDuplicates(file.toString(), seen.size(), Arrays.copyOf(dups, n));
    }

    /** Refuses the first of {@code prompts} whose id the run holds for a different prompt; empties the list. */
    private static void compareWithRun(String file, List<Prompt> prompts, RunStore run) throws ConflictingIdException {
        if (prompts.isEmpty()) return;
        Map<String, Prompt> stored = run.prompts(prompts.stream().map(Prompt::id).toList());
        for (Prompt p : prompts) {
            Prompt old = stored.get(p.id());
            if (old == null) continue;
            Seen before = Seen.of(old);
            Seen now = Seen.of(p);
            if (before.content() == now.content() && before.metadata() == now.metadata()) continue;
            String where = old.source() == null ? "" : " (stored from " + old.source() + " line " + old.line() + ")";
            String derived = now.derivedId() ? " (the line has no \"id\", so its id comes from its prompt text)" : "";
            throw new ConflictingIdException(file + ": line " + p.line() + " has id \"" + p.id() + "\"" + derived
                    + ", which this run already holds for " + difference(before, now) + where + "; a run keeps one "
                    + "prompt per id, so give the line a new id, or harvest into a new --run. Nothing was harvested.",
                    p.id(), old.line(), p.line());
        }
        prompts.clear();
    }

    private static String difference(Seen a, Seen b) {
        return a.content() != b.content() ? "a different prompt" : "the same prompt with different metadata";
    }

    private static ConflictingIdException conflict(String file, String id, Seen first, Seen now) {
        String derived = first.derivedId() && now.derivedId()
                ? " (neither line has an \"id\", so both ids come from the prompt text)"
                : first.derivedId() ? " (line " + first.line() + " has no \"id\", so its id comes from its prompt text)"
                : now.derivedId() ? " (line " + now.line() + " has no \"id\", so its id comes from its prompt text)"
                : "";
        String what = first.content() != now.content() ? "different prompts" : "the same prompt but different metadata";
        return new ConflictingIdException(file + ": lines " + first.line() + " and " + now.line() + " both have id \""
                + id + "\"" + derived + " with " + what + "; a run keeps one prompt per id, so give them distinct "
                + "ids (or delete one line). Nothing was harvested.", id, first.line(), now.line());
    }

    /** The file as named when scanned. */
    public String file() { return file; }

    /** Distinct prompts (well-formed lines less duplicates) in a scanned file. */
    public long prompts() { return prompts; }

    /** How many lines repeat an earlier line exactly. */
    public int count() { return lines.length; }

    /** The repeating lines, ascending (the first occurrence of each prompt is not among them). */
    public long[] lines() { return lines.clone(); }

    /** Whether {@code line} repeats an earlier line. */
    public boolean contains(long line) { return Arrays.binarySearch(lines, line) >= 0; }

    /**
     * One line for the user, e.g. {@code prompts.jsonl: 3 duplicate lines skipped (same id and content): lines 12,
     * 40, 41}; the first ten lines are listed. Empty when there are none.
     */
    public String notice() {
        if (lines.length == 0) return "";
        StringJoiner list = new StringJoiner(", ");
        for (int i = 0; i < Math.min(SHOWN, lines.length); i++) list.add(Long.toString(lines[i]));
        String more = lines.length > SHOWN ? ", ... (" + (lines.length - SHOWN) + " more)" : "";
        return file + ": " + lines.length + " duplicate line" + (lines.length == 1 ? "" : "s")
                + " skipped (same id and content): line" + (lines.length == 1 ? " " : "s ") + list + more;
    }

    private static long fingerprint(String canonical) {
        return HexFormat.fromHexDigitsToLong(SampleKey.sha256Hex(canonical), 0, 16);
    }

    /** Key order in an object is not content: {"a":1,"b":2} and {"b":2,"a":1} are the same metadata. */
    private static String sortedJson(JsonNode node) {
        try {
            return Json.MAPPER.writer().with(JsonNodeFeature.WRITE_PROPERTIES_SORTED).writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
