package dev.distill4j.core.dataset;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleKey;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.Version;
import dev.distill4j.core.store.RunStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.DuplicateHeaderMode;

/**
 * Turns a labelled data set (prompts with reference answers) into a run, so gold domain data trains beside a
 * teacher's answers: provider {@value #PROVIDER}, capability {@code TEXT}, one done sample per answer, the data set's
 * file, format and SHA-256 in {@code run.json}.
 *
 * <p>Formats, all streamed (a file of millions of examples is never held in memory):
 * <ul>
 *   <li>{@code openai-chat}: OpenAI's fine-tuning JSONL, {@code {"messages": [..., {"role": "assistant", ...}]}};
 *       the last assistant message is the answer, everything before it the prompt (earlier turns included).</li>
 *   <li>{@code hf-messages}: Hugging Face / TRL conversational JSONL: {@code messages} with role/content, or
 *       ShareGPT's {@code conversations} with from/value ({@code human}, {@code gpt}, {@code system}); an {@code id},
 *       {@code sample_index} and {@code metadata} beside it (as {@code distill export --format hf-messages} writes)
 *       are kept.</li>
 *   <li>{@code alpaca}: {@code {"instruction", "input", "output"}} as a JSON array (alpaca_data.json) or JSONL; the
 *       prompt is the instruction, then a blank line and the input when there is one.</li>
 *   <li>{@code csv}: a header row with {@code prompt} and one of {@code response}, {@code completion},
 *       {@code answer}, {@code output}; optional {@code system} and {@code id}.</li>
 * </ul>
 * Prompts are chat prompts (the student's chat template renders them, as for harvested chat prompts). An example
 * without an id gets the content hash id a prompt file would give it; a prompt that appears with several answers
 * gets one sample per distinct answer (sample index 0, 1, …). Importing the same file again adds nothing.
 */
public final class DatasetImporter {
    public static final String PROVIDER = "dataset";
    public static final String ENDPOINT = "chat";
    private static final int BATCH = 512;
    private static final int MALFORMED_LISTED = 20;

    public enum Format {
        OPENAI_CHAT("openai-chat"), HF_MESSAGES("hf-messages"), ALPACA("alpaca"), CSV("csv");

        private final String cliName;

        Format(String cliName) { this.cliName = cliName; }

        public String cliName() { return cliName; }

        public static Format parse(String name) {
            String n = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
            for (Format f : values()) if (f.cliName.equals(n)) return f;
            throw new InvalidInputException("unknown import format '" + name + "' (expected "
                    + Arrays.stream(values()).map(Format::cliName).collect(Collectors.joining(", ")) + ")");
        }
    }

    /**
     * @param examples   examples read and stored (new or already there)
     * @param added      samples new in the run
     * @param malformed  examples skipped, with file, line and reason (the first {@value #MALFORMED_LISTED})
     * @param skipped    how many were skipped in all
     * @param sha256     the file's SHA-256, as run.json records it
     */
    public record Result(long examples, long added, List<String> malformed, long skipped, String sha256) {}

    /** One example: the prompt and its reference answer, or why the record is unusable. */
    private record Example(Prompt prompt, String answer, String error, long line) {}

    private DatasetImporter() {}

    /**
     * Imports {@code file} into {@code runDir} (created if missing) under the data set name {@code name}.
     *
     * @param strict stop at the first malformed example (nothing of the file is stored then) instead of skipping it
     */
    public static Result importFile(Path file, Format format, Path runDir, String name, boolean strict)
            throws IOException {
        if (!Files.isRegularFile(file)) throw new InvalidInputException("no data set file at " + file);
        if (RunManifest.exists(runDir)) {
            RunManifest m = RunManifest.read(runDir);
            if (!PROVIDER.equals(m.provider()) || !name.equals(m.model())) {
                throw new InvalidInputException(runDir + " holds samples of " + m.provider() + "/" + m.model()
                        + "; import the data set into a run of its own");
            }
        }
        String sha = sha256(file);
        if (strict) {
            // a first pass that only validates, so that a strict import stores all or nothing
            forEachExample(file, format, e -> {
                if (e.error() != null) throw new InvalidInputException(file + ":" + e.line() + ": " + e.error());
            });
        }
        ObjectNode sampling = Json.object();
        Instant now = Instant.now();
        List<String> malformed = new ArrayList<>();
        long[] counts = new long[3];   // examples, added, skipped
        Map<String, List<String>> answersById = new HashMap<>();
        try (RunStore store = RunStore.open(runDir)) {
            Instant created = RunManifest.exists(runDir) ? RunManifest.read(runDir).created() : now;
            new RunManifest(PROVIDER, null, name, ENDPOINT, null, Capability.TEXT.toString(), sampling,
                    file.toAbsolutePath().toString(), sha, Version.VERSION, created, now,
                    provenance(format, file, sha)).write(runDir);
            List<Prompt> prompts = new ArrayList<>();
            List<Sample> samples = new ArrayList<>();
            forEachExample(file, format, e -> {
                if (e.error() != null) {
                    counts[2]++;
                    if (malformed.size() < MALFORMED_LISTED) malformed.add(file + ":" + e.line() + ": " + e.error());
                    return;
                }
                counts[0]++;
                List<String> answers = answersById.computeIfAbsent(e.prompt().id(), k -> new ArrayList<>(1));
                if (answers.contains(e.answer())) return;   // the same example twice
                int index = answers.size();
                answers.add(e.answer());
                prompts.add(e.prompt());
                samples.add(Sample.builder(SampleKey.of(e.prompt(), PROVIDER, name, ENDPOINT, sampling, index),
                        e.prompt().id(), index).status(SampleStatus.DONE).text(e.answer()).finishReason("stop")
                        .attempts(0).stored(now).build());
                if (samples.size() >= BATCH) counts[1] += flush(store, prompts, samples);
            });
            counts[1] += flush(store, prompts, samples);
        }
        return new Result(counts[0], counts[1], List.copyOf(malformed), counts[2], sha);
    }

