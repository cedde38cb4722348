package dev.distill4j.train;

import dev.distill4j.core.io.FileTrees;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.io.SafetensorsReader;
import dev.distill4j.model.io.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A trainer checkpoint, {@code checkpoints/step-N/}:
 * <pre>
 *   config.json, model.safetensors   the student's weights, F32 (a loadable Hugging Face folder)
 *   optimizer.safetensors            AdamW's moments: exp_avg.&lt;param&gt;, exp_avg_sq.&lt;param&gt;, F32
 *   trainer_state.json               {@link TrainerState}: step, data position, schedule, metrics length
 *   distill_training.json            {@link TrainingRecord} so far: what --resume checks the objective against
 *   checksums.json                   SHA-256 of every other file
 * </pre>
 * The folder is written under a temporary name and renamed into place, so {@code step-N} either is complete or does
 * not exist; the checksums catch what a rename cannot (a disk that lost or flipped bytes later).
 */
public final class TrainerCheckpoint {
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String STATE_FILE = "trainer_state.json";
    public static final String CHECKSUMS_FILE = "checksums.json";
    private static final Pattern NAME = Pattern.compile("step-(\\d+)");

    private TrainerCheckpoint() {}

    /** A checkpoint read back: weights and optimizer moments in the caller's manager, and the trainer state. */
    public record Loaded(Path dir, Map<String, NDArray> weights, Map<String, NDArray> optimizer, TrainerState state) {}

    /**
     * Writes {@code step-N} under {@code checkpointsDir} atomically, then deletes all but the newest {@code keep}.
     *
     * @param optimizerState AdamW.exportState without its {@code step} entry (the step is in the trainer state)
     */
    public static Path save(Path checkpointsDir, ModelConfig config, Map<String, NDArray> weights,
            Map<String, NDArray> optimizerState, TrainerState state, int keep) throws IOException {
        return save(checkpointsDir, config, weights, optimizerState, state, null, keep);
    }

    /**
     * As {@link #save(Path, ModelConfig, Map, Map, TrainerState, int)}, with the training record so far (null: none),
     * covered by the checksums like every other file.
     */
    public static Path save(Path checkpointsDir, ModelConfig config, Map<String, NDArray> weights,
            Map<String, NDArray> optimizerState, TrainerState state, TrainingRecord record, int keep)
            throws IOException {
        Files.createDirectories(checkpointsDir);
        Path target = checkpointsDir.resolve("step-" + state.step());
        Path tmp = checkpointsDir.resolve(".step-" + state.step() + ".tmp");
        FileTrees.delete(tmp);
        Files.createDirectories(tmp);
        Checkpoint.save(tmp, config, weights, Checkpoint.SaveOptions.defaults().withDtype(DType.F32));
        SafetensorsWriter optimizer = new SafetensorsWriter();
        optimizerState.forEach(optimizer::add);
        optimizer.write(tmp.resolve(OPTIMIZER_FILE), DType.F32);
        AtomicFiles.writeString(tmp.resolve(STATE_FILE), Json.writePretty(state) + "\n");
        if (record != null) record.write(tmp);
        ObjectNode sums = Json.object();
        for (Map.Entry<String, String> e : checksums(tmp).entrySet()) sums.put(e.getKey(), e.getValue());
        AtomicFiles.writeString(tmp.resolve(CHECKSUMS_FILE), Json.writePretty(sums) + "\n");
        // a stale folder of this step (left by a run resumed from an earlier one) makes way for the new one
        FileTrees.delete(target);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        prune(checkpointsDir, keep);
        return target;
    }

    /** The step folders under {@code checkpointsDir}, newest first. */
    public static List<Path> list(Path checkpointsDir) throws IOException {
        if (!Files.isDirectory(checkpointsDir)) return List.of();
        try (Stream<Path> s = Files.list(checkpointsDir)) {
            return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p))
                    .sorted(Comparator.comparingLong(TrainerCheckpoint::stepOf).reversed())
                    .toList();
        }
    }

    static long stepOf(Path dir) {
        Matcher m = NAME.matcher(dir.getFileName().toString());
        if (!m.matches()) throw new InvalidInputException(dir + " is not a checkpoint folder (step-N)");
        return Long.parseLong(m.group(1));
    }

    /** Null when every file listed in checksums.json is there with its recorded SHA-256; else what is wrong. */
    public static String verify(Path dir) {
        Path manifest = dir.resolve(CHECKSUMS_FILE);
        if (!Files.isRegularFile(manifest)) return "it has no " + CHECKSUMS_FILE;
        try {
            JsonNode recorded = Json.parse(Files.readString(manifest, StandardCharsets.UTF_8));
            Map<String, String> actual = checksums(dir);
            for (String required : List.of(Checkpoint.CONFIG_FILE, OPTIMIZER_FILE, STATE_FILE)) {
                if (!recorded.has(required)) return CHECKSUMS_FILE + " does not list " + required;
            }
            for (var it = recorded.fields(); it.hasNext(); ) {
                var e = it.next();
                String sum = actual.get(e.getKey());
                if (sum == null) return e.getKey() + " is missing";
                if (!sum.equals(e.getValue().asText())) return e.getKey() + " does not match its SHA-256";
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return "it cannot be read (" + e.getMessage() + ")";
        }
    }

    /**
     * The newest checkpoint whose checksums verify; each newer one that does not is reported to {@code warn} and
     * skipped.
     */
    public static Optional<Path> newestValid(Path checkpointsDir, Consumer<String> warn) throws IOException {
        for (Path dir : list(checkpointsDir)) {
            String problem = verify(dir);
            if (problem == null) return Optional.of(dir);
            warn.accept("skipping checkpoint " + dir + ": " + problem);
        }
        return Optional.empty();
    }

    /** Reads a verified checkpoint; the tensors go into {@code manager}. */
    public static Loaded load(Path dir, NDManager manager) throws IOException {
        TrainerState state = Json.MAPPER.readValue(dir.resolve(STATE_FILE).toFile(), TrainerState.class);
        if (state.formatVersion() != TrainerState.FORMAT) {
            throw new IOException(dir + " has trainer state format " + state.formatVersion() + "; this version reads "
                    + TrainerState.FORMAT);
        }
        Map<String, NDArray> weights = Checkpoint.load(dir, manager);
        Map<String, NDArray> optimizer = new LinkedHashMap<>();
        try (SafetensorsReader reader = SafetensorsReader.open(dir.resolve(OPTIMIZER_FILE))) {
            for (String name : reader.names()) optimizer.put(name, reader.read(manager, name));
        }
        return new Loaded(dir, weights, optimizer, state);
    }

    /** SHA-256 of every regular file in {@code dir} except the manifest, by file name. */
    static Map<String, String> checksums(Path dir) throws IOException {
        Map<String, String> sums = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String name = p.getFileName().toString();
                if (!name.equals(CHECKSUMS_FILE)) sums.put(name, sha256(p));
            }
        }
        return sums;
    }

    static String sha256(Path file) throws IOException {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void prune(Path checkpointsDir, int keep) throws IOException {
        List<Path> all = list(checkpointsDir);
        for (int i = keep; i < all.size(); i++) FileTrees.delete(all.get(i));
        try (Stream<Path> s = Files.list(checkpointsDir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) FileTrees.delete(p);
        }
    }
}
