package dev.distill4j.embed;

import java.io.IOException;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The tuned static student, Model2Vec + tokenlearn style, from an in-process teacher and real training sentences:
 *
 * <ol>
 *   <li><b>Vocabulary</b> ({@link VocabularyExtension}): the teacher's WordPiece vocabulary plus the training
 *       corpus's frequent words that it splits into pieces, as whole tokens;</li>
 *   <li><b>Token vectors</b> ({@link StaticDistiller}): every vocabulary token embedded by the teacher as a one-token
 *       sentence, every added word as a one-word sentence;</li>
 *   <li><b>PCA</b> to {@code dims} and Zipf/SIF weights folded into the rows;</li>
 *   <li><b>Tuning</b> ({@link StaticTuner}): the table trained so that the mean of a sentence's rows regresses the
 *       teacher's sentence vector (on the PCA axes), over the training sentences, every row a sentence uses
 *       updated; the teacher's sentence vectors come from {@code sentenceTeacher}, a {@link CachedEmbeddingModel}
 *       in the CLI, so a second build costs no teacher pass.</li>
 * </ol>
 */
public final class StaticRecipe {
    /**
     * @param distill      dimensions, SIF, vocabulary limit, token pooling
     * @param vocabWords   how many corpus words to add at most (0 = the teacher's vocabulary only)
     * @param minWordCount how often a word must occur to be added
     * @param tune         the tuner's settings
     */
    public record Options(StaticDistiller.Options distill, int vocabWords, int minWordCount, StaticTuner.Options tune) {}

    /** What a build reports while it runs. */
    public interface Listener {
        default void vocabulary(int done, int total) {}

        default void wordsAdded(int added) {}

        default void tuning(StaticTuner.Progress p) {}
    }

    /** The tuned student and its history, with how many words the vocabulary gained. */
    public record Result(StaticTuner.Result tuned, int addedWords, StaticEmbeddingModel untuned) {}

    private StaticRecipe() {}

    public static Result build(OnnxEmbeddingModel teacher, EmbeddingModel sentenceTeacher, List<String> train, Options o,
                               Listener listener) throws IOException {
        Listener l = listener != null ? listener : new Listener() {};
        Pooling pooling = o.distill().tokenPooling() != null ? o.distill().tokenPooling() : teacher.pooling();
        BiConsumer<Integer, Integer> vocabProgress = l::vocabulary;
        StaticDistiller.Distilled d;
        int added = 0;
        if (o.vocabWords() > 0) {
            VocabularyExtension.Result ext = VocabularyExtension.extend(teacher.tokenizerJson(), train, o.minWordCount(),
                    o.vocabWords());
            added = ext.added();
            l.wordsAdded(added);
            float[][] rows = StaticDistiller.embedVocabulary(teacher, pooling, o.distill().vocabLimit(), vocabProgress);
            d = StaticDistiller.fromTokenVectorsWithBasis(teacher, StaticDistiller.withWords(rows, ext, sentenceTeacher),
                    ext.tokenizerJson(), o.distill());
        } else {
            d = StaticDistiller.distillWithBasis(teacher, o.distill(), vocabProgress);
        }
        Consumer<StaticTuner.Progress> p = l::tuning;
        StaticTuner.Result r = StaticTuner.tune(d.model(), d.pca(), sentenceTeacher, train, o.tune(), p);
        return new Result(r, added, d.model());
    }
}
