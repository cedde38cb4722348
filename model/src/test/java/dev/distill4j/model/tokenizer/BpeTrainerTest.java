package dev.distill4j.model.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {
    @TempDir Path dir;

    /** A made-up corpus: sentences from a few invented words, numbers and ChatML markup. */
    static List<String> corpus(long seed, int n) {
        String[] nouns = {"lantern", "velmora", "tesk", "orbit", "kettle", "marble", "quill", "harbor"};
        String[] verbs = {"holds", "turns", "finds", "weighs", "counts"};
        Random r = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String s = "The " + nouns[r.nextInt(nouns.length)] + " " + verbs[r.nextInt(verbs.length)] + " "
                    + r.nextInt(1000) + " " + nouns[r.nextInt(nouns.length)] + "s.\nStep 1: " + r.nextInt(99)
                    + " + " + r.nextInt(99) + " = ?\nAnswer: " + r.nextInt(500);
            out.add(i % 3 == 0 ? "<|im_start|>user\n" + s + "<|im_end|>\n" : s);
        }
        return out;
    }

    @Test
    void loadsInHfTokenizerAndRoundTripsAnyUtf8() throws IOException {
        BpeTrainer.Result bpe = BpeTrainer.builder().optVocabSize(340).build().train(corpus(1, 2000));
        assertThat(bpe.vocabSize()).isEqualTo(340);
        try (HfTokenizer tok = HfTokenizer.load(bpe.write(dir))) {
            assertThat(tok.style()).isEqualTo(HfTokenizer.Style.BYTE_LEVEL);
            assertThat(tok.vocabSize()).isEqualTo(340);
            assertThat(tok.addsPrefixSpace()).isFalse();
            for (String text : List.of("The lantern holds 42 marbles.", "café naïve é ß", "日本語のテキスト",
                    "emoji 🙂👍🏽 and ZWJ 👩‍💻", "tabs\tand  spaces   \n\n  x", "it's 3.5 km — don't", "",
                    "(23 + 48) × 3 = 213", "\u0000\u0001 control \r\n bytes", "<|im_start|>user\nhi<|im_end|>\n")) {
                int[] ids = tok.encode(text, false);
                assertThat(tok.decode(ids, false)).as(text).isEqualTo(text);
                assertTokensRespectPreTokens(tok, text, ids);
            }
            int imStart = tok.tokenId(BpeTrainer.IM_START);
            assertThat(imStart).isEqualTo(bpe.idOf(BpeTrainer.IM_START)).isEqualTo(338);
            assertThat(tok.isSpecial(imStart)).isTrue();
            assertThat(tok.encode("<|im_start|>user", false)[0]).isEqualTo(imStart);
            assertThat(tok.specialTokens().eosToken()).isEqualTo(BpeTrainer.IM_END);
            // the ChatML template comes with it
            assertThat(ChatTemplate.load(dir).orElseThrow().render(
                    List.of(new dev.distill4j.core.Message("user", "hi")), true))
                    .isEqualTo("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
        }
    }

    /** Rust's Split (Oniguruma) must cut where our Java regex cuts: no token may straddle a pre-token boundary. */
    private static void assertTokensRespectPreTokens(HfTokenizer tok, String text, int[] ids) {
        List<Integer> boundaries = new ArrayList<>();
        int at = 0;
        for (String piece : pieces(text)) {
            at += piece.getBytes(StandardCharsets.UTF_8).length;
            boundaries.add(at);
        }
        List<Integer> tokenEnds = new ArrayList<>();
        at = 0;
        for (int id : ids) {
            at += tok.isSpecial(id) ? tok.tokenString(id).getBytes(StandardCharsets.UTF_8).length : tok.tokenBytes(id).length;
            tokenEnds.add(at);
        }
        assertThat(tokenEnds).as("token ends of %s", text).containsAll(boundaries);
    }

    private static List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        for (String part : text.split("(?=<\\|im_start\\|>)|(?<=<\\|im_start\\|>)|(?=<\\|im_end\\|>)|(?<=<\\|im_end\\|>)")) {
            if (part.equals(BpeTrainer.IM_START) || part.equals(BpeTrainer.IM_END)) out.add(part);
            else out.addAll(BpeTrainer.preTokenize(part));
        }
        return out;
    }

    @Test
    void frequentWordsBecomeSingleTokensAndDigitsStaySingle() throws IOException {
        BpeTrainer.Result bpe = BpeTrainer.builder().optVocabSize(400).build().train(corpus(2, 2000));
        try (HfTokenizer tok = HfTokenizer.load(bpe.write(dir))) {
            for (String word : List.of(" lantern", " marble", " holds", "The", "Answer", "Step")) {
                assertThat(tok.encode(word, false)).as(word).hasSize(1);
            }
            assertThat(tok.encode("12345", false)).hasSize(5);
            assertThat(tok.encode(" 907", false)).hasSize(3);
        }
        // special tokens are cut out of the training text, never learned as merges
        assertThat(bpe.tokens()).noneMatch(t -> t.contains("<|") || t.contains("|>"));
    }

    @Test
    void sameInputGivesSameBytesWhateverTheOrder() throws IOException {
        List<String> texts = corpus(3, 1500);
        BpeTrainer trainer = BpeTrainer.builder().optVocabSize(360).build();
        trainer.train(texts).write(dir.resolve("a"));
        List<String> shuffled = new ArrayList<>(texts);
        Collections.shuffle(shuffled, new Random(7));
        trainer.train(shuffled).write(dir.resolve("b"));
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
            assertThat(Files.readAllBytes(dir.resolve("b").resolve(f))).as(f)
                    .isEqualTo(Files.readAllBytes(dir.resolve("a").resolve(f)));
        }
    }

    @Test
    void specialTokensCutTextsApart() {
        List<String> texts = corpus(5, 800);
        BpeTrainer trainer = BpeTrainer.builder().optVocabSize(330).build();
        // one long text with the pieces joined by special tokens counts the same pre-tokens as the pieces
        assertThat(trainer.train(List.of(String.join(BpeTrainer.END_OF_TEXT, texts))).merges())
                .isEqualTo(trainer.train(texts).merges());
    }

    @Test
    void incrementalCountsPickTheSameMergesAsRecountingEveryStep() {
        List<String> texts = corpus(4, 300);
        texts.add("aaaa aaaaa aaa bbbb abab abababab");
        BpeTrainer.Result bpe = BpeTrainer.builder().optVocabSize(330).build().train(texts);
        assertThat(bpe.merges()).isEqualTo(naiveMerges(texts, bpe.merges().size()));
    }

    /** Reference BPE: recount every pair after every merge; ties to the smaller (left id, right id). */
    private static List<String> naiveMerges(List<String> texts, int count) {
        Map<String, Integer> words = new HashMap<>();
        for (String t : texts) {
            for (String piece : t.split("<\\|im_start\\|>|<\\|im_end\\|>")) {
                for (String w : BpeTrainer.preTokenize(piece)) words.merge(w, 1, Integer::sum);
            }
        }
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(String.valueOf(ByteLevel.charOf(b)));
        List<List<Integer>> seqs = new ArrayList<>();
        List<Integer> freq = new ArrayList<>();
        words.forEach((w, n) -> {
            List<Integer> s = new ArrayList<>();
            for (byte b : w.getBytes(StandardCharsets.UTF_8)) s.add(b & 0xFF);
            seqs.add(s);
            freq.add(n);
        });
        List<String> merges = new ArrayList<>();
        while (merges.size() < count) {
            Map<List<Integer>, Integer> pairs = new HashMap<>();
            for (int w = 0; w < seqs.size(); w++) {
                List<Integer> s = seqs.get(w);
                for (int i = 0; i + 1 < s.size(); i++) pairs.merge(List.of(s.get(i), s.get(i + 1)), freq.get(w), Integer::sum);
            }
            List<Integer> best = null;
            for (var e : pairs.entrySet()) {
                if (best == null) { best = e.getKey(); continue; }
                int c = Integer.compare(e.getValue(), pairs.get(best));
                List<Integer> k = e.getKey();
                if (c > 0 || (c == 0 && (k.get(0) < best.get(0) || (k.get(0).equals(best.get(0)) && k.get(1) < best.get(1))))) best = k;
            }
            if (best == null || pairs.get(best) < 2) break;
            int a = best.get(0), b = best.get(1);
            String text = tokens.get(a) + tokens.get(b);
            int c = tokens.indexOf(text);
            if (c < 0) { c = tokens.size(); tokens.add(text); }
            merges.add(tokens.get(a) + " " + tokens.get(b));
            for (List<Integer> s : seqs) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i) == a && s.get(i + 1) == b) { s.set(i, c); s.remove(i + 1); }
                }
            }
        }
        return merges;
    }

    @Test
    void stopsEarlyWhenNoPairRepeats() {
        BpeTrainer.Result bpe = BpeTrainer.builder().optVocabSize(1000).build().train(List.of("abab xyz"));
        assertThat(bpe.merges()).containsExactly("a b");
        assertThat(bpe.vocabSize()).isEqualTo(256 + 1 + 3);
    }

    @Test
    void rejectsVocabulariesTooSmallForTheBytes() {
        assertThatThrownBy(() -> BpeTrainer.builder().optVocabSize(200).build())
                .hasMessageContaining("at least 259");
        assertThatThrownBy(() -> BpeTrainer.builder().optEosToken("</s>").build())
                .hasMessageContaining("not among the special tokens");
    }
}
