package dev.distill4j.model.generate;

import dev.distill4j.model.tokenizer.TextTokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Test tokenizer, bytes as tokens: ids 0 (pad), 1 (BOS), 2 (EOS) are special; id i ≥ 3 is the single byte
 * {@code i − 3 + 32}, so small vocabularies decode to printable ASCII.
 */
final class ByteTokenizer implements TextTokenizer {
    private final int vocab;

    ByteTokenizer(int vocab) { this.vocab = vocab; }

    @Override public int[] encode(String text, boolean addSpecialTokens) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length + (addSpecialTokens ? 1 : 0)];
        int o = 0;
        if (addSpecialTokens) ids[o++] = 1;
        for (byte x : b) {
            int id = (x & 0xff) - 32 + 3;
            if (id < 3 || id >= vocab) throw new IllegalArgumentException("byte " + (x & 0xff) + " not in vocabulary");
            ids[o++] = id;
        }
        return ids;
    }

    @Override public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            if (isSpecial(id)) {
                if (!skipSpecialTokens) out.writeBytes(tokenString(id).getBytes(StandardCharsets.UTF_8));
            } else out.writeBytes(tokenBytes(id));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override public String tokenString(int id) {
        check(id);
        return switch (id) {
            case 0 -> "<pad>";
            case 1 -> "<s>";
            case 2 -> "</s>";
            default -> {
                int b = id - 3 + 32;
                yield b < 127 ? String.valueOf((char) b) : String.format("<0x%02X>", b);
            }
        };
    }

    @Override public byte[] tokenBytes(int id) {
        check(id);
        return isSpecial(id) ? new byte[0] : new byte[] {(byte) (id - 3 + 32)};
    }

    @Override public int tokenId(String token) {
        for (int i = 0; i < vocab; i++) if (tokenString(i).equals(token)) return i;
        return -1;
    }

    @Override public int vocabSize() { return vocab; }

    @Override public boolean isSpecial(int id) {
        check(id);
        return id < 3;
    }

    /** As HfTokenizer: an id past the vocabulary is an error, never a made-up token. */
    private void check(int id) {
        if (id < 0 || id >= vocab) throw new IndexOutOfBoundsException("token id " + id + " outside vocabulary " + vocab);
    }
}
