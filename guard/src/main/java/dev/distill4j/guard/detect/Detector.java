package dev.distill4j.guard.detect;

import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Tells whether texts carry a watermark: re-tokenizes each text with the model's tokenizer, scores every token
 * whose (window, token) tuple is new, and gives each text's p-value and the pooled p-value of all texts.
 *
 * <p>Rules that keep the p-values exact (see {@link Watermark}):
 * <ul>
 *   <li>a tuple is scored once: within a text for its own result, and across all texts for the pooled result
 *       (repeated phrases, templated answers and copied passages would otherwise count their draws again);</li>
 *   <li>without a prompt, the first h tokens of a text are not scored: their windows reach into text the detector
 *       does not have;</li>
 *   <li>with a prompt, its tokens are the windows of the first answer tokens and are never scored themselves, and
 *       tuples that occur in the prompt are not scored in the answer either (text the user wrote, echoed).</li>
 * </ul>
 */
public final class Detector {
    private final Watermark watermark;
    private final TextTokenizer tokenizer;

    /** Fails when the key was made for another tokenizer; {@code what} names the tokenizer's source in the error. */
    public Detector(Watermark watermark, TextTokenizer tokenizer, String what) {
        watermark.key().requireTokenizer(tokenizer, what);
        this.watermark = watermark;
        this.tokenizer = tokenizer;
    }

    /** A text to test; {@code prompt} (null: none) is the text it continues. */
    public record Input(String id, String prompt, String text) {
        public Input {
            if (text == null) throw new IllegalArgumentException("text is null");
        }
    }

    /**
     * One text's verdict.
     *
     * @param tokens    tokens of the text
     * @param scored    tokens scored (new tuples)
     * @param meanScore mean per-token score (under H0: {@link Watermark#nullMean()})
     * @param passage   the best-scoring passage with its corrected p-value, when localisation was asked for
     * @param passageText the passage's text
     */
    public record TextResult(String id, int tokens, int scored, int skipped, double meanScore, PValue pValue,
                             Localizer.Passage passage, String passageText, int passageCharStart) {}

    /** All texts as one sample: every tuple counted once over all of them. */
    public record Pooled(int texts, long tokens, long scored, long skipped, double meanScore, PValue pValue) {}

    public record Report(List<TextResult> texts, Pooled pooled) {}

    /**
     * @param localize   also find each text's best passage (WinMax) of at least {@code minWindow} scored tokens
     */
    public Report detect(List<Input> inputs, boolean localize, int minWindow) {
        List<TextResult> results = new ArrayList<>(inputs.size());
        TupleSet tape = new TupleSet();
        long tokens = 0, scored = 0, skipped = 0;
        double total = 0;
        for (Input in : inputs) {
            int[] prompt = in.prompt() == null ? new int[0] : tokenizer.encode(in.prompt(), false);
            int[] answer = tokenizer.encode(in.text(), false);
            int[] ids = concat(prompt, answer);
            TokenScores own = score(ids, prompt.length, new TupleSet());
            TokenScores pooled = score(ids, prompt.length, tape);
            tokens += answer.length;
            scored += pooled.scored();
            skipped += pooled.skipped();
            total += pooled.total();
            Localizer.Passage passage = localize ? Localizer.best(own.scores(), watermark, minWindow) : null;
            String passageText = null;
            int charStart = -1;
            if (passage != null) {
                int a = own.positions()[passage.from()] - prompt.length;
                int b = own.positions()[passage.to() - 1] - prompt.length + 1;
                passageText = tokenizer.decode(java.util.Arrays.copyOfRange(answer, a, b), true);
                charStart = tokenizer.decode(java.util.Arrays.copyOf(answer, a), true).length();
            }
            results.add(new TextResult(in.id(), answer.length, own.scored(), own.skipped(),
                    own.scored() == 0 ? Double.NaN : own.total() / own.scored(), own.pValue(watermark), passage,
                    passageText, charStart));
        }
        Pooled pooled = new Pooled(inputs.size(), tokens, scored, skipped, scored == 0 ? Double.NaN : total / scored,
                watermark.pValue(total, scored));
        return new Report(results, pooled);
    }

    /**
     * Scores the tokens of {@code ids} from {@code scoreFrom} on (the ones before are the prompt), skipping tuples
     * already on {@code tape} and adding the new ones to it. Tuples inside the prompt go on the tape unscored.
     * Without a prompt the first h tokens are not scored.
     */
    public TokenScores score(int[] ids, int scoreFrom, TupleSet tape) {
        return score(watermark, ids, scoreFrom, tape);
    }

    /** As {@link #score(int[], int, TupleSet)}, for token ids that need no tokenizer. */
    public static TokenScores score(Watermark wm, int[] ids, int scoreFrom, TupleSet tape) {
        int h = wm.contextWidth();
        for (int t = 1; t < scoreFrom; t++) tape.add(wm.tuple(ids, t, ids[t]));
        int start = scoreFrom == 0 ? h : scoreFrom;
        TokenScores.Builder out = new TokenScores.Builder();
        for (int t = start; t < ids.length; t++) {
            if (!tape.add(wm.tuple(ids, t, ids[t]))) {
                out.skip();
                continue;
            }
            out.add(t, wm.score(ids, t, ids[t]));
        }
        return out.build();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
