package dev.distill4j.core.store;

import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.Usage;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What {@code distill status} shows about a run, computed by SQLite without loading the samples.
 *
 * @param prompts        prompts stored
 * @param byStatus       samples per status (every status present, 0 when none)
 * @param failureCauses  the ten most frequent kinds of failure (a cause up to its first ": ", e.g.
 *                       "malformed_response (http 200)"), most frequent first, each with one whole cause
 * @param totalUsage     tokens billed over all samples (failed ones included: a failure may have been billed)
 * @param costUsd        cost over all samples
 * @param capabilities   capabilities of the done samples (Capability.toString form), sorted
 * @param meanLatencyMs  mean latency of the done samples (0 when none)
 * @param p95LatencyMs   95th percentile latency of the done samples, nearest rank (0 when none)
 * @param examples       the first few done samples in prompt order
 */
public record RunStats(long prompts, Map<SampleStatus, Long> byStatus, List<CauseCount> failureCauses,
                       Usage totalUsage, double costUsd, Set<String> capabilities, double meanLatencyMs,
                       long p95LatencyMs, List<Example> examples) {

    /**
     * A kind of failure, how many failed samples have it, and one of their causes in full.
     *
     * @param cause   the kind: a stored cause up to its first ": " ("bad_request (http 400)", "invalid prompt")
     * @param count   failed samples of that kind
     * @param example one of their causes, whole
     */
    public record CauseCount(String cause, long count, String example) {}

    /** A done sample, shortened for display. */
    public record Example(String key, String promptId, int sampleIndex, String promptPreview, String textPreview) {}

    public RunStats {
        EnumMap<SampleStatus, Long> all = new EnumMap<>(SampleStatus.class);
        for (SampleStatus s : SampleStatus.values()) all.put(s, byStatus.getOrDefault(s, 0L));
        byStatus = Collections.unmodifiableMap(all);
        failureCauses = List.copyOf(failureCauses);
        capabilities = Collections.unmodifiableSortedSet(new TreeSet<>(capabilities));
        examples = List.copyOf(examples);
    }

    public long count(SampleStatus status) { return byStatus.getOrDefault(status, 0L); }

    public long samples() { return byStatus.values().stream().mapToLong(Long::longValue).sum(); }
}
