package dev.distill4j.core.store;

import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.Usage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import dev.distill4j.core.SampleKey;
import org.sqlite.SQLiteConfig;

/**
 * The teacher scores an on-policy training run bought (docs/run-store.md, "teacher_scores"): every text the student
 * wrote and a remote teacher scored over HTTP, with the teacher's tokens and log-probabilities, so that a resumed or
 * repeated run never pays for the same score twice, and the spend of a run can be added up.
 *
 * <p>Two tables in the run's {@code samples.db} ({@link RunStore}'s schema since version 4: a run harvested before
 * gains them by its migration):
 * <pre>
 *   teacher_scores   key (SHA-256 of model, k, text) → teacher, model, dialect, k, text, tokens (TokenDistributionCodec),
 *                    prompt/completion tokens billed, cost, request id, latency, attempts, step, created_at
 *   teacher_dialects (base URL, model) → how that server scores text (echo | prompt_logprobs), found by one probe
 * </pre>
 * A connection of its own beside {@link RunStore}'s (SQLite WAL: readers and one writer at a time; writes here are
 * one row each). Thread-safe.
 */
public final class ScoreStore implements AutoCloseable {
    private static final int IN_CHUNK = 500;

    /**
     * One stored score.
     *
     * @param tokens the teacher's tokens of {@code text} with their logprobs and alternatives
     * @param step   the optimizer step (1-based) that bought it
     */
    public record Score(String key, String teacher, String model, String dialect, int topK, String text,
                        TokenDistribution tokens, Usage usage, double costUsd, String requestId, long latencyMs,
                        int attempts, long step) {}

    /** What a run has bought from one model: scores, billed tokens and cost. */
    public record Spend(long scores, long promptTokens, long completionTokens, double costUsd) {
        public long tokens() { return promptTokens + completionTokens; }
    }

    private final Path dbFile;
    private final Connection conn;

    private ScoreStore(Path dbFile, Connection conn) {
        this.dbFile = dbFile;
        this.conn = conn;
    }

    /** Opens the score tables of an existing run (its {@code samples.db}), creating them when absent. */
    public static ScoreStore open(Path runDir) throws IOException {
        Path db = runDir.resolve(RunStore.FILE);
        if (!Files.isRegularFile(db)) {
            throw new IOException("no run at " + runDir + " (no " + RunStore.FILE + "): harvest into it first");
        }
        // RunStore.openExisting checks that the file is a distill4j store, and migrates it (the score tables are
        // version 4's)
        RunStore.openExisting(runDir).close();
        try {
            SQLiteConfig config = new SQLiteConfig();
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
            config.setBusyTimeout(30_000);
            config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
            return new ScoreStore(db, config.createConnection("jdbc:sqlite:" + db.toAbsolutePath()));
        } catch (SQLException e) {
            throw new IOException("cannot open the teacher scores of " + db + ": " + e.getMessage(), e);
        }
    }

    /** The content key of a score: SHA-256 over the model, the alternatives asked for and the exact text. */
    public static String key(String model, int topK, String text) {
        return SampleKey.sha256Hex("teacher-score\u0000" + model + "\u0000" + topK + "\u0000" + text).substring(0, 32);
    }

