package dev.distill4j.core.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleKey;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.Usage;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * A run's {@code samples.db}: its prompts and the teacher's samples, in SQLite (WAL), so a harvest can be killed at
 * any moment and resumed, and a million prompts never have to fit in memory. Schema and blob format:
 * docs/run-store.md.
 *
 * <p>Thread-safe: writers share one connection under this object's lock, each batch in one transaction;
 * {@link #forEachSample} reads on a connection of its own, so a long export does not hold writers up. Other
 * processes may open the same run: SQLite's locks and the busy timeout order them.
 */
public final class RunStore implements AutoCloseable {
    public static final String FILE = "samples.db";
    /** {@code PRAGMA user_version} of the schema this class writes. */
    public static final int SCHEMA_VERSION = 4;
    /** {@code PRAGMA application_id}: "D4J1", so distill4j stores tell themselves apart from other SQLite files. */
    public static final int APPLICATION_ID = 0x44344A31;

    private static final int BUSY_TIMEOUT_MS = 30_000;
    /** Rows per JDBC batch inside a transaction: bounds the driver's buffered parameters. */
    private static final int BATCH_ROWS = 10_000;
    /** Keys per {@code IN (...)} lookup: well under SQLite's bound-parameter limit. */
    private static final int IN_CHUNK = 500;
    private static final int PREVIEW_CHARS = 120;

    /** Version 2: a teacher's embeddings of texts, for embedding distillation. */
    private static final String EMBEDDINGS_SCHEMA = """
            CREATE TABLE IF NOT EXISTS embeddings (
              key            TEXT PRIMARY KEY,
              teacher        TEXT NOT NULL,
              model          TEXT NOT NULL,
              requested_dims INTEGER NOT NULL,
              dims           INTEGER NOT NULL,
              text           TEXT NOT NULL,
              vector         BLOB NOT NULL,
              prompt_tokens  INTEGER NOT NULL DEFAULT 0,
              request_id     TEXT,
              created_at     INTEGER NOT NULL
            );
            """;
    /**
     * Version 3: provider batches ({@code harvest --batch}) and the samples each holds, so a harvest killed while a
     * batch runs at the provider resumes polling it instead of buying its requests again.
     */
    private static final String BATCHES_SCHEMA = """
            CREATE TABLE IF NOT EXISTS batches (
              id            TEXT PRIMARY KEY,
              provider      TEXT NOT NULL,
              provider_id   TEXT,
              input_file_id TEXT,
              state         TEXT NOT NULL CHECK (state IN ('submitting', 'open', 'collected')),
              status        TEXT,
              requests      INTEGER NOT NULL,
              reserved_usd  REAL NOT NULL DEFAULT 0,
              detail        TEXT,
              created_at    INTEGER NOT NULL,
              updated_at    INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS batch_samples (
              batch_id   TEXT NOT NULL,
              sample_key TEXT NOT NULL,
              PRIMARY KEY (batch_id, sample_key)
            );
            CREATE INDEX IF NOT EXISTS batch_samples_by_key ON batch_samples (sample_key);
            """;
    /** The scores on-policy training buys ({@link ScoreStore}); version 4. */
    static final String SCORES_SCHEMA = """
            CREATE TABLE IF NOT EXISTS teacher_scores (
              key               TEXT PRIMARY KEY,
              teacher           TEXT NOT NULL,
              model             TEXT NOT NULL,
              dialect           TEXT NOT NULL,
              top_k             INTEGER NOT NULL,
              text              TEXT NOT NULL,
              tokens            BLOB NOT NULL,
              prompt_tokens     INTEGER NOT NULL DEFAULT 0,
              completion_tokens INTEGER NOT NULL DEFAULT 0,
              cost_usd          REAL NOT NULL DEFAULT 0,
              request_id        TEXT,
              latency_ms        INTEGER NOT NULL DEFAULT 0,
              attempts          INTEGER NOT NULL DEFAULT 0,
              step              INTEGER NOT NULL DEFAULT 0,
              created_at        INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS teacher_dialects (
              teacher   TEXT NOT NULL,
              model     TEXT NOT NULL,
              dialect   TEXT NOT NULL,
              probed_at INTEGER NOT NULL,
              PRIMARY KEY (teacher, model)
            );
            """;
    private static final String SCHEMA = """
            CREATE TABLE IF NOT EXISTS prompts (
              seq      INTEGER PRIMARY KEY,
              id       TEXT NOT NULL UNIQUE,
              text     TEXT,
              messages TEXT,
              metadata TEXT NOT NULL DEFAULT '{}',
              source   TEXT,
              line     INTEGER
            );
            CREATE TABLE IF NOT EXISTS samples (
              key               TEXT PRIMARY KEY,
              prompt_id         TEXT NOT NULL,
              sample_index      INTEGER NOT NULL,
              status            TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
              text              TEXT,
              finish_reason     TEXT,
              capability        TEXT NOT NULL,
              tokens            BLOB,
              prompt_tokens     INTEGER NOT NULL DEFAULT 0,
              completion_tokens INTEGER NOT NULL DEFAULT 0,
              cached_tokens     INTEGER NOT NULL DEFAULT 0,
              reasoning_tokens  INTEGER NOT NULL DEFAULT 0,
              cost_usd          REAL NOT NULL DEFAULT 0,
              latency_ms        INTEGER NOT NULL DEFAULT 0,
              request_id        TEXT,
              error_cause       TEXT,
              error_body        TEXT,
              attempts          INTEGER NOT NULL DEFAULT 0,
              created_at        INTEGER NOT NULL,
              updated_at        INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS samples_by_prompt ON samples (prompt_id, sample_index);
            CREATE INDEX IF NOT EXISTS samples_by_status ON samples (status);
            """ + EMBEDDINGS_SCHEMA + BATCHES_SCHEMA + SCORES_SCHEMA;

    private static final String EMBEDDING_COLUMNS = "key, teacher, model, requested_dims, dims, text, vector, "
            + "prompt_tokens, request_id, created_at";

    private static final String SAMPLE_COLUMNS = "key, prompt_id, sample_index, status, text, finish_reason, "
            + "capability, tokens, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_usd, "
            + "latency_ms, request_id, error_cause, error_body, attempts, created_at, updated_at";
    private static final int SAMPLE_COLUMN_COUNT = 20;
    private static final String PROMPT_COLUMNS = "seq, id, text, messages, metadata, source, line";
    private static final String S_SAMPLE_COLUMNS = "s." + SAMPLE_COLUMNS.replace(", ", ", s.");
    private static final String P_PROMPT_COLUMNS = "p." + PROMPT_COLUMNS.replace(", ", ", p.");

    private static final String INSERT_SAMPLE = "INSERT INTO samples (" + SAMPLE_COLUMNS + ") VALUES ("
            + "?, ".repeat(SAMPLE_COLUMN_COUNT - 1) + "?)";
    /** Every column but the key and created_at takes the new row's value. */
    private static final String UPSERT_SAMPLE = INSERT_SAMPLE + " ON CONFLICT (key) DO UPDATE SET "
            + Arrays.stream(SAMPLE_COLUMNS.split(", "))
                    .filter(c -> !c.equals("key") && !c.equals("created_at"))
                    .map(c -> c + " = excluded." + c)
                    .collect(Collectors.joining(", "));

    private final Path runDir;
    private final Path dbFile;
    private final Connection conn;
    private volatile boolean closed;

    private RunStore(Path runDir, Path dbFile, Connection conn) {
        this.runDir = runDir;
        this.dbFile = dbFile;
        this.conn = conn;
    }

    /** Opens the run's store, creating the directory and an empty store where there is none. */
    public static RunStore open(Path runDir) throws IOException {
        try {
            Files.createDirectories(runDir);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("cannot use " + runDir + " as a run directory: it is a file", e);
        }
        return connect(runDir);
    }

    /** Opens the store of a run that must already exist (the stages after harvest). */
    public static RunStore openExisting(Path runDir) throws IOException {
        if (!Files.isRegularFile(runDir.resolve(FILE))) {
            throw new IOException("no run at " + runDir + " (no " + FILE + "): run `distill harvest --run " + runDir
                    + " ...` first");
        }
        return connect(runDir);
    }

    public Path runDir() { return runDir; }

    public Path dbFile() { return dbFile; }

    private static RunStore connect(Path runDir) throws IOException {
        Path db = runDir.resolve(FILE);
        Connection c = null;
        try {
            c = connection(db, false);
            migrate(c, db);
            return new RunStore(runDir, db, c);
        } catch (SQLException e) {
            closeQuietly(c);
            if (e instanceof SQLiteException se && (se.getResultCode() == SQLiteErrorCode.SQLITE_NOTADB
                    || se.getResultCode() == SQLiteErrorCode.SQLITE_CORRUPT)) {
                throw new IOException(db + " is not a distill4j run store: not an SQLite database, or a damaged one ("
                        + e.getMessage() + ")", e);
            }
            throw new IOException("cannot open the run store " + db + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    private static Connection connection(Path db, boolean readOnly) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        // writers take the write lock when the transaction starts: a deferred one that upgrades can fail with
        // SQLITE_BUSY at once instead of waiting out the busy timeout
        config.setTransactionMode(readOnly ? SQLiteConfig.TransactionMode.DEFERRED
                : SQLiteConfig.TransactionMode.IMMEDIATE);
        config.setCacheSize(-32_768);
        config.setReadOnly(readOnly);
        return config.createConnection("jdbc:sqlite:" + db.toAbsolutePath());
    }

    private static void migrate(Connection c, Path db) throws SQLException, IOException {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            int appId = pragma(st, "application_id");
            int version = pragma(st, "user_version");
            if (version == 0) {
                List<String> foreign = new ArrayList<>();
                try (ResultSet rs = st.executeQuery(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) {
                    while (rs.next()) foreign.add(rs.getString(1));
                }
                if (!foreign.isEmpty() || appId != 0) {
                    throw new IOException(db + " is not a distill4j run store: it is an SQLite database of "
                            + "something else (tables: " + String.join(", ", foreign) + "); use another --run dir");
                }
                for (String ddl : SCHEMA.split(";")) if (!ddl.isBlank()) st.execute(ddl);
                st.execute("PRAGMA application_id = " + APPLICATION_ID);
                st.execute("PRAGMA user_version = " + SCHEMA_VERSION);
            } else if (appId != APPLICATION_ID) {
                throw new IOException(db + " is not a distill4j run store: it is an SQLite database with "
                        + "application_id " + appId + " and user_version " + version + "; use another --run dir");
            } else if (version > SCHEMA_VERSION) {
                throw new IOException(db + " was written by a newer distill4j (store schema version " + version
                        + "; this version reads up to " + SCHEMA_VERSION + "): upgrade distill4j");
            } else if (version < 0) {
                throw new IOException(db + " is not a distill4j run store: unknown schema version " + version);
            } else if (version < SCHEMA_VERSION) {
                // 1 → 2 adds the embeddings table, 2 → 3 the batch tables, 3 → 4 the teacher score tables (which
                // on-policy runs of version 3 created on first use: IF NOT EXISTS keeps them); samples and prompts
                // stay as they are
                if (version < 2) for (String ddl : EMBEDDINGS_SCHEMA.split(";")) if (!ddl.isBlank()) st.execute(ddl);
                if (version < 3) for (String ddl : BATCHES_SCHEMA.split(";")) if (!ddl.isBlank()) st.execute(ddl);
                for (String ddl : SCORES_SCHEMA.split(";")) if (!ddl.isBlank()) st.execute(ddl);
                st.execute("PRAGMA user_version = " + SCHEMA_VERSION);
            }
            c.commit();
        } catch (SQLException | IOException | RuntimeException e) {
            try { c.rollback(); } catch (SQLException ignored) { /* the original error says more */ }
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static int pragma(Statement st, String name) throws SQLException {
        try (ResultSet rs = st.executeQuery("PRAGMA " + name)) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) return;
        try { c.close(); } catch (SQLException ignored) { /* already failing */ }
    }

    // ---------------------------------------------------------------- prompts

    /** Stores prompts that are not stored yet; a prompt whose id is already there is left as it is. */
    public synchronized void putPrompts(List<Prompt> prompts) {
        write("store " + prompts.size() + " prompts", () -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT OR IGNORE INTO prompts "
                    + "(id, text, messages, metadata, source, line) VALUES (?, ?, ?, ?, ?, ?)")) {
                int n = 0;
                for (Prompt p : prompts) {
                    ps.setString(1, p.id());
                    ps.setString(2, p.text());
                    ps.setString(3, p.isChat() ? Json.write(SampleKey.promptContent(p)) : null);
                    ps.setString(4, Json.write(p.metadata()));
                    ps.setString(5, p.source());
                    ps.setLong(6, p.line());
                    ps.addBatch();
                    if (++n % BATCH_ROWS == 0) ps.executeBatch();
                }
                ps.executeBatch();
            }
        });
    }

    public synchronized Optional<Prompt> prompt(String id) {
        return Optional.ofNullable(prompts(List.of(id)).get(id));
    }

    /** The stored prompts among {@code ids}, by id; ids not stored are absent. */
    public synchronized Map<String, Prompt> prompts(Collection<String> ids) {
        List<String> unique = List.copyOf(new LinkedHashSet<>(ids));
        Map<String, Prompt> found = HashMap.newHashMap(unique.size());
        read("read " + unique.size() + " prompts", () -> {
            for (int from = 0; from < unique.size(); from += IN_CHUNK) {
                List<String> chunk = unique.subList(from, Math.min(unique.size(), from + IN_CHUNK));
                String sql = "SELECT " + PROMPT_COLUMNS + " FROM prompts WHERE id IN ("
                        + "?, ".repeat(chunk.size() - 1) + "?)";
                try (PreparedStatement ps = conn.prepareStatement(sql)) {
                    for (int i = 0; i < chunk.size(); i++) ps.setString(i + 1, chunk.get(i));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            Prompt p = readPrompt(rs, 1);
                            found.put(p.id(), p);
                        }
                    }
                }
            }
            return null;
        });
        return found;
    }

    public synchronized long promptCount() {
        return read("count prompts", () -> queryLong(conn, "SELECT count(*) FROM prompts"));
    }

    // ---------------------------------------------------------------- samples

    /** Records samples as pending where their key is not stored yet; a stored sample keeps its status and fields. */
    public synchronized void putPending(List<Sample> pending) {
        write("store " + pending.size() + " pending samples", () -> {
            long now = Instant.now().toEpochMilli();
            try (PreparedStatement ps = conn.prepareStatement(INSERT_SAMPLE + " ON CONFLICT (key) DO NOTHING")) {
                int n = 0;
                for (Sample s : pending) {
                    bindSample(ps, s, SampleStatus.PENDING, now);
                    ps.addBatch();
                    if (++n % BATCH_ROWS == 0) ps.executeBatch();
                }
                ps.executeBatch();
            }
        });
    }

    /** Inserts or replaces samples by key; a replaced sample keeps its first {@code created_at}. */
    public synchronized void upsertSamples(List<Sample> samples) {
        write("store " + samples.size() + " samples", () -> {
            long now = Instant.now().toEpochMilli();
            try (PreparedStatement ps = conn.prepareStatement(UPSERT_SAMPLE)) {
                int n = 0;
                for (Sample s : samples) {
                    bindSample(ps, s, s.status(), now);
                    ps.addBatch();
                    if (++n % BATCH_ROWS == 0) ps.executeBatch();
                }
                ps.executeBatch();
            }
        });
    }

    /** The stored samples (any status) among {@code keys}, by key; absent keys are absent from the map. */
    public synchronized Map<String, Sample> find(Collection<String> keys) {
        List<String> unique = List.copyOf(new LinkedHashSet<>(keys));
        Map<String, Sample> found = HashMap.newHashMap(unique.size());
        read("look up " + unique.size() + " samples", () -> {
            for (int from = 0; from < unique.size(); from += IN_CHUNK) {
                List<String> chunk = unique.subList(from, Math.min(unique.size(), from + IN_CHUNK));
                String sql = "SELECT " + SAMPLE_COLUMNS + " FROM samples WHERE key IN ("
                        + "?, ".repeat(chunk.size() - 1) + "?)";
                try (PreparedStatement ps = conn.prepareStatement(sql)) {
                    for (int i = 0; i < chunk.size(); i++) ps.setString(i + 1, chunk.get(i));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            Sample s = readSample(rs, 1);
                            found.put(s.key(), s);
                        }
                    }
                }
            }
            return null;
        });
        return found;
    }

    public synchronized Optional<Sample> sample(String key) {
        return Optional.ofNullable(find(List.of(key)).get(key));
    }

    public synchronized long count(SampleStatus status) {
        return read("count samples", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM samples WHERE status = ?")) {
                ps.setString(1, statusName(status));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /**
     * Streams the samples with {@code status} (all samples where null) with their prompts, in prompt order (the
     * order prompts were first stored) then sample index. Reads one row at a time on a connection of its own, from
     * a snapshot taken at the start; samples whose prompt is not stored are skipped.
     */
    public void forEachSample(SampleStatus statusOrNull, BiConsumer<Prompt, Sample> consumer) {
        checkOpen();
        String sql = joinedSamplesSql(statusOrNull != null, "");
        try (Connection reader = connection(dbFile, true); PreparedStatement ps = reader.prepareStatement(sql)) {
            if (statusOrNull != null) ps.setString(1, statusName(statusOrNull));
            try (ResultSet rs = ps.executeQuery()) {
                long lastSeq = Long.MIN_VALUE;
                Prompt prompt = null;
                while (rs.next()) {
                    long seq = rs.getLong(1);
                    if (seq != lastSeq) {
                        prompt = readPrompt(rs, 1);
                        lastSeq = seq;
                    }
                    consumer.accept(prompt, readSample(rs, 8));
                }
            }
        } catch (SQLException e) {
            throw failure("read samples", e);
        }
    }

    /**
     * Prompts joined with their samples, in prompt order then sample index. CROSS JOIN fixes the loop order (prompts
     * in seq order outside, the (prompt_id, sample_index) index inside) and the unary + keeps SQLite off the status
     * index, so rows come out already ordered and SQLite never sorts a million rows.
     */
    static String joinedSamplesSql(boolean byStatus, String suffix) {
        return "SELECT " + P_PROMPT_COLUMNS + ", " + S_SAMPLE_COLUMNS
                + " FROM prompts p CROSS JOIN samples s ON s.prompt_id = p.id"
                + (byStatus ? " WHERE +s.status = ?" : "")
                + " ORDER BY p.seq, s.sample_index" + suffix;
    }

    // ---------------------------------------------------------------- embeddings

    /**
     * Stores embeddings in one transaction; a key already stored keeps its first vector (the same request gives the
     * same vector, so a retried or concurrent batch changes nothing).
     */
    public synchronized void putEmbeddings(List<StoredEmbedding> embeddings) {
        write("store " + embeddings.size() + " embeddings", () -> {
            long now = Instant.now().toEpochMilli();
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO embeddings (" + EMBEDDING_COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING")) {
                int n = 0;
                for (StoredEmbedding e : embeddings) {
                    ps.setString(1, e.key());
                    ps.setString(2, e.teacher());
                    ps.setString(3, e.model());
                    ps.setInt(4, e.requestedDims());
                    ps.setInt(5, e.vector().length);
                    ps.setString(6, e.text());
                    ps.setBytes(7, StoredEmbedding.encode(e.vector()));
                    ps.setLong(8, e.promptTokens());
                    ps.setString(9, e.requestId());
                    ps.setLong(10, e.createdAt() == null ? now : e.createdAt().toEpochMilli());
                    ps.addBatch();
                    if (++n % BATCH_ROWS == 0) ps.executeBatch();
                }
                ps.executeBatch();
            }
        });
    }

    /** The stored embeddings among {@code keys}, by key; absent keys are absent from the map. */
    public synchronized Map<String, StoredEmbedding> findEmbeddings(Collection<String> keys) {
        List<String> unique = List.copyOf(new LinkedHashSet<>(keys));
        Map<String, StoredEmbedding> found = HashMap.newHashMap(unique.size());
        read("look up " + unique.size() + " embeddings", () -> {
            for (int from = 0; from < unique.size(); from += IN_CHUNK) {
                List<String> chunk = unique.subList(from, Math.min(unique.size(), from + IN_CHUNK));
                String sql = "SELECT " + EMBEDDING_COLUMNS + " FROM embeddings WHERE key IN ("
                        + "?, ".repeat(chunk.size() - 1) + "?)";
                try (PreparedStatement ps = conn.prepareStatement(sql)) {
                    for (int i = 0; i < chunk.size(); i++) ps.setString(i + 1, chunk.get(i));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            StoredEmbedding e = readEmbedding(rs);
                            found.put(e.key(), e);
                        }
                    }
                }
            }
            return null;
        });
        return found;
    }

    /** Embeddings stored for one teacher model and requested size: their count, vector size and billed tokens. */
    public record EmbeddingStats(long count, int dims, long promptTokens) {}

    public synchronized EmbeddingStats embeddingStats(String teacher, String model, int requestedDims) {
        return read("count embeddings", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT count(*), coalesce(max(dims), 0), "
                    + "total(prompt_tokens) FROM embeddings WHERE teacher = ? AND model = ? AND requested_dims = ?")) {
                ps.setString(1, teacher);
                ps.setString(2, model);
                ps.setInt(3, requestedDims);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new EmbeddingStats(rs.getLong(1), rs.getInt(2), (long) rs.getDouble(3));
                }
            }
        });
    }

    public synchronized long embeddingCount() {
        return read("count embeddings", () -> queryLong(conn, "SELECT count(*) FROM embeddings"));
    }

    private StoredEmbedding readEmbedding(ResultSet rs) throws SQLException {
        String key = rs.getString(1);
        float[] v;
        try {
            v = StoredEmbedding.decode(rs.getBytes(7));
        } catch (IllegalArgumentException e) {
            throw new RunStoreException(dbFile + ": embedding " + key + " is damaged: " + e.getMessage(), e);
        }
        if (v.length != rs.getInt(5)) {
            throw new RunStoreException(dbFile + ": embedding " + key + " holds " + v.length + " floats, not "
                    + rs.getInt(5), null);
        }
        return new StoredEmbedding(key, rs.getString(2), rs.getString(3), rs.getInt(4), rs.getString(6), v,
                rs.getLong(8), rs.getString(9), Instant.ofEpochMilli(rs.getLong(10)));
    }

    // ---------------------------------------------------------------- batches

    private static final String BATCH_COLUMNS = "id, provider, provider_id, input_file_id, state, status, requests, "
            + "reserved_usd, detail, created_at, updated_at";

    /**
     * Stores a batch about to be submitted ({@link StoredBatch.State#SUBMITTING}) with the samples it holds, in one
     * transaction: from then on a rerun knows these samples are (perhaps) bought.
     */
    public synchronized void putBatch(StoredBatch batch, Collection<String> sampleKeys) {
        write("store batch " + batch.id(), () -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO batches (" + BATCH_COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                bindBatch(ps, batch);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = conn.prepareStatement(
                    "INSERT OR IGNORE INTO batch_samples (batch_id, sample_key) VALUES (?, ?)")) {
                int n = 0;
                for (String key : sampleKeys) {
                    ps.setString(1, batch.id());
                    ps.setString(2, key);
                    ps.addBatch();
                    if (++n % BATCH_ROWS == 0) ps.executeBatch();
                }
                ps.executeBatch();
            }
        });
    }

    /** Replaces a stored batch's fields by {@code batch}'s (its id and created_at stay). */
    public synchronized void updateBatch(StoredBatch batch) {
        write("update batch " + batch.id(), () -> updateBatchRow(batch));
    }

    /**
     * Stores a batch's results and marks it {@link StoredBatch.State#COLLECTED} in one transaction, so a kill leaves
     * either the batch open with none of its results stored (the rerun downloads them again) or all of it done.
     */
    public synchronized void collectBatch(StoredBatch batch, List<Sample> results) {
        write("store the results of batch " + batch.id(), () -> {
            long now = Instant.now().toEpochMilli();
            try (PreparedStatement ps = conn.prepareStatement(UPSERT_SAMPLE)) {
                int n = 0;
                for (Sample s : results) {
                    bindSample(ps, s, s.status(), now);
                    ps.addBatch();
                    if (++n % BATCH_ROWS == 0) ps.executeBatch();
                }
                ps.executeBatch();
            }
            updateBatchRow(batch.with(StoredBatch.State.COLLECTED, batch.status(), batch.detail()));
        });
    }

    /** Forgets a batch the provider never accepted (its samples become free to submit again). */
    public synchronized void dropBatch(String id) {
        write("drop batch " + id, () -> {
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM batch_samples WHERE batch_id = ?")) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM batches WHERE id = ?")) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
        });
    }

    private void updateBatchRow(StoredBatch b) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("UPDATE batches SET provider_id = ?, input_file_id = ?, "
                + "state = ?, status = ?, detail = ?, updated_at = ? WHERE id = ?")) {
            ps.setString(1, b.providerId());
            ps.setString(2, b.inputFileId());
            ps.setString(3, b.state().sql());
            ps.setString(4, b.status());
            ps.setString(5, b.detail());
            ps.setLong(6, (b.updatedAt() == null ? Instant.now() : b.updatedAt()).toEpochMilli());
            ps.setString(7, b.id());
            if (ps.executeUpdate() != 1) throw new SQLException("no batch " + b.id() + " is stored");
        }
    }

    /** The stored batches, oldest first; only those in {@code stateOrNull} unless it is null. */
    public synchronized List<StoredBatch> batches(StoredBatch.State stateOrNull) {
        return read("read batches", () -> {
            String sql = "SELECT " + BATCH_COLUMNS + " FROM batches"
                    + (stateOrNull == null ? "" : " WHERE state = ?") + " ORDER BY created_at, id";
            try (PreparedStatement ps = conn.prepareStatement(sql)) {
                if (stateOrNull != null) ps.setString(1, stateOrNull.sql());
                List<StoredBatch> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new StoredBatch(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                StoredBatch.State.parse(rs.getString(5)), rs.getString(6), rs.getInt(7),
                                rs.getDouble(8), rs.getString(9), Instant.ofEpochMilli(rs.getLong(10)),
                                Instant.ofEpochMilli(rs.getLong(11))));
                    }
                }
                return out;
            }
        });
    }

    /** The sample keys a batch holds, in the order they were stored. */
    public synchronized List<String> batchSampleKeys(String batchId) {
        return read("read the samples of batch " + batchId, () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT sample_key FROM batch_samples WHERE batch_id = ? ORDER BY rowid")) {
                ps.setString(1, batchId);
                List<String> keys = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) keys.add(rs.getString(1));
                }
                return keys;
            }
        });
    }

    /** Those of {@code keys} that a batch not yet collected holds: bought (or being bought), results not stored. */
    public synchronized Set<String> keysInOpenBatches(Collection<String> keys) {
        List<String> unique = List.copyOf(new LinkedHashSet<>(keys));
        Set<String> found = new java.util.HashSet<>();
        read("look up " + unique.size() + " samples in open batches", () -> {
            for (int from = 0; from < unique.size(); from += IN_CHUNK) {
                List<String> chunk = unique.subList(from, Math.min(unique.size(), from + IN_CHUNK));
                String sql = "SELECT bs.sample_key FROM batch_samples bs JOIN batches b ON b.id = bs.batch_id "
                        + "WHERE b.state <> 'collected' AND bs.sample_key IN (" + "?, ".repeat(chunk.size() - 1)
                        + "?)";
                try (PreparedStatement ps = conn.prepareStatement(sql)) {
                    for (int i = 0; i < chunk.size(); i++) ps.setString(i + 1, chunk.get(i));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) found.add(rs.getString(1));
                    }
                }
            }
            return null;
        });
        return found;
    }

    private static void bindBatch(PreparedStatement ps, StoredBatch b) throws SQLException {
        long now = Instant.now().toEpochMilli();
        ps.setString(1, b.id());
        ps.setString(2, b.provider());
        ps.setString(3, b.providerId());
        ps.setString(4, b.inputFileId());
        ps.setString(5, b.state().sql());
        ps.setString(6, b.status());
        ps.setInt(7, b.requests());
        ps.setDouble(8, b.reservedUsd());
        ps.setString(9, b.detail());
        ps.setLong(10, b.createdAt() == null ? now : b.createdAt().toEpochMilli());
        ps.setLong(11, b.updatedAt() == null ? now : b.updatedAt().toEpochMilli());
    }

    // ---------------------------------------------------------------- stats

    /**
     * The run's statistics, from one snapshot, on a connection of its own: at a million samples this takes seconds,
     * and writers need not wait for it.
     */
    public RunStats stats(int examples) {
        checkOpen();
        try (Connection reader = connection(dbFile, true)) {
            reader.setAutoCommit(false); // one read transaction: every figure from the same snapshot
            try {
                return stats(reader, examples);
            } finally {
                reader.rollback();
            }
        } catch (SQLException e) {
            throw failure("compute run statistics", e);
        }
    }

    private RunStats stats(Connection reader, int examples) throws SQLException {
        long prompts = queryLong(reader, "SELECT count(*) FROM prompts");
        Map<SampleStatus, Long> byStatus = new HashMap<>();
        try (Statement st = reader.createStatement();
             ResultSet rs = st.executeQuery("SELECT status, count(*) FROM samples GROUP BY status")) {
            while (rs.next()) byStatus.put(parseStatus(rs.getString(1)), rs.getLong(2));
        }
        // grouped by kind, the cause up to its first ": " ("malformed_response (http 200)"), with one whole cause
        // as the example: a message names the sample's own URL and body, so grouping whole causes lists every sample
        List<RunStats.CauseCount> causes = new ArrayList<>();
        try (Statement st = reader.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT CASE WHEN instr(cause, ': ') > 0 THEN substr(cause, 1, instr(cause, ': ') - 1) ELSE cause END"
                        + " AS kind, count(*) AS n, min(cause) FROM (SELECT coalesce(error_cause, "
                        + "'(no cause recorded)') AS cause FROM samples WHERE status = 'failed') "
                        + "GROUP BY kind ORDER BY n DESC, kind LIMIT 10")) {
            while (rs.next()) causes.add(new RunStats.CauseCount(rs.getString(1), rs.getLong(2), rs.getString(3)));
        }
        // one pass over the samples for all the totals: each pass over a million rows costs about a second
        Usage usage;
        double cost;
        double meanLatency;
        Set<String> capabilities = new TreeSet<>();
        try (Statement st = reader.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT total(prompt_tokens), total(completion_tokens), total(cached_tokens), "
                        + "total(reasoning_tokens), total(cost_usd), "
                        + "coalesce(avg(CASE WHEN status = 'done' THEN latency_ms END), 0), "
                        + "group_concat(DISTINCT CASE WHEN status = 'done' THEN capability END) FROM samples")) {
            rs.next();
            usage = new Usage(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
            cost = rs.getDouble(5);
            meanLatency = rs.getDouble(6);
            // capability names (TEXT, TOP_K(5), FULL) hold no commas, group_concat's separator
            String caps = rs.getString(7);
            if (caps != null) capabilities.addAll(List.of(caps.split(",")));
        }
        long done = byStatus.getOrDefault(SampleStatus.DONE, 0L);
        long p95 = 0;
        if (done > 0) {
            try (PreparedStatement ps = reader.prepareStatement(
                    "SELECT latency_ms FROM samples WHERE status = 'done' ORDER BY latency_ms LIMIT 1 OFFSET ?")) {
                ps.setLong(1, (long) Math.ceil(0.95 * done) - 1);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) p95 = rs.getLong(1);
                }
            }
        }
        List<RunStats.Example> shown = new ArrayList<>();
        if (examples > 0) {
            try (PreparedStatement ps = reader.prepareStatement(joinedSamplesSql(true, " LIMIT ?"))) {
                ps.setString(1, statusName(SampleStatus.DONE));
                ps.setInt(2, examples);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Prompt p = readPrompt(rs, 1);
                        Sample s = readSample(rs, 8);
                        shown.add(new RunStats.Example(s.key(), s.promptId(), s.sampleIndex(),
                                preview(p.chat().getLast().content()), preview(s.text())));
                    }
                }
            }
        }
        return new RunStats(prompts, byStatus, causes, usage, cost, capabilities, meanLatency, p95, shown);
    }

    /** {@code s} on one line, cut to a display width. */
    static String preview(String s) {
        if (s == null) return "";
        String flat = s.strip().replaceAll("\\s+", " ");
        return flat.length() <= PREVIEW_CHARS ? flat : flat.substring(0, PREVIEW_CHARS - 1) + "…";
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try (Statement st = conn.createStatement()) {
            st.execute("PRAGMA optimize");
        } catch (SQLException ignored) {
            // an optimisation hint only
        }
        try {
            conn.close();
        } catch (SQLException e) {
            throw failure("close", e);
        }
    }

    // ---------------------------------------------------------------- rows

    private static void bindSample(PreparedStatement ps, Sample s, SampleStatus status, long now) throws SQLException {
        ps.setString(1, s.key());
        ps.setString(2, s.promptId());
        ps.setInt(3, s.sampleIndex());
        ps.setString(4, statusName(status));
        ps.setString(5, s.text());
        ps.setString(6, s.finishReason());
        ps.setString(7, s.capability().toString());
        if (s.tokens().isEmpty()) ps.setNull(8, Types.BLOB);
        else ps.setBytes(8, TokenDistributionCodec.encode(s.tokens()));
        ps.setLong(9, s.usage().promptTokens());
        ps.setLong(10, s.usage().completionTokens());
        ps.setLong(11, s.usage().cachedPromptTokens());
        ps.setLong(12, s.usage().reasoningTokens());
        ps.setDouble(13, s.costUsd());
        ps.setLong(14, s.latencyMs());
        ps.setString(15, s.requestId());
        ps.setString(16, s.errorCause());
        ps.setString(17, s.errorBody());
        ps.setInt(18, s.attempts());
        ps.setLong(19, s.createdAt() == null ? now : s.createdAt().toEpochMilli());
        ps.setLong(20, s.updatedAt() == null ? now : s.updatedAt().toEpochMilli());
    }

    private Sample readSample(ResultSet rs, int at) throws SQLException {
        String key = rs.getString(at);
        byte[] blob = rs.getBytes(at + 7);
        TokenDistribution tokens;
        try {
            tokens = blob == null ? TokenDistribution.EMPTY : TokenDistributionCodec.decode(blob);
        } catch (IllegalArgumentException e) {
            throw new RunStoreException(dbFile + ": sample " + key + " has damaged token data: " + e.getMessage(), e);
        }
        return new Sample(key, rs.getString(at + 1), rs.getInt(at + 2), parseStatus(rs.getString(at + 3)),
                rs.getString(at + 4), rs.getString(at + 5), Capability.parse(rs.getString(at + 6)), tokens,
                new Usage(rs.getLong(at + 8), rs.getLong(at + 9), rs.getLong(at + 10), rs.getLong(at + 11)),
                rs.getDouble(at + 12), rs.getLong(at + 13), rs.getString(at + 14), rs.getString(at + 15),
                rs.getString(at + 16), rs.getInt(at + 17), Instant.ofEpochMilli(rs.getLong(at + 18)),
                Instant.ofEpochMilli(rs.getLong(at + 19)));
    }

    private Prompt readPrompt(ResultSet rs, int at) throws SQLException {
        String id = rs.getString(at + 1);
        try {
            String messagesJson = rs.getString(at + 3);
            List<Message> messages = new ArrayList<>();
            if (messagesJson != null) {
                for (JsonNode m : Json.MAPPER.readTree(messagesJson)) {
                    messages.add(new Message(m.path("role").asText(), m.path("content").asText()));
                }
            }
            ObjectNode metadata = (ObjectNode) Json.MAPPER.readTree(rs.getString(at + 4));
            return new Prompt(id, rs.getString(at + 2), messages, metadata, rs.getString(at + 5), rs.getLong(at + 6));
        } catch (JsonProcessingException | ClassCastException | IllegalArgumentException e) {
            throw new RunStoreException(dbFile + ": prompt " + id + " is damaged: " + e.getMessage(), e);
        }
    }

    private static String statusName(SampleStatus s) { return s.name().toLowerCase(Locale.ROOT); }

    private static SampleStatus parseStatus(String s) { return SampleStatus.valueOf(s.toUpperCase(Locale.ROOT)); }

    // ---------------------------------------------------------------- plumbing

    @FunctionalInterface
    private interface SqlWork<T> {
        T run() throws SQLException;
    }

    @FunctionalInterface
    private interface SqlWrite {
        void run() throws SQLException;
    }

    private static long queryLong(Connection conn, String sql) throws SQLException {
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private <T> T read(String what, SqlWork<T> work) {
        checkOpen();
        try {
            return work.run();
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    /** Runs {@code work} in one transaction: all of a batch is stored, or none of it. */
    private void write(String what, SqlWrite work) {
        checkOpen();
        try {
            conn.setAutoCommit(false);
            try {
                work.run();
                conn.commit();
            } catch (SQLException | RuntimeException e) {
                try { conn.rollback(); } catch (SQLException ignored) { /* the original error says more */ }
                throw e;
            } finally {
                conn.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    private RunStoreException failure(String what, SQLException e) {
        return new RunStoreException(dbFile + ": could not " + what + ": " + e.getMessage(), e);
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("run store " + dbFile + " is closed");
    }
}