    /** Stores a batch; returns how many of its samples were not stored before. */
    private static long flush(RunStore store, List<Prompt> prompts, List<Sample> samples) {
        if (samples.isEmpty()) return 0;
        Map<String, Sample> existing = store.find(samples.stream().map(Sample::key).toList());
        store.putPrompts(prompts);
        List<Sample> added = samples.stream().filter(s -> !existing.containsKey(s.key())).toList();
        store.upsertSamples(added);
        prompts.clear();
        samples.clear();
        return added.size();
    }

    private static ObjectNode provenance(Format format, Path file, String sha) {
        ObjectNode n = Json.object();
        n.put("kind", "imported data set");
        n.put("format", format.cliName());
        n.put("file", file.toAbsolutePath().toString());
        n.put("sha256", sha);
        n.put("imported", Instant.now().toString());
        return n;
    }

    // ------------------------------------------------------------------ reading

    private static void forEachExample(Path file, Format format, Consumer<Example> sink) throws IOException {
        String source = file.getFileName().toString();
        switch (format) {
            case CSV -> readCsv(file, source, sink);
            case ALPACA -> {
                if (firstNonBlank(file) == '[') readJsonArray(file, source, sink);
                else readJsonl(file, source, format, sink);
            }
            default -> readJsonl(file, source, format, sink);
        }
    }

