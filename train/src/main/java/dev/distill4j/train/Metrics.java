package dev.distill4j.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code metrics.jsonl}: one JSON object per line, appended as training goes. An append-only log is the one file
 * not written through temp + rename (rewriting it every step would cost O(steps²)); instead every checkpoint records
 * its byte length, and a resumed run {@link #open truncates} it there, so lines written after the checkpoint (by a
 * run that was then killed) disappear and the file reads as one uninterrupted run.
 */
public final class Metrics implements AutoCloseable {
    private final FileChannel channel;

    private Metrics(FileChannel channel) {
        this.channel = channel;
    }

    /**
     * Opens the file for appending after cutting it to {@code length} bytes (0 for a fresh run). A file shorter
     * than {@code length} means it is not the one the checkpoint knew: an error.
     */
    public static Metrics open(Path file, long length) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            if (channel.size() < length) {
                throw new IOException(file + " is " + channel.size() + " bytes but the checkpoint recorded " + length
                        + ": it was truncated or replaced since; move it aside to resume");
            }
            channel.truncate(length);
            channel.position(length);
            return new Metrics(channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Appends one line. */
    public synchronized void append(ObjectNode line) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap((Json.write(line) + "\n").getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) channel.write(bytes);
    }

    /** Forces the lines to disk and returns the file's length, for a checkpoint to record. */
    public synchronized long sync() throws IOException {
        channel.force(false);
        return channel.size();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** A step's line; {@code on_policy} only in runs that may take on-policy steps. Non-finite values are null. */
    static ObjectNode stepLine(Trainer.StepMetrics m, boolean withOnPolicy) {
        ObjectNode line = Json.object();
        line.put("step", m.step());
        line.put("epoch", round(m.epoch(), 4));
        line.put("loss", m.loss());
        line.put("ce", m.ce());
        putFinite(line, "kd", m.kd());
        line.put("kd_share", m.kdShare());
        line.put("lr", m.lr());
        putFinite(line, "grad_norm", m.gradNorm());
        line.put("tokens", m.tokens());
        line.put("tokens_per_s", round(m.tokensPerSecond(), 1));
        line.put("elapsed", round(m.elapsedSeconds(), 3));
        if (withOnPolicy) line.put("on_policy", m.onPolicy());
        if (m.teacherTokens() >= 0) line.put("teacher_tokens", m.teacherTokens());
        return line;
    }

    /** A held-out evaluation's line, {@code elapsed} wall seconds into the run. */
    static ObjectNode evalLine(Trainer.EvalMetrics e, double elapsed) {
        ObjectNode line = Json.object();
        line.put("step", e.step());
        line.put("eval_loss", e.loss());
        line.put("eval_top1_agreement", e.top1Agreement());
        putFinite(line, "eval_kl", e.kl());
        line.put("eval_positions", e.positions());
        line.put("elapsed", round(elapsed, 3));
        return line;
    }

    private static void putFinite(ObjectNode line, String key, double value) {
        if (Double.isFinite(value)) line.put(key, value);
        else line.putNull(key);
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    /** Reads a metrics file's lines as JSON objects (tests, reports). */
    public static java.util.List<ObjectNode> read(Path file) throws IOException {
        java.util.List<ObjectNode> lines = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) lines.add((ObjectNode) Json.parse(line));
        }
        return lines;
    }
}
