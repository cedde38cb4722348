package dev.distill4j.guard.audit;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Message;
import dev.distill4j.guard.detect.TupleSet;
import dev.distill4j.guard.watermark.TokenizerFingerprint;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The open-model radioactivity audit ("reading mode" of Sander et al. 2024, "Watermarking makes language models
 * radioactive"): the provider's watermarked texts are fed through the suspect, teacher-forced, and at each position
 * t the suspect's most likely next token ŷ_t is scored with the key against the text's window:
 * <pre>
 *   score_t = s(ŷ_t | x_{t−h} … x_{t−1})      (KGW: 1 if ŷ_t is green for the window; Gumbel, SynthID likewise)
 *   S = Σ over scored t,   p = P(S' ≥ S) for S' the sum of n independent null scores (exact: binomial / Gamma)
 * </pre>
 * A model trained on the watermarked texts has learned to prefer the keyed choices after windows it saw, so its
 * predictions score high; a model that never saw them predicts independently of the key.
 *
 * <p>What keeps the p-value exact for a clean suspect (H0: the suspect's weights do not depend on the key):
 * <ul>
 *   <li><b>tape</b>: each (window, ŷ) tuple is scored once over all texts ({@link Filter#DUPLICATE}); a repeated
 *       tuple would count one random draw again;</li>
 *   <li><b>copy filter</b>: a position is skipped when its PRF seed ({@link Watermark#seedTuple}) was already used
 *       by an earlier watermarked token of the same text ({@link Filter#SAME_TEXT}). The suspect has read that
 *       token, whose choice depended on the seed's keyed list; a clean model that copies "after w came x" from its
 *       context would score green for a reason that has nothing to do with training. After that filter, the
 *       suspect's input at t depends only on keyed lists of other seeds, so its prediction is independent of the
 *       draw that scores it;</li>
 *   <li>without a prompt the first h tokens are not scored ({@link Filter#START}); with one, the prompt (rendered
 *       by the suspect's chat template, as in training) precedes the text and is never scored.</li>
 * </ul>
 * The suspect must use the key's tokenizer ({@link dev.distill4j.guard.watermark.WatermarkKey#requireTokenizer}):
 * the windows are token ids.
 */
public final class OpenAudit {
    private final Watermark watermark;
    private final TextTokenizer tokenizer;
    private final Function<List<Message>, int[]> promptEncoder;
    private final int[] textPrefix;
    private final NextTokenPredictor suspect;
    private final String suspectName;

    /**
     * @param tokenizer     the suspect's tokenizer; must be the key's
     * @param promptEncoder a text's prompt as the suspect's input ids (its chat template, generation prompt opened)
     * @param textPrefix    ids before a text without a prompt (e.g. BOS)
     */
    public OpenAudit(Watermark watermark, TextTokenizer tokenizer, Function<List<Message>, int[]> promptEncoder,
                     int[] textPrefix, NextTokenPredictor suspect, String suspectName) {
        TokenizerFingerprint theirs = TokenizerFingerprint.of(tokenizer);
        TokenizerFingerprint ours = watermark.key().tokenizer();
        if (!theirs.equals(ours)) {
            throw new InvalidInputException("the suspect " + suspectName + " has another tokenizer (fingerprint "
                    + theirs.shortId() + ", " + theirs.vocabSize() + " tokens) than watermark key "
                    + watermark.key().keyId() + " was made for (" + ours.shortId() + ", " + ours.vocabSize()
                    + " tokens): an open audit reads the texts as token ids of the key's tokenizer, so it needs a "
                    + "suspect with that tokenizer. Suspects with another tokenizer are out of scope of this audit "
                    + "(a closed audit, --suspect URL, tokenizes the suspect's answers with the key's tokenizer "
                    + "instead)");
        }
        this.watermark = watermark;
        this.tokenizer = tokenizer;
        this.promptEncoder = promptEncoder;
        this.textPrefix = textPrefix.clone();
        this.suspect = suspect;
        this.suspectName = suspectName;
    }

    /**
     * An audit of a loaded model folder: prompts through its chat template (raw text when it has none), BOS (or
     * whatever its tokenizer adds) before texts without a prompt.
     */
    public static OpenAudit of(Watermark watermark, LocalModel model, int batchTokens) {
        TextTokenizer tok = model.tokenizer();
        Function<List<Message>, int[]> prompts = chat -> model.hasChatTemplate() ? model.encodeChat(chat)
                : model.encodeText(String.join("\n", chat.stream().map(Message::content).toList()));
        return new OpenAudit(watermark, tok, prompts, addedPrefix(tok), new LocalSuspect(model, batchTokens),
                model.dir().toString());
    }

    /** What {@code encode(text, true)} puts before a text's own ids (BOS for Llama; nothing for most BPEs). */
    static int[] addedPrefix(TextTokenizer tok) {
        String probe = "Hello";
        int[] with = tok.encode(probe, true);
        int[] without = tok.encode(probe, false);
        for (int start = 0; start + without.length <= with.length; start++) {
            if (Arrays.equals(with, start, start + without.length, without, 0, without.length)) {
                return Arrays.copyOf(with, start);
            }
        }
        return new int[0];
    }

    public AuditReport run(List<AuditText> texts, AuditProgress progress) {
        int h = watermark.contextWidth();
        int maxLength = suspect.maxLength();
        List<int[]> sequences = new ArrayList<>(texts.size());
        int[] answerStart = new int[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            AuditText text = texts.get(i);
            int[] before = text.hasPrompt() ? promptEncoder.apply(text.prompt()) : textPrefix;
            int[] answer = tokenizer.encode(text.text(), false);
            int[] ids = Arrays.copyOf(before, before.length + answer.length);
            System.arraycopy(answer, 0, ids, before.length, answer.length);
            sequences.add(ids);
            answerStart[i] = before.length;
        }
        // the prediction for token t comes from position t − 1, so the last token is never fed
        List<int[]> fed = new ArrayList<>(sequences.size());
        for (int[] ids : sequences) fed.add(Arrays.copyOf(ids, Math.max(0, Math.min(ids.length - 1, maxLength))));
        progress.update("reading the watermarked texts through the suspect", 0, texts.size());
        int[][] predicted = suspect.predict(fed, done -> progress.update(
                "reading the watermarked texts through the suspect", done, texts.size()));

        List<Reading> readings = new ArrayList<>(sequences.size());
        for (int i = 0; i < sequences.size(); i++) {
            readings.add(new Reading(sequences.get(i), answerStart[i], texts.get(i).hasPrompt(), predicted[i]));
        }
        return score(watermark, suspectName, readings, true, tokenizer::isSpecial);
    }

    /**
     * One text as the suspect read it.
     *
     * @param ids         prompt (or prefix) ids, then the text's ids
     * @param answerStart index of the text's first token in {@code ids}
     * @param prompted    whether the ids before {@code answerStart} are the text's prompt (else a prefix such as BOS,
     *                    and the text's first h windows are unknown)
     * @param predicted   {@code predicted[t]} is the suspect's top-1 token after {@code ids[0..t]}; it may be
     *                    shorter than {@code ids.length − 1} (the suspect's context ended)
     */
    public record Reading(int[] ids, int answerStart, boolean prompted, int[] predicted) {}

    /**
     * Scores the suspect's predictions. {@code copyFilter} false turns the same-text filter off, which only a test
     * should do: it shows what the filter protects against.
     */
    static AuditReport score(Watermark watermark, String suspectName, List<Reading> readings, boolean copyFilter) {
        return score(watermark, suspectName, readings, copyFilter, id -> false);
    }

    /**
     * As above; predictions for which {@code endsText} holds (EOS, end of turn: the special tokens) are not scored.
     * A watermarked text only goes on past position t because the watermarked model did not end it there, which it
     * does less often when its end token is green: a clean suspect that predicts "end" where the text goes on would
     * be scored on a token selected for being red (the control students of {@code distill demo guard} showed green
     * rates of 0.21 against γ = 0.25 before this filter).
     */
    static AuditReport score(Watermark watermark, String suspectName, List<Reading> readings, boolean copyFilter,
                             java.util.function.IntPredicate endsText) {
        int h = watermark.contextWidth();
        Tally tally = new Tally(watermark);
        long agreeing = 0;
        for (Reading r : readings) {
            int[] ids = r.ids();
            int start = r.answerStart();
            int scoreFrom = Math.max(1, r.prompted() ? start : Math.min(ids.length, start + h));
            int end = Math.min(ids.length, r.predicted().length + 1);    // positions with a prediction
            tally.filtered(Filter.START, Math.max(0, scoreFrom - start));
            tally.filtered(Filter.BEYOND_CONTEXT, ids.length - Math.max(end, scoreFrom));
            TupleSet revealed = new TupleSet();     // seeds the suspect has seen a watermarked choice under
            for (int t = start; t < Math.max(end, scoreFrom); t++) {
                if (t >= scoreFrom) {
                    int guess = r.predicted()[t - 1];
                    tally.position();
                    if (endsText.test(guess)) {
                        tally.filtered(Filter.END_PREDICTION);
                    } else if (copyFilter && revealed.contains(watermark.seedTuple(ids, t, guess))) {
                        tally.filtered(Filter.SAME_TEXT);
                    } else if (tally.score(ids, t, guess) && guess == ids[t]) {
                        agreeing++;
                    }
                }
                revealed.add(watermark.seedTuple(ids, t, ids[t]));
            }
        }
        Map<String, Long> extra = new LinkedHashMap<>();
        extra.put("scored_predictions_equal_to_the_text", agreeing);
        return AuditReport.of(AuditReport.Mode.OPEN, watermark, suspectName, readings.size(), tally, extra);
    }
}
