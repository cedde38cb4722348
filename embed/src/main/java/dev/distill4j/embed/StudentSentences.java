package dev.distill4j.embed;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.embed.encoder.EncoderDistiller;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Which sentences a student is trained and scored on. Scoring uses the user's corpus or the generated evaluation set
 * every embedding benchmark uses ({@code EmbedCorpus.synthetic(1000, 42)}); training never sees a scoring sentence.
 */
public final class StudentSentences {
    /** Size and seed of the default evaluation set. */
    public static final int EVALUATION_SENTENCES = 1000;
    public static final long EVALUATION_SEED = 42;

    private StudentSentences() {}

    /** The scoring sentences: {@code corpus} (lines or JSONL with "text"), or the generated evaluation set. */
    public static List<String> evaluation(Path corpus) throws IOException {
        return corpus != null ? EmbedCorpus.read(corpus) : EmbedCorpus.synthetic(EVALUATION_SENTENCES, EVALUATION_SEED);
    }

    /**
     * A layers student's training and held-out sentences. With a training corpus: it trains, minus any sentence of
     * the scoring set ({@link #evaluation}), which is held out. Without one: {@link EncoderDistiller#split} (four
     * fifths of {@code corpus} train, or {@code generated} generated sentences when there is no corpus either).
     */
    public static EncoderDistiller.Split forLayers(Path corpus, Path trainCorpus, int generated) throws IOException {
        if (trainCorpus == null) {
            return EncoderDistiller.split(corpus == null ? null : EmbedCorpus.read(corpus), positive(generated));
        }
        List<String> heldOut = evaluation(corpus);
        return new EncoderDistiller.Split(EmbedCorpus.withoutOverlap(EmbedCorpus.read(trainCorpus), heldOut), heldOut);
    }

    /**
     * A tuned static student's training sentences.
     *
     * @param dropped training-corpus sentences left out because the scoring set has them
     */
    public record Tuning(List<String> train, int dropped) {}

    /** The training corpus minus the scoring sentences, or {@code generated} generated sentences outside them. */
    public static Tuning forTuning(Path trainCorpus, int generated, List<String> evaluation) throws IOException {
        if (trainCorpus == null) {
            return new Tuning(EmbedCorpus.training(positive(generated), EmbedCorpus.TRAINING_SEED, evaluation), 0);
        }
        List<String> read = EmbedCorpus.read(trainCorpus);
        List<String> train = EmbedCorpus.withoutOverlap(read, evaluation);
        return new Tuning(train, read.size() - train.size());
    }

    private static int positive(int n) {
        if (n < 1) throw new InvalidInputException("--train-sentences must be positive, got " + n);
        return n;
    }
}
