package dev.distill4j.core;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;

/**
 * {@code run.json}: what produced a run. Never holds an API key; {@code apiKeyEnv} names the variable it came from.
 *
 * @param provider     teacher provider: openai, anthropic, local
 * @param baseUrl      teacher API base URL (null for local teachers)
 * @param model        teacher model name
 * @param endpoint     chat or completions
 * @param apiKeyEnv    name of the env var holding the key
 * @param capability   what the teacher reveals (TEXT, TOP_K(k))
 * @param sampling     sampling parameters as sent (temperature, top_p, max_tokens, seed, stop, top_logprobs, system)
 * @param promptSource path of the prompt file of the last harvest
 * @param promptHash   SHA-256 of that file's bytes
 * @param toolVersion  distill4j version
 * @param created      when the run was created
 * @param updated      last harvest
 * @param provenance   where data that no teacher answered came from (an imported data set: its format and file
 *                     name; {@code distill import}), null for harvested runs
 */
public record RunManifest(String provider, String baseUrl, String model, String endpoint, String apiKeyEnv,
                          String capability, ObjectNode sampling, String promptSource, String promptHash,
                          String toolVersion, Instant created, Instant updated, ObjectNode provenance) {
    /** A harvested run's manifest (no provenance). */
    public RunManifest(String provider, String baseUrl, String model, String endpoint, String apiKeyEnv,
                       String capability, ObjectNode sampling, String promptSource, String promptHash,
                       String toolVersion, Instant created, Instant updated) {
        this(provider, baseUrl, model, endpoint, apiKeyEnv, capability, sampling, promptSource, promptHash,
                toolVersion, created, updated, null);
    }

    public static final String FILE = "run.json";

    public RunManifest {
        Objects.requireNonNull(provider, "provider");
        sampling = sampling == null ? Json.object() : sampling;
    }

    public static RunManifest read(Path runDir) throws IOException {
        Path f = runDir.resolve(FILE);
        try {
            return Json.MAPPER.readValue(Files.readString(f), RunManifest.class);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException | UncheckedIOException e) {
            throw new IOException(f + " is not a valid run manifest: " + e.getMessage(), e);
        }
    }

    public static boolean exists(Path runDir) { return Files.isRegularFile(runDir.resolve(FILE)); }

    public void write(Path runDir) throws IOException {
        AtomicFiles.writeString(runDir.resolve(FILE), Json.writePretty(this) + "\n");
    }

    public RunManifest withUpdated(Instant when) {
        return new RunManifest(provider, baseUrl, model, endpoint, apiKeyEnv, capability, sampling, promptSource,
                promptHash, toolVersion, created, when, provenance);
    }
}
