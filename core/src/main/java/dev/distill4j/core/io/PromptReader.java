package dev.distill4j.core.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.SampleKey;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.DuplicateHeaderMode;

/**
 * Reads a prompt file one prompt at a time, so a file of a million prompts streams in constant memory. A bad line
 * does not stop the file: it comes out as {@link Malformed} with its line number and what is wrong, and the caller
 * decides whether to skip it or stop.
 *
 * <p>Formats, by extension:
 * <ul>
 *   <li>{@code .jsonl} / {@code .json}: one JSON object per line, {@code {"prompt": "..."}} or
 *       {@code {"messages": [{"role": ..., "content": ...}, ...]}} in OpenAI's chat shape, with optional
 *       {@code "id"} (string or number) and {@code "metadata"} (object). Array-of-parts content keeps its text parts,
 *       joined by newlines. Blank lines are skipped.</li>
 *   <li>{@code .csv}: RFC 4180 with a header row holding a {@code prompt} column; optional {@code id} and
 *       {@code system} columns; every other column becomes a metadata string. Line numbers are those where a record
 *       starts (a quoted field may span lines).</li>
 * </ul>
 * A prompt without an id gets {@link SampleKey#promptId}, a hash of its content, so re-reading the file gives the
 * same ids. A UTF-8 byte order mark and CRLF line ends are accepted.
 *
 * <p>{@link #open} gives every line as it is; {@link #openUnique} first holds the file to "one id, one prompt"
 * ({@link PromptDuplicates}) and then leaves out lines that repeat an earlier one exactly.
 */
public final class PromptReader implements AutoCloseable, Iterator<PromptReader.Entry> {

    /** One prompt of the file, or why a line is not one. */
    public sealed interface Entry permits Ok, Malformed {}

    public record Ok(Prompt prompt) implements Entry {}

    /** A line that is not a prompt: {@code file:line: reason} is what a user should see. */
    public record Malformed(String file, long line, String reason) implements Entry {
        @Override public String toString() { return file + ":" + line + ": " + reason; }
    }

    public static final Set<String> ROLES = Set.of("system", "user", "assistant", "developer", "tool");

    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private final Source source;
    private final PromptDuplicates duplicates;
    private Entry next;
    private boolean exhausted;

    private PromptReader(Source source, PromptDuplicates duplicates) {
        this.source = source;
        this.duplicates = duplicates;
    }

    /** Every line of the file, duplicates included. */
    public static PromptReader open(Path file) throws IOException {
        return new PromptReader(source(file), null);
    }

    /**
     * The file's prompts with exact duplicate lines left out, after a first pass over the whole file.
     *
     * @throws PromptDuplicates.ConflictingIdException when two lines share an id but not their prompt; nothing has
     *                                                 been read out of the file then
     */
    public static PromptReader openUnique(Path file) throws IOException {
        return openUnique(file, PromptDuplicates.scan(file));
    }

    /** {@link #openUnique(Path)} with a scan of the same file the caller has already made. */
    public static PromptReader openUnique(Path file, PromptDuplicates scanned) throws IOException {
        return new PromptReader(source(file), java.util.Objects.requireNonNull(scanned, "scanned"));
    }

    /** The lines {@link #openUnique} leaves out; none for {@link #open}. */
    public PromptDuplicates duplicates() {
        return duplicates != null ? duplicates : PromptDuplicates.none(source.file());
    }

