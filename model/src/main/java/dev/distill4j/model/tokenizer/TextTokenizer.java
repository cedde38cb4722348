package dev.distill4j.model.tokenizer;

/**
 * What generation, scoring and training need from a tokenizer. Token bytes are the exact UTF-8 bytes a token stands
 * for (byte-level BPE's mapped characters and SentencePiece's {@code <0xNN>} / {@code ▁} undone), because teacher
 * and student tokens are aligned on bytes, never on token strings.
 */
public interface TextTokenizer extends AutoCloseable {
    /** Token ids of {@code text}; {@code addSpecialTokens} adds what the tokenizer's post-processor adds (e.g. BOS). */
    int[] encode(String text, boolean addSpecialTokens);

    /** Text of {@code ids}; special tokens dropped when {@code skipSpecialTokens}. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** The token's string as in the vocabulary (e.g. "Ġthe", "▁the", "&lt;0x0A&gt;"). */
    String tokenString(int id);

    /** The exact bytes this token contributes to decoded text (empty for special tokens). */
    byte[] tokenBytes(int id);

    /** The id of a token string, or -1. */
    int tokenId(String token);

    int vocabSize();

    boolean isSpecial(int id);

    @Override
    default void close() {}
}