    private static void readJsonl(Path file, String source, Format format, Consumer<Example> sink) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) continue;
                JsonNode node;
                try {
                    node = Json.MAPPER.readTree(line);
                } catch (IOException e) {
                    sink.accept(new Example(null, null, "not JSON: " + firstLine(e.getMessage()), n));
                    continue;
                }
                sink.accept(example(node, format, source, n));
            }
        }
    }

    /** Alpaca's JSON array, element by element with a streaming parser; "line" is the element's line. */
    private static void readJsonArray(Path file, String source, Consumer<Example> sink) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             JsonParser p = Json.MAPPER.getFactory().createParser(reader)) {
            if (p.nextToken() != JsonToken.START_ARRAY) throw new InvalidInputException(file + " is not a JSON array");
            while (true) {
                JsonToken t;
                try {
                    t = p.nextToken();
                } catch (IOException e) {
                    throw new InvalidInputException(file + ": broken JSON near line "
                            + p.currentLocation().getLineNr() + ": " + firstLine(e.getMessage()));
                }
                if (t == JsonToken.END_ARRAY || t == null) break;
                long line = p.currentLocation().getLineNr();
                JsonNode node = Json.MAPPER.readTree(p);
                sink.accept(example(node, Format.ALPACA, source, line));
            }
        }
    }

    private static void readCsv(Path file, String source, Consumer<Example> sink) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             CSVParser parser = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true)
                     .setDuplicateHeaderMode(DuplicateHeaderMode.DISALLOW).setIgnoreEmptyLines(true).build()
                     .parse(reader)) {
            Map<String, Integer> header = new HashMap<>();
            parser.getHeaderMap().forEach((k, v) -> header.put(k.strip().toLowerCase(Locale.ROOT), v));
            String answerColumn = null;
            for (String c : List.of("response", "completion", "answer", "output")) {
                if (header.containsKey(c)) {
                    answerColumn = c;
                    break;
                }
            }
            if (!header.containsKey("prompt") || answerColumn == null) {
                throw new InvalidInputException(file + ": a CSV data set needs a 'prompt' column and one of "
                        + "'response', 'completion', 'answer', 'output'; it has " + parser.getHeaderNames());
            }
            Iterator<CSVRecord> it = parser.iterator();
            while (it.hasNext()) {
                CSVRecord rec = it.next();
                long line = rec.getParser().getCurrentLineNumber();
                String prompt = get(rec, header, "prompt");
                String answer = get(rec, header, answerColumn);
                if (prompt == null || prompt.isBlank()) {
                    sink.accept(new Example(null, null, "empty prompt", line));
                    continue;
                }
                if (answer == null || answer.isBlank()) {
                    sink.accept(new Example(null, null, "empty " + answerColumn, line));
                    continue;
                }
                List<Message> chat = new ArrayList<>();
                String system = get(rec, header, "system");
                if (system != null && !system.isBlank()) chat.add(Message.system(system));
                chat.add(Message.user(prompt));
                sink.accept(new Example(prompt(get(rec, header, "id"), chat, null, source, line), answer, null, line));
            }
        }
    }

    private static String get(CSVRecord rec, Map<String, Integer> header, String column) {
        Integer i = header.get(column);
        return i == null || i >= rec.size() ? null : rec.get(i);
    }

    /** One JSON record of a JSONL / JSON-array format as an example, or the reason it is not one. */
    static Example example(JsonNode node, Format format, String source, long line) {
        if (!node.isObject()) return new Example(null, null, "not a JSON object", line);
        String id = node.hasNonNull("id") ? node.get("id").asText() : null;
        ObjectNode metadata = node.get("metadata") instanceof ObjectNode m ? m.deepCopy() : null;
        if (format == Format.ALPACA) {
            String instruction = text(node, "instruction");
            String output = text(node, "output");
            if (instruction == null || instruction.isBlank()) return new Example(null, null, "no \"instruction\"", line);
            if (output == null) return new Example(null, null, "no \"output\"", line);
            String input = text(node, "input");
            String user = input == null || input.isBlank() ? instruction : instruction + "\n\n" + input;
            return new Example(prompt(id, List.of(Message.user(user)), metadata, source, line), output, null, line);
        }
        List<Message> turns = new ArrayList<>();
        JsonNode list = node.get("messages");
        boolean shareGpt = false;
        if (list == null && format == Format.HF_MESSAGES) {
            list = node.get("conversations");
            shareGpt = true;
        }
        if (list == null || !list.isArray() || list.isEmpty()) {
            return new Example(null, null, format == Format.HF_MESSAGES ? "no \"messages\" or \"conversations\" list"
                    : "no \"messages\" list", line);
        }
        for (JsonNode m : list) {
            String role = shareGpt ? shareGptRole(text(m, "from")) : text(m, "role");
            String content = shareGpt ? text(m, "value") : content(m.get("content"));
            if (role == null) return new Example(null, null, "a message without a known role", line);
            if (content == null) return new Example(null, null, "a " + role + " message without text content", line);
            turns.add(new Message(role, content));
        }
        if (!turns.getLast().role().equals("assistant")) {
            return new Example(null, null, "the last message is not the assistant's answer", line);
        }
        List<Message> prompt = turns.subList(0, turns.size() - 1);
        if (prompt.stream().noneMatch(m -> m.role().equals("user"))) {
            return new Example(null, null, "no user message before the answer", line);
        }
        return new Example(prompt(id, prompt, metadata, source, line), turns.getLast().content(), null, line);
    }

    /** A message's text: a string, or OpenAI's content parts joined when all are text. */
    private static String content(JsonNode c) {
        if (c == null || c.isNull()) return null;
        if (c.isTextual()) return c.asText();
        if (!c.isArray()) return null;
        StringBuilder b = new StringBuilder();
        for (JsonNode part : c) {
            if (!"text".equals(part.path("type").asText()) || !part.hasNonNull("text")) return null;
            b.append(part.get("text").asText());
        }
        return b.toString();
    }

    private static String shareGptRole(String from) {
        if (from == null) return null;
        return switch (from.toLowerCase(Locale.ROOT)) {
            case "human", "user" -> "user";
            case "gpt", "assistant", "chatgpt", "bard", "model" -> "assistant";
            case "system" -> "system";
            default -> null;
        };
    }

    private static Prompt prompt(String id, List<Message> chat, ObjectNode metadata, String source, long line) {
        Prompt content = new Prompt("x", null, chat, null, null, 0);
        String pid = id != null && !id.isBlank() ? id : SampleKey.promptId(content);
        return new Prompt(pid, null, chat, metadata, source, line);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() || !v.isValueNode() ? null : v.asText();
    }

    private static int firstNonBlank(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int c;
            while ((c = r.read()) != -1) if (!Character.isWhitespace(c) && c != '\uFEFF') return c;
            return -1;
        }
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest())) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        }
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
