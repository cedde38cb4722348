package dev.distill4j.embed;

import java.util.List;

/**
 * An embedding model that runs on token ids it makes itself (the ONNX teacher, BERT students): texts are tokenised
 * once, and the same ids give both the vectors and the usage count.
 */
public interface TokenizedEmbeddingModel extends EmbeddingModel {
    /** The ids the model reads for {@code text}, special tokens and truncation included. */
    long[] tokenize(String text);

    /** One vector per tokenised input, in order. */
    float[][] embedIds(long[][] ids);

    @Override
    default float[][] embed(List<String> texts) { return embedCounting(texts).vectors(); }

    @Override
    default Embedded embedCounting(List<String> texts) {
        long[][] ids = new long[texts.size()][];
        int[] tokens = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tokenize(texts.get(i));
            tokens[i] = ids[i].length;
        }
        return new Embedded(embedIds(ids), tokens);
    }

    @Override
    default int countTokens(String text) { return tokenize(text).length; }
}
