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
 * first 1,000 evaluation sentences, training on its first N training sentences, for every student kind. A user's
 * files replace either; training never sees a scoring sentence. The generated {@link EmbedCorpus} is a test fixture
 * only.
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
     * A layers student's sentences and where they came from.
     *
     * @param split   training and held-out (scoring) sentences, disjoint
     * @param dropped training sentences left out because the held-out set has them
     * @param overlap held-out sentences that still duplicate a training sentence exactly or nearly after the drop
     *                ({@link RealCorpus#overlap}, counted independently of how the sets were made)
     * @param source  where the training sentences came from, for the progress line
     */
    public record Layers(EncoderDistiller.Split split, int dropped, RealCorpus.Overlap overlap, String source) {}

    /**
     * A layers student's training and held-out sentences: the same defaults as every embedding path.
     * <ul>
     *   <li>{@code trainCorpus} given: it trains, minus any sentence of the scoring set ({@link #evaluation}: {@code
     *       corpus}, else the real corpus's evaluation sentences), which is held out;</li>
     *   <li>only {@code corpus} given: four fifths of it train, every fifth sentence is held out
     *       ({@link EncoderDistiller#split}), a user's own domain;</li>
     *   <li>neither: the first {@code n} training sentences of the real corpus in {@code realCorpus} (null: the default
     *       folder) train, and its first 1,000 evaluation sentences, from other documents, are held out.</li>
     * </ul>
     */
    public static Layers forLayers(Path corpus, Path trainCorpus, int n, Path realCorpus) throws IOException {
        List<String> read, heldOut;
        String source;
        if (trainCorpus != null) {
            read = EmbedCorpus.read(trainCorpus);
            heldOut = evaluation(corpus, realCorpus);
            source = trainCorpus.toString();
        } else if (corpus != null) {
            EncoderDistiller.Split s = EncoderDistiller.split(EmbedCorpus.read(corpus));
            return new Layers(s, 0, RealCorpus.overlap(s.train(), s.heldOut()), "four fifths of " + corpus);
        } else {
            RealCorpus real = real(realCorpus);
            read = real.train(positive(n));
            heldOut = real.evaluation(EVALUATION_SENTENCES);
            source = "real-text corpus " + real.dir();
        }
        List<String> train = EmbedCorpus.withoutOverlap(read, heldOut);
        return new Layers(new EncoderDistiller.Split(train, heldOut), read.size() - train.size(),
                RealCorpus.overlap(train, heldOut), source);
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
