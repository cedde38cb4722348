package dev.distill4j.train;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.Version;
import dev.distill4j.train.data.ExampleSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How a student was trained, {@code distill_training.json} in the student folder (and in every checkpoint, so a
 * resumed run continues the record): one entry per training the weights went through, oldest first. A student
 * trained from another distill4j student inherits that student's entries. {@code distill eval} reads the last
 * entry's example settings, so it scores the examples training held out without the user repeating the flags.
 * Snake-case keys; see docs/training.md.
 *
 * @param format      {@link #FORMAT}
 * @param toolVersion the distill4j version that wrote the file
 * @param runs        the trainings, oldest first; never empty
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainingRecord(int format, String toolVersion, List<Training> runs) {
    public static final String FILE = "distill_training.json";
    public static final int FORMAT = 1;

    public TrainingRecord {
        runs = List.copyOf(runs);
        if (runs.isEmpty()) throw new IllegalArgumentException("a training record lists at least one training");
    }

    /**
     * One training (one {@code distill train} command and its resumes).
     *
     * @param run         the run folder trained on (absolute)
     * @param startedFrom the {@code --student} folder the weights started from (absolute)
     * @param teacher     the run's teacher from run.json ("provider model"), or null when the run has no run.json
     * @param examples    the example-building settings, prompt format resolved
     * @param objective   the loss and optimizer settings in force at the last step
     * @param schedule    the data order and learning-rate schedule
     * @param steps       optimizer steps completed
     * @param tokens      real tokens trained on
     * @param resumedAt   the steps a {@code --resume} continued from, in order
     * @param changes     objective flags changed on purpose at a resume ({@code --allow-changed})
     * @param updated     when this entry was last written (ISO-8601)
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Training(String run, String startedFrom, String teacher, ExampleSettings examples,
                           Objective objective, Schedule schedule, long steps, long tokens, List<Long> resumedAt,
                           List<AllowedChange> changes, String updated) {
        public Training {
            resumedAt = resumedAt == null ? List.of() : List.copyOf(resumedAt);
            changes = changes == null ? List.of() : List.copyOf(changes);
        }
    }

    /**
     * The settings that fix which examples go into which step and the learning rate at each: {@code lr} warmed up
     * linearly over {@code warmupSteps}, then cosine to 0 at {@code totalSteps}; {@code mixture} names the runs mixed
     * and their weights ({@code --run DIR:WEIGHT}, each with its training examples), null for one run.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Schedule(long seed, int batchTokens, int gradAccum, int epochs, long maxSteps, long totalSteps,
                           long warmupSteps, double lr, String mixture) {
        static Schedule of(TrainerState.Shaping s) {
            return new Schedule(s.seed(), s.batchTokens(), s.gradAccum(), s.epochs(), s.maxSteps(), s.totalSteps(),
                    s.warmupSteps(), s.lr(), s.mixture());
        }
    }

    /** An objective flag changed on purpose when resuming at {@code step}. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record AllowedChange(long step, String flag, String from, String to) {}

    /** The last (current) training. */
    public Training last() { return runs.getLast(); }

    /**
     * The record of a training of {@code config} at step 0: the starting student's own record (when it has one)
     * followed by this training.
     */
    static TrainingRecord begin(TrainConfig config, ExampleSettings examples, Objective objective,
            TrainerState.Shaping shaping) throws IOException {
        TrainingRecord base = read(config.studentDir()).orElse(null);
        String teacher = null;
        if (Files.isRegularFile(config.runDir().resolve(RunManifest.FILE))) {
            RunManifest m = RunManifest.read(config.runDir());
            teacher = m.provider() + " " + m.model();
        }
        Training t = new Training(absolute(config.runDir()), absolute(config.studentDir()), teacher, examples,
                objective, Schedule.of(shaping), 0, 0, List.of(), List.of(), Instant.now().toString());
        return start(base, t);
    }

    private static String absolute(Path p) { return p.toAbsolutePath().normalize().toString(); }

    /**
     * The record a new training starts: the starting student's own trainings (when it has a record) followed by
     * this one at step 0.
     */
    static TrainingRecord start(TrainingRecord base, Training training) {
        List<Training> all = new ArrayList<>(base == null ? List.of() : base.runs());
        all.add(training);
        return new TrainingRecord(FORMAT, Version.VERSION, all);
    }

    /** This record with its last training replaced. */
    TrainingRecord withLast(Training training) {
        List<Training> all = new ArrayList<>(runs);
        all.set(all.size() - 1, training);
        return new TrainingRecord(FORMAT, Version.VERSION, all);
    }

    /** This record with the last training at {@code steps} steps and {@code tokens} tokens, stamped now. */
    TrainingRecord at(long steps, long tokens) {
        Training t = last();
        return withLast(new Training(t.run(), t.startedFrom(), t.teacher(), t.examples(), t.objective(),
                t.schedule(), steps, tokens, t.resumedAt(), t.changes(), Instant.now().toString()));
    }

    /** The record of {@code dir} (a student or checkpoint folder), or empty when it has none. */
    public static Optional<TrainingRecord> read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) return Optional.empty();
        TrainingRecord r;
        try {
            r = Json.MAPPER.readValue(file.toFile(), TrainingRecord.class);
        } catch (IOException | RuntimeException e) {
            throw new InvalidInputException(file + " cannot be read (" + e.getMessage() + "): restore it, or "
                    + "delete it and pass the training flags by hand", e);
        }
        if (r.format() != FORMAT) {
            throw new InvalidInputException(file + " has format " + r.format() + "; this version of distill4j "
                    + "reads format " + FORMAT);
        }
        return Optional.of(r);
    }

    /** Writes {@code dir/distill_training.json} atomically (temp + fsync + rename). */
    public void write(Path dir) throws IOException {
        AtomicFiles.writeString(dir.resolve(FILE), Json.writePretty(this) + "\n");
    }
}
