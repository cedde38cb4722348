package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Json;
import dev.distill4j.embed.OnnxEmbeddingModel.Builtin;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Java WordPiece tokenizer gives Hugging Face tokenizers' ids (through DJL) wherever it takes a text. */
class WordPieceTokenizerTest {

    /** Texts that exercise every step: cleaning, accents, case, punctuation, long and unknown words. */
    static final List<String> CRAFTED = List.of(
            "Hello, World! How are you?!?",
            "  leading and trailing spaces  ",
            "tabs\tand\nnewlines\r\nand\u000bvertical\u000cfeeds",
            "non\u00a0breaking\u2009thin\u202fnarrow\u3000ideographic spaces",   // U+3000 is not covered
            "soft\u00adhyphen and zero\u200bwidth\u200djoiner",
            "a NUL\u0000 and a replacement\ufffd character and a bell\u0007 and NEL\u0085 here",
            "Café naïve résumé coöperate Ångström façade jalapeño",
            "ÉCOLE MAÎTRE İstanbul straße ß ẞ",
            "combining e\u0301 and a\u0308 marks, and a lone \u0301 one",
            "Ελληνικά ΆΈΉ ΣΊΣΥΦΟΣ and Кириллица Ёжик ЁЖИК",
            "“curly quotes” ‘single’ – en dash — em dash … ellipsis • bullet",
            "price: $5.00 + 3 € or £2 = ¥300; 50% off ~ maybe ^ `code` | pipe < > {braces} [brackets]",
            "x_y snake_case CamelCase e.g. i.e. U.S.A. don't won't o'clock",
            "https://www.debian.org/doc/manuals/debian-reference/ch01.en.html#_login_to_the_shell",
            "/usr/share/doc/python3/html/library/os.path.html and C:\\Windows\\System32",
            "int main(int argc, char **argv) { return argc > 1 ? 0 : -1; }",
            "ratio 3.14159 and 1,234,567 and 0x7fff_ffff and 1e-10",
            "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
            "a".repeat(100) + " " + "b".repeat(101) + " " + "ab".repeat(60),
            "unknownpiecesqzxjv and zzzzqqq and ¤¤¤ and ¦ and ®©™ and ∑∫√∞≠ and ←→↔ and ─│┌ and ■□▲",
            "the [CLS] token and [SEP] and [MASK] in the text",
            "emoji 😀 and 🥰 are not covered",
            "CJK 日本語 and 中文 are not covered",
            "",
            "   ",
            "!!!",
            "Ünïcödé ÀÉÎÕÜ àéîõü ÇçÑñ ØøÅåÆæ Œœ Šš Žž Ÿÿ Ðð Þþ",
            "the GNU C Library’s manual — chapter 12.3: “Formatted Output”, see also printf(3)");

    @Test
    void givesTheReferenceIdsOnEveryTextItTakesAndDeclinesTheRest() throws Exception {
        byte[] json = Builtin.BGE_SMALL_EN_V15.tokenizerJson();
        WordPieceTokenizer fast = WordPieceTokenizer.of(Json.MAPPER.readTree(json));
        assertThat(fast).isNotNull();
        List<String> texts = new ArrayList<>(CRAFTED);
        texts.addAll(EmbedCorpus.synthetic(500, 7));
        int taken = agree(json, fast, texts);
        // declined: the ideographic space, capital sharp s (U+1E9E), the [CLS] text, emoji, CJK
        assertThat(taken).isEqualTo(texts.size() - 5);
        assertThat(fast.encode("emoji 😀")).isNull();
        assertThat(fast.encode("see [SEP] here")).isNull();
        // by hand: punctuation isolated, accents stripped, lowercased, a word beyond 100 characters one [UNK]
        assertThat(fast.encode("Café!")).containsExactly(id(json, "cafe"), id(json, "!"));
        assertThat(fast.encode("b".repeat(101))).containsExactly(id(json, "[UNK]"));
    }

    @Test
    void wordsAddedToTheVocabularyAreTakenWhole() throws Exception {
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < 20; i++) corpus.add("the zymurgist distilled kombucha with a spectrophotometer " + i);
        VocabularyExtension.Result extended = VocabularyExtension.extend(Builtin.BGE_SMALL_EN_V15.tokenizerJson(), corpus, 5, 100);
        assertThat(extended.words()).contains("zymurgist", "spectrophotometer");
        WordPieceTokenizer fast = WordPieceTokenizer.of(Json.MAPPER.readTree(extended.tokenizerJson()));
        List<String> texts = new ArrayList<>(CRAFTED);
        texts.addAll(corpus);
        agree(extended.tokenizerJson(), fast, texts);
        int zymurgist = extended.firstId() + extended.words().indexOf("zymurgist");
        assertThat(fast.encode("Zymurgist")).containsExactly(zymurgist);
    }

    @Test
    void anOnnxEncoderFramesAndCutsTheJavaIdsAsTheReferenceDoes() throws Exception {
        List<String> texts = new ArrayList<>(CRAFTED);
        texts.add("word ".repeat(600));                      // cut to 512 with [CLS] and [SEP] kept
        texts.add("a sentence of exactly one token less. ".repeat(60));
        for (Builtin b : Builtin.values()) {
            try (OnnxEmbeddingModel model = OnnxEmbeddingModel.load(b);
                 HuggingFaceTokenizer reference = HfTokenizers.load(b.tokenizerJson(), true, b.maxLength)) {
                for (String t : texts) {
                    assertThat(model.tokenize(t)).as(b.id + ": " + t).containsExactly(reference.encode(t).getIds());
                }
                assertThat(model.tokenize("word ".repeat(600))).hasSize(b.maxLength);
            }
        }
    }

    @Test
    void aTokenizerOtherThanBertsIsNotTaken() throws Exception {
        ObjectNode json = (ObjectNode) Json.MAPPER.readTree(Builtin.BGE_SMALL_EN_V15.tokenizerJson());
        assertThat(WordPieceTokenizer.of(json.deepCopy().put("normalizer", (String) null))).isNull();
        ObjectNode bpe = json.deepCopy();
        ((ObjectNode) bpe.get("model")).put("type", "BPE");
        assertThat(WordPieceTokenizer.of(bpe)).isNull();
        ObjectNode normalisedAdded = json.deepCopy();
        ((ObjectNode) normalisedAdded.get("added_tokens").get(0)).put("normalized", true);
        assertThat(WordPieceTokenizer.of(normalisedAdded)).isNull();
        // strip_accents false keeps the accents (and lowercases İ to i + U+0307, as Rust's to_lowercase does)
        ObjectNode keep = json.deepCopy();
        ((ObjectNode) keep.get("normalizer")).put("strip_accents", false);
        byte[] keepBytes = Json.MAPPER.writeValueAsBytes(keep);
        agree(keepBytes, WordPieceTokenizer.of(keep), CRAFTED);
    }

    /** Asserts equal ids on every text the Java tokenizer takes; returns how many it took. */
    private static int agree(byte[] json, WordPieceTokenizer fast, List<String> texts) throws Exception {
        int taken = 0;
        try (HuggingFaceTokenizer reference = HfTokenizers.load(json, false, 0)) {
            for (String t : texts) {
                long[] ids = fast.encode(t);
                if (ids == null) continue;
                taken++;
                assertThat(ids).as(t).containsExactly(reference.encode(t, false, false).getIds());
            }
        }
        return taken;
    }

    private static long id(byte[] json, String token) throws Exception {
        return Json.MAPPER.readTree(json).path("model").path("vocab").path(token).asLong();
    }
}
