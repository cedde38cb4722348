package dev.distill4j.core.store;

import java.time.Instant;
import java.util.Locale;
import java.util.Objects;

/**
 * One provider batch (OpenAI's Batch API, Anthropic's Message Batches) as a run keeps it, so that a harvest killed
 * while a batch runs at the provider picks it up again instead of buying its requests twice. The samples a batch
 * holds are kept beside it ({@link RunStore#batchSampleKeys}).
 *
 * @param id          our id, {@code b-} and a random UUID: stored before the provider is asked, and sent with the
 *                    batch (OpenAI's {@code metadata}) so a submission whose answer was lost can be found again
 * @param provider    {@code openai} or {@code anthropic}
 * @param providerId  the provider's id ({@code batch_…}, {@code msgbatch_…}); null while {@link State#SUBMITTING}
 * @param inputFileId OpenAI's uploaded input file ({@code file-…}); null for Anthropic
 * @param state       where the batch stands on our side
 * @param status      the provider's last status word ({@code validating}, {@code in_progress}, {@code ended}, …)
 * @param requests    samples in the batch
 * @param reservedUsd the batch's worst case at the batch price, which the budget holds until its results are stored
 * @param detail      the provider's last batch object (JSON), for {@code inspect} and error messages; may be null
 * @param createdAt   when the batch was first stored
 * @param updatedAt   last change
 */
public record StoredBatch(String id, String provider, String providerId, String inputFileId, State state,
                          String status, int requests, double reservedUsd, String detail, Instant createdAt,
                          Instant updatedAt) {
    /** Where a batch stands on our side. */
    public enum State {
        /** Stored before the provider was asked; the provider may or may not hold it (the answer was lost). */
        SUBMITTING,
        /** The provider holds it; its results are not stored yet. */
        OPEN,
        /** Its results are stored (answers done, the rest failed or asked again): nothing more to fetch. */
        COLLECTED;

        public String sql() { return name().toLowerCase(Locale.ROOT); }

        public static State parse(String s) { return valueOf(s.toUpperCase(Locale.ROOT)); }
    }

    public StoredBatch {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(state, "state");
    }

    /** This batch in {@code state} with the provider's latest {@code status} and {@code detail}. */
    public StoredBatch with(State state, String status, String detail) {
        return new StoredBatch(id, provider, providerId, inputFileId, state, status, requests, reservedUsd, detail,
                createdAt, Instant.now());
    }

    /** This batch as the provider accepted it. */
    public StoredBatch accepted(String providerId, String inputFileId, String status, String detail) {
        return new StoredBatch(id, provider, providerId, inputFileId, State.OPEN, status, requests, reservedUsd,
                detail, createdAt, Instant.now());
    }
}
