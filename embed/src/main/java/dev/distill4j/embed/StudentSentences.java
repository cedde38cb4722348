package dev.distill4j.embed;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.embed.corpus.RealCorpus;
import dev.distill4j.embed.encoder.EncoderDistiller;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Which sentences a student is trained and scored on. By default both come from the real-English corpus
 * ({@link RealCorpus}: Debian documentation, split into training and evaluation sets by document): scoring on its
 * first 1,000 evaluation sentences, training on its first N training sentences. A user's files replace either;
 * training never sees a scoring sentence. The generated {@link EmbedCorpus} remains for tests and the layers
 * student's generated fallback.
 */
public final class StudentSentences {
    /** Size and seed of the default evaluation set. */
    public static final int EVALUATION_SENTENCES = 1000;
    public static final long EVALUATION_SEED = 42;

    private StudentSentences() {}

    /**
     * The scoring sentences: {@code corpus} (lines or JSONL with "text"), or the first 1,000 evaluation sentences
     * of the real corpus in {@link RealCorpus#defaultDir} (an error saying how to get it when it is absent).
     */
    public static List<String> evaluation(Path corpus) throws IOException { return evaluation(corpus, null); }

    /** As {@link #evaluation(Path)} with the real corpus in {@code realCorpus} (null: {@link RealCorpus#defaultDir}). */
    public static List<String> evaluation(Path corpus, Path realCorpus) throws IOException {
        if (corpus != null) return EmbedCorpus.read(corpus);
        return real(realCorpus).evaluation(EVALUATION_SENTENCES);
    }

    /** The real corpus in {@code dir}, or the default one. */
    public static RealCorpus real(Path dir) throws IOException {
        return RealCorpus.open(dir != null ? dir : RealCorpus.defaultDir());
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

    /**
     * The training corpus minus the scoring sentences, or the first {@code n} training sentences of the real corpus
     * in {@code realCorpus} (null: the default folder), minus any scoring sentence.
     */
    public static Tuning forTuning(Path trainCorpus, int n, List<String> evaluation, Path realCorpus) throws IOException {
        if (trainCorpus == null) positive(n);
        List<String> read = trainCorpus != null ? EmbedCorpus.read(trainCorpus) : real(realCorpus).train(n);
        List<String> train = EmbedCorpus.withoutOverlap(read, evaluation);
        return new Tuning(train, read.size() - train.size());
    }

    private static int positive(int n) {
        if (n < 1) throw new InvalidInputException("--train-sentences must be positive, got " + n);
        return n;
    }
}
