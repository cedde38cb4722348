package dev.distill4j.teacher;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.SampleKey;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.Usage;
import dev.distill4j.core.io.PromptDuplicates;
import dev.distill4j.core.io.PromptReader;
import dev.distill4j.core.store.RunStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a harvest would send, without sending anything ({@code distill harvest --dry-run}): the requests still to make
 * (samples not already stored as done) and their tokens, priced the way the {@link Budget} prices them.
 *
 * <p>Every request is counted as the {@link Teacher} would send it ({@link Teacher#size}): system prompt and chat
 * framing included, one request per sample ({@code --samples-per-prompt N} is N requests, each with the whole
 * prompt), each answer at most {@code max_tokens} × choices. So {@link #worstCaseUsd} is exactly the sum of what the
 * budget would reserve for them, and a budget at least that large is never what stops the harvest.
 *
 * @param prompts               prompts read (duplicate lines already left out)
 * @param malformed             prompt lines skipped as malformed
 * @param samples               samples the prompts ask for
 * @param stored                of those, already stored and not asked again: done, or failed without
 *                              {@code --retry-failed}
 * @param promptTokens          expected prompt tokens of the requests still to make (estimate)
 * @param promptTokenBound      the most prompt tokens they can be billed for
 * @param maxOutputTokens       the most completion tokens they can be billed for
 * @param expectedUsd           cost at the estimated prompt tokens with every answer at its max tokens
 * @param worstCaseUsd          cost at the prompt bound with every answer at its max tokens: what the budget reserves
 */
public record HarvestEstimate(long prompts, long malformed, long samples, long stored, long promptTokens,
                              long promptTokenBound, long maxOutputTokens, double expectedUsd, double worstCaseUsd) {
    private static final int BATCH = 1000;

    /** Requests still to make. */
    public long toRequest() { return samples - stored; }

    /**
     * Streams {@code promptsFile} and sizes every sample that {@code store} does not hold as done.
     *
     * @param checked          the file's {@link PromptDuplicates#scan}, so exact duplicate lines count once
     * @param store            the run's store, or null for a run that does not exist yet
     * @param samplesPerPrompt samples per prompt
     * @param prices           the prices (its limit is not used)
     * @param retryFailed      samples stored as failed are asked again (as {@link Harvester.Options#retryFailed})
     * @param strict           throw on the first malformed line instead of counting it
     */
    public static HarvestEstimate of(Teacher teacher, Path promptsFile, PromptDuplicates checked, RunStore store,
                                     int samplesPerPrompt, Budget prices, boolean retryFailed, boolean strict)
            throws IOException {
        if (samplesPerPrompt < 1) throw new InvalidInputException("--samples-per-prompt must be ≥ 1");
        var sampling = teacher.sampling().toJson();
        Totals t = new Totals(retryFailed);
        List<String> keys = new ArrayList<>(BATCH);
        List<RequestSize> sizes = new ArrayList<>(BATCH);
        try (PromptReader reader = PromptReader.openUnique(promptsFile, checked)) {
            while (reader.hasNext()) {
                switch (reader.next()) {
                    case PromptReader.Ok ok -> {
                        Prompt p = ok.prompt();
                        t.prompts++;
                        for (int i = 0; i < samplesPerPrompt; i++) {
                            keys.add(SampleKey.of(p, teacher.provider(), teacher.model(), teacher.endpoint(),
                                    sampling, i));
                            sizes.add(teacher.size(new TeacherRequest(p, i, null)));
                        }
                        if (keys.size() >= BATCH) t.add(keys, sizes, store, prices);
                    }
                    case PromptReader.Malformed m -> {
                        if (strict) {
                            throw new Harvester.MalformedPromptException("malformed prompt at " + m
                                    + " (fix the line, or drop --strict to skip malformed lines)");
                        }
                        t.malformed++;
                    }
                }
            }
        }
        t.add(keys, sizes, store, prices);
        return new HarvestEstimate(t.prompts, t.malformed, t.samples, t.stored, t.promptTokens, t.promptTokenBound,
                t.maxOutputTokens, t.expectedUsd, t.worstCaseUsd);
    }

    /** Running sums; a batch of keys is looked up in the store at once. */
    private static final class Totals {
        long prompts, malformed, samples, stored, promptTokens, promptTokenBound, maxOutputTokens;
        double expectedUsd, worstCaseUsd;
        final boolean retryFailed;

        Totals(boolean retryFailed) { this.retryFailed = retryFailed; }

        void add(List<String> keys, List<RequestSize> sizes, RunStore store, Budget prices) {
            var existing = store == null || keys.isEmpty() ? java.util.Map.<String, dev.distill4j.core.Sample>of()
                    : store.find(keys);
            for (int i = 0; i < keys.size(); i++) {
                samples++;
                var old = existing.get(keys.get(i));
                if (old != null && (old.status() == SampleStatus.DONE
                        || (old.status() == SampleStatus.FAILED && !retryFailed))) {
                    stored++;
                    continue;
                }
                RequestSize s = sizes.get(i);
                Usage worst = s.worstCase();
                promptTokens += s.promptTokens();
                promptTokenBound += worst.promptTokens();
                maxOutputTokens += worst.completionTokens();
                expectedUsd += prices.cost(new Usage(s.promptTokens(), worst.completionTokens()));
                worstCaseUsd += prices.cost(worst);
            }
            keys.clear();
            sizes.clear();
        }
    }
}