    private static Source source(Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such prompt file");
        }
        if (name.endsWith(".jsonl") || name.endsWith(".json")) return new JsonlSource(file);
        if (name.endsWith(".csv")) return CsvSource.open(file);
        throw new IOException("cannot read prompts from " + file + ": use a .jsonl file (one {\"prompt\": ...} or "
                + "{\"messages\": [...]} object per line) or a .csv file with a 'prompt' column");
    }

    /** The SHA-256 of the file's bytes, in hex, read in a stream: what the run manifest records. */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** @throws UncheckedIOException when the file cannot be read */
    @Override
    public boolean hasNext() {
        while (next == null && !exhausted) {
            try {
                next = source.read();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + source.file() + ": " + e.getMessage(), e);
            }
            exhausted = next == null;
            if (duplicates != null && next instanceof Ok(Prompt p) && duplicates.contains(p.line())) next = null;
        }
        return next != null;
    }

    @Override
    public Entry next() {
        if (!hasNext()) throw new NoSuchElementException();
        Entry e = next;
        next = null;
        return e;
    }

    @Override
    public void close() throws IOException {
        source.close();
    }

    private interface Source extends Closeable {
        String file();

        /** The next entry, or null at the end of the file. */
        Entry read() throws IOException;
    }

    /** Why a line is not a prompt; thrown inside parsing, turned into {@link Malformed} at the line. */
    private static final class Bad extends Exception {
        Bad(String reason) { super(reason, null, false, false); }
    }

    // ------------------------------------------------------------------ JSONL

    private static final class JsonlSource implements Source {
        private final String file;
        private final InputStream in;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        private final byte[] buf = new byte[1 << 16];
        private int pos;
        private int limit;
        private byte[] line = new byte[8192];
        private long lineNumber;
        private boolean eof;

        JsonlSource(Path path) throws IOException {
            this.file = path.toString();
            this.in = Files.newInputStream(path);
        }

        @Override public String file() { return file; }

        @Override
        public Entry read() throws IOException {
            while (!eof) {
                int length = readLine();
                if (length < 0) return null;
                lineNumber++;
                int start = lineNumber == 1 && startsWithBom(length) ? BOM.length : 0;
                String text;
                try {
                    text = utf8.decode(ByteBuffer.wrap(line, start, length - start)).toString();
                } catch (CharacterCodingException e) {
                    return new Malformed(file, lineNumber, "not valid UTF-8 text; save the file as UTF-8");
                }
                if (text.isBlank()) continue;
                try {
                    return new Ok(parse(text));
                } catch (Bad bad) {
                    return new Malformed(file, lineNumber, bad.getMessage());
                }
            }
            return null;
        }

        /** Reads up to the next LF into {@link #line}, dropping a CR before it; -1 at the end of the file. */
        private int readLine() throws IOException {
            int n = 0;
            while (true) {
                if (pos == limit) {
                    limit = in.read(buf);
                    pos = 0;
                    if (limit <= 0) {
                        limit = 0;
                        eof = true;
                        if (n == 0) return -1;
                        break;
                    }
                }
                int end = pos;
                while (end < limit && buf[end] != '\n') end++;
                int chunk = end - pos;
                if (n + chunk > line.length) line = Arrays.copyOf(line, Math.max(line.length * 2, n + chunk));
                System.arraycopy(buf, pos, line, n, chunk);
                n += chunk;
                pos = end;
                if (end < limit) {
                    pos++; // the LF
                    break;
                }
            }
            if (n > 0 && line[n - 1] == '\r') n--;
            return n;
        }

        private boolean startsWithBom(int length) {
            return length >= 3 && line[0] == BOM[0] && line[1] == BOM[1] && line[2] == BOM[2];
        }

        private Prompt parse(String text) throws Bad {
            JsonNode node;
            try (JsonParser parser = Json.MAPPER.createParser(text)) {
                parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
                node = Json.MAPPER.readTree(parser);
                if (parser.nextToken() != null) {
                    throw new Bad("unexpected text after the JSON object at column "
                            + parser.currentTokenLocation().getColumnNr() + "; put one object per line");
                }
            } catch (JsonProcessingException e) {
                // a pretty-printed JSON array breaks into lines that are not objects: say what the file should be
                String hint = text.strip().startsWith("[") || text.strip().startsWith("]")
                        ? "; prompt files are JSON Lines, one object per line, not a JSON array (jq -c '.[]' converts)"
                        : "";
                throw new Bad("invalid JSON: " + e.getOriginalMessage() + " (column "
                        + (e.getLocation() == null ? "?" : e.getLocation().getColumnNr()) + ")" + hint);
            } catch (IOException e) {
                throw new Bad("invalid JSON: " + e.getMessage());
            }
            if (!(node instanceof ObjectNode object)) {
                throw new Bad("expected a JSON object like {\"prompt\": \"...\"}, got " + describe(node));
            }
            JsonNode prompt = object.get("prompt");
            JsonNode messages = object.get("messages");
            if (prompt != null && messages != null) {
                throw new Bad("has both \"prompt\" and \"messages\"; give one of them");
            }
            if (prompt == null && messages == null) {
                throw new Bad("has neither \"prompt\" nor \"messages\"");
            }
            String raw = null;
            List<Message> chat = List.of();
            if (prompt != null) {
                if (!prompt.isTextual()) throw new Bad("\"prompt\" must be a string, got " + describe(prompt));
                if (prompt.asText().isBlank()) throw new Bad("\"prompt\" is empty");
                raw = prompt.asText();
            } else {
                chat = messages(messages);
            }
            String id = null;
            JsonNode idNode = object.get("id");
            if (idNode != null && !idNode.isNull()) {
                if (!idNode.isTextual() && !idNode.isNumber()) {
                    throw new Bad("\"id\" must be a string or a number, got " + describe(idNode));
                }
                id = idNode.asText();
                if (id.isBlank()) throw new Bad("\"id\" is empty");
            }
            JsonNode metadata = object.get("metadata");
            if (metadata != null && !metadata.isNull() && !metadata.isObject()) {
                throw new Bad("\"metadata\" must be a JSON object, got " + describe(metadata));
            }
            return prompt(id, raw, chat, metadata instanceof ObjectNode m ? m : null, file, lineNumber);
        }

        private static List<Message> messages(JsonNode messages) throws Bad {
            if (!messages.isArray()) throw new Bad("\"messages\" must be an array, got " + describe(messages));
            if (messages.isEmpty()) throw new Bad("\"messages\" is empty");
            List<Message> out = new ArrayList<>(messages.size());
            for (int i = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                String at = "messages[" + i + "]";
                if (!m.isObject()) throw new Bad(at + " must be an object, got " + describe(m));
                JsonNode role = m.get("role");
                if (role == null || !role.isTextual()) throw new Bad(at + " has no \"role\" string");
                if (!ROLES.contains(role.asText())) {
                    throw new Bad(at + ".role '" + role.asText()
                            + "' is not one of system, user, assistant, developer, tool");
                }
                out.add(new Message(role.asText(), content(m.get("content"), at)));
            }
            return out;
        }

        private static String content(JsonNode content, String at) throws Bad {
            if (content == null || content.isNull()) {
                throw new Bad(at + " has no \"content\" (messages without text, such as bare tool calls, "
                        + "are not supported)");
            }
            if (content.isTextual()) return content.asText();
            if (!content.isArray()) {
                throw new Bad(at + ".content must be a string or an array of parts, got " + describe(content));
            }
            List<String> texts = new ArrayList<>();
            for (int j = 0; j < content.size(); j++) {
                JsonNode part = content.get(j);
                String type = part.path("type").asText();
                if (!type.equals("text")) {
                    throw new Bad(at + ".content[" + j + "] is a '" + (type.isEmpty() ? describe(part) : type)
                            + "' part; only text parts are supported");
                }
                JsonNode text = part.get("text");
                if (text == null || !text.isTextual()) throw new Bad(at + ".content[" + j + "] has no \"text\" string");
                texts.add(text.asText());
            }
            if (texts.isEmpty()) throw new Bad(at + ".content has no parts");
            return String.join("\n", texts);
        }

        private static String describe(JsonNode n) {
            return switch (n.getNodeType()) {
                case ARRAY -> "an array";
                case OBJECT -> "an object";
                case STRING -> "a string";
                case NUMBER -> "a number";
                case BOOLEAN -> "a boolean";
                case NULL -> "null";
                default -> n.getNodeType().name().toLowerCase(Locale.ROOT);
            };
        }

        @Override
        public void close() throws IOException { in.close(); }
    }

    // ------------------------------------------------------------------ CSV

    private static final class CsvSource implements Source {
        private final String file;
        private final CSVParser parser;
        private final Iterator<CSVRecord> records;
        private final List<String> header;
        private final int promptColumn;
        private final int idColumn;
        private final int systemColumn;
        private boolean failed;

        private CsvSource(String file, CSVParser parser, List<String> header) throws IOException {
            this.file = file;
            this.parser = parser;
            this.records = parser.iterator();
            this.header = header;
            this.promptColumn = column("prompt");
            this.idColumn = column("id");
            this.systemColumn = column("system");
            if (promptColumn < 0) {
                throw new IOException(file + " has no 'prompt' column in its header row (columns: "
                        + String.join(", ", header) + ")");
            }
        }

        static CsvSource open(Path path) throws IOException {
            Reader reader = new StrictUtf8Reader(Files.newInputStream(path));
            try {
                CSVParser parser = CSVFormat.RFC4180.builder()
                        .setHeader()
                        .setSkipHeaderRecord(true)
                        .setDuplicateHeaderMode(DuplicateHeaderMode.DISALLOW)
                        // blank lines come through as records so that line numbers stay exact; they are skipped here
                        .setIgnoreEmptyLines(false)
                        .build()
                        .parse(reader);
                List<String> header = parser.getHeaderNames().stream().map(String::strip).toList();
                if (header.isEmpty()) {
                    throw new IOException(path + " is empty: expected a header row with a 'prompt' column");
                }
                return new CsvSource(path.toString(), parser, header);
            } catch (CharacterCodingException e) {
                reader.close();
                throw new IOException(path + " is not valid UTF-8 text: save it as UTF-8", e);
            } catch (IllegalArgumentException | UncheckedIOException e) {
                reader.close();
                throw new IOException(path + " has an unusable CSV header row: " + e.getMessage(), e);
            } catch (IOException | RuntimeException e) {
                reader.close();
                throw e;
            }
        }

        private int column(String name) {
            for (int i = 0; i < header.size(); i++) if (header.get(i).equalsIgnoreCase(name)) return i;
            return -1;
        }

        @Override public String file() { return file; }

        @Override
        public Entry read() throws IOException {
            while (!failed) {
                long line = parser.getCurrentLineNumber() + 1;
                CSVRecord record;
                try {
                    if (!records.hasNext()) return null;
                    record = records.next();
                } catch (UncheckedIOException | IllegalStateException e) {
                    // commons-csv cannot resynchronise after a broken quote: the rest of the file is unreadable
                    failed = true;
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    String reason = cause instanceof CharacterCodingException
                            ? "not valid UTF-8 text; save the file as UTF-8"
                            : "unreadable CSV (" + cause.getMessage() + "); reading stops here";
                    return new Malformed(file, line, reason);
                }
                if (record.stream().allMatch(String::isBlank)) continue;
                if (record.size() != header.size()) {
                    return new Malformed(file, line, "has " + record.size() + " fields but the header has "
                            + header.size());
                }
                String prompt = record.get(promptColumn);
                if (prompt.isBlank()) return new Malformed(file, line, "the 'prompt' field is empty");
                String id = idColumn >= 0 && !record.get(idColumn).isBlank() ? record.get(idColumn) : null;
                String system = systemColumn >= 0 ? record.get(systemColumn) : "";
                ObjectNode metadata = Json.object();
                for (int i = 0; i < header.size(); i++) {
                    if (i != promptColumn && i != idColumn && i != systemColumn && !header.get(i).isEmpty()) {
                        metadata.put(header.get(i), record.get(i));
                    }
                }
                return system.isBlank()
                        ? new Ok(prompt(id, prompt, List.of(), metadata, file, line))
                        : new Ok(prompt(id, null, List.of(Message.system(system), Message.user(prompt)), metadata,
                                file, line));
            }
            return null;
        }

        @Override
        public void close() throws IOException { parser.close(); }
    }

    /**
     * UTF-8 that fails where the bad bytes are: an InputStreamReader decodes ahead and would fail a whole buffer
     * early, blaming a record before the bad one. Chars before the bad bytes are delivered first; the error comes
     * on the read after them. Drops a leading byte order mark.
     */
    private static final class StrictUtf8Reader extends Reader {
        private final InputStream in;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        private final ByteBuffer bytes = ByteBuffer.allocate(1 << 16).flip();
        private final CharBuffer chars = CharBuffer.allocate(1 << 16).flip();
        private boolean eof;
        private boolean flushed;
        private boolean first = true;
        private CharacterCodingException error;

        StrictUtf8Reader(InputStream in) { this.in = in; }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            if (len == 0) return 0;
            if (!chars.hasRemaining() && !fill()) return -1;
            int n = Math.min(len, chars.remaining());
            chars.get(buf, off, n);
            return n;
        }

        /** Decodes the next chars into {@link #chars}; false at the end of the input. */
        private boolean fill() throws IOException {
            chars.clear();
            try {
                while (chars.position() == 0) {
                    if (error != null) throw error;
                    if (flushed) return false;
                    CoderResult r = decoder.decode(bytes, chars, eof);
                    if (r.isError()) {
                        error = new MalformedInputException(r.length());
                    } else if (r.isUnderflow()) {
                        if (eof) {
                            decoder.flush(chars);
                            flushed = true;
                        } else {
                            bytes.compact();
                            int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
                            if (n < 0) eof = true;
                            else bytes.position(bytes.position() + n);
                            bytes.flip();
                        }
                    }
                }
            } finally {
                chars.flip();
            }
            if (first) {
                first = false;
                if (chars.hasRemaining() && chars.get(chars.position()) == '\uFEFF') chars.get();
                if (!chars.hasRemaining()) return fill();
            }
            return true;
        }

        @Override
        public void close() throws IOException { in.close(); }
    }

    /** A prompt with its id, computed from the content where the file gives none. */
    private static Prompt prompt(String id, String text, List<Message> messages, ObjectNode metadata, String file,
                                 long line) {
        String resolved = id != null ? id : SampleKey.promptId(new Prompt("?", text, messages, null, null, 0));
        return new Prompt(resolved, text, messages, metadata, file, line);
    }
}
