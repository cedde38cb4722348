package dev.distill4j.guard.detect;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the texts to test for a watermark from files, as {@code distill guard detect} takes them:
 * <ul>
 *   <li>{@code .jsonl} / {@code .ndjson}: one JSON object per line with {@code text} (required), {@code prompt}
 *       (optional: the text it continues, excluded from scoring) and {@code id} (optional; default
 *       {@code FILE:LINE}); blank lines are skipped;</li>
 *   <li>anything else: plain UTF-8 text, the whole file one text whose id is the file's path.</li>
 * </ul>
 * A malformed line or file is an error naming the file and line; nothing is silently skipped, since a skipped text
 * would change the pooled p-value.
 */
public final class TextFiles {
    private TextFiles() {}

    /** Every text of every file, in order. */
    public static List<Detector.Input> read(List<Path> files) throws IOException {
        List<Detector.Input> out = new ArrayList<>();
        for (Path f : files) out.addAll(read(f));
        return out;
    }

    public static List<Detector.Input> read(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(file + " is a folder; give the text files (or JSONL files) themselves");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (NoSuchFileException e) {
            throw new InvalidInputException("no such file: " + file);
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(file + " is not UTF-8 text");
        }
        return isJsonl(file) ? jsonl(file, text) : List.of(new Detector.Input(file.toString(), null, text));
    }

    static boolean isJsonl(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".jsonl") || name.endsWith(".ndjson");
    }

    private static List<Detector.Input> jsonl(Path file, String content) {
        List<Detector.Input> out = new ArrayList<>();
        String[] lines = content.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) continue;
            String where = file + ":" + (i + 1);
            JsonNode o;
            try {
                o = Json.parse(line);
            } catch (java.io.UncheckedIOException e) {
                String why = e.getCause() instanceof com.fasterxml.jackson.core.JsonProcessingException j
                        ? j.getOriginalMessage() : e.getMessage();
                throw new InvalidInputException(where + ": not valid JSON (" + firstLine(why) + ")");
            }
            if (!o.isObject()) throw new InvalidInputException(where + ": not a JSON object");
            JsonNode text = o.get("text");
            if (text == null || text.isNull()) {
                throw new InvalidInputException(where + ": no \"text\" field (each line needs {\"text\": \"...\"}, "
                        + "optionally \"prompt\" and \"id\")");
            }
            if (!text.isTextual()) throw new InvalidInputException(where + ": \"text\" must be a string");
            JsonNode prompt = o.get("prompt");
            if (prompt != null && !prompt.isNull() && !prompt.isTextual()) {
                throw new InvalidInputException(where + ": \"prompt\" must be a string");
            }
            JsonNode id = o.get("id");
            if (id != null && !id.isNull() && !id.isValueNode()) {
                throw new InvalidInputException(where + ": \"id\" must be a string or a number");
            }
            out.add(new Detector.Input(id == null || id.isNull() ? where : id.asText(),
                    prompt == null || prompt.isNull() ? null : prompt.asText(), text.asText()));
        }
        return out;
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