    /** Stores a score; a key already stored keeps its first row (the same text scores the same). */
    public synchronized void put(Score s) {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO teacher_scores (key, teacher, model, dialect,"
                + " top_k, text, tokens, prompt_tokens, completion_tokens, cost_usd, request_id, latency_ms, attempts,"
                + " step, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING")) {
            ps.setString(1, s.key());
            ps.setString(2, s.teacher());
            ps.setString(3, s.model());
            ps.setString(4, s.dialect());
            ps.setInt(5, s.topK());
            ps.setString(6, s.text());
            ps.setBytes(7, TokenDistributionCodec.encode(s.tokens()));
            ps.setLong(8, s.usage().promptTokens());
            ps.setLong(9, s.usage().completionTokens());
            ps.setDouble(10, s.costUsd());
            ps.setString(11, s.requestId());
            ps.setLong(12, s.latencyMs());
            ps.setInt(13, s.attempts());
            ps.setLong(14, s.step());
            ps.setLong(15, Instant.now().toEpochMilli());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new RunStoreException(dbFile + ": cannot store a teacher score: " + e.getMessage(), e);
        }
    }

    /** The stored scores among {@code keys}, by key. */
    public synchronized Map<String, Score> find(Collection<String> keys) {
        List<String> unique = List.copyOf(new LinkedHashSet<>(keys));
        Map<String, Score> found = HashMap.newHashMap(unique.size());
        try {
            for (int from = 0; from < unique.size(); from += IN_CHUNK) {
                List<String> chunk = unique.subList(from, Math.min(unique.size(), from + IN_CHUNK));
                String sql = "SELECT key, teacher, model, dialect, top_k, text, tokens, prompt_tokens,"
                        + " completion_tokens, cost_usd, request_id, latency_ms, attempts, step FROM teacher_scores"
                        + " WHERE key IN (" + "?, ".repeat(chunk.size() - 1) + "?)";
                try (PreparedStatement ps = conn.prepareStatement(sql)) {
                    for (int i = 0; i < chunk.size(); i++) ps.setString(i + 1, chunk.get(i));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            Score s = new Score(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                    rs.getInt(5), rs.getString(6), TokenDistributionCodec.decode(rs.getBytes(7)),
                                    new Usage(rs.getLong(8), rs.getLong(9)), rs.getDouble(10), rs.getString(11),
                                    rs.getLong(12), rs.getInt(13), rs.getLong(14));
                            found.put(s.key(), s);
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw new RunStoreException(dbFile + ": cannot read teacher scores: " + e.getMessage(), e);
        }
        return found;
    }

    /** What the run has bought from {@code model} (any server). */
    public synchronized Spend spend(String model) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT count(*), total(prompt_tokens),"
                + " total(completion_tokens), total(cost_usd) FROM teacher_scores WHERE model = ?")) {
            ps.setString(1, model);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Spend(rs.getLong(1), (long) rs.getDouble(2), (long) rs.getDouble(3), rs.getDouble(4));
            }
        } catch (SQLException e) {
            throw new RunStoreException(dbFile + ": cannot sum teacher scores: " + e.getMessage(), e);
        }
    }

    /** Billed tokens of the scores stored for {@code model} by steps 1..{@code step} (0: the probe). */
    public synchronized long tokensThrough(String model, long step) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT total(prompt_tokens + completion_tokens)"
                + " FROM teacher_scores WHERE model = ? AND step <= ?")) {
            ps.setString(1, model);
            ps.setLong(2, step);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return (long) rs.getDouble(1);
            }
        } catch (SQLException e) {
            throw new RunStoreException(dbFile + ": cannot sum teacher scores: " + e.getMessage(), e);
        }
    }

    /** The dialect a probe found for this server and model, if one was stored. */
    public synchronized Optional<String> dialect(String teacher, String model) {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT dialect FROM teacher_dialects WHERE teacher = ? AND model = ?")) {
            ps.setString(1, teacher);
            ps.setString(2, model);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new RunStoreException(dbFile + ": cannot read teacher dialects: " + e.getMessage(), e);
        }
    }

    public synchronized void putDialect(String teacher, String model, String dialect) {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO teacher_dialects (teacher, model, dialect,"
                + " probed_at) VALUES (?, ?, ?, ?) ON CONFLICT (teacher, model) DO UPDATE SET dialect = excluded.dialect,"
                + " probed_at = excluded.probed_at")) {
            ps.setString(1, teacher);
            ps.setString(2, model);
            ps.setString(3, dialect);
            ps.setLong(4, Instant.now().toEpochMilli());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new RunStoreException(dbFile + ": cannot store a teacher dialect: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            conn.close();
        } catch (SQLException e) {
            throw new RunStoreException(dbFile + ": cannot close: " + e.getMessage(), e);
        }
    }
}
