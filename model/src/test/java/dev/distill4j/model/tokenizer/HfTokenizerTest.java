package dev.distill4j.model.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Json;
import dev.distill4j.model.testing.TinyTokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfTokenizerTest {
    @TempDir Path dir;

    static Path resourceDir() {
        return Path.of("src/test/resources/tiny-tokenizer");
    }

    @Test
    void resourceCopyMatchesGenerator() throws IOException {
        TinyTokenizer.write(dir);
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
            assertThat(Files.readString(resourceDir().resolve(f)))
                    .as(f + " is stale: regenerate with TinyTokenizer.main")
                    .isEqualTo(Files.readString(dir.resolve(f)));
        }
    }

    @Test
    void encodesDecodesAndConcatenatedTokenBytesAreTheUtf8() throws IOException {
        try (HfTokenizer tok = HfTokenizer.load(TinyTokenizer.write(dir))) {
            assertThat(tok.style()).isEqualTo(HfTokenizer.Style.BYTE_LEVEL);
            assertThat(tok.vocabSize()).isEqualTo(TinyTokenizer.VOCAB_SIZE);
            for (String text : List.of("Hello world", "Hello, the world! how are you?\n\nI can help with this.",
                    "café naïve é", "日本語のテキスト", "emoji 🙂👍🏽 and ZWJ 👩‍💻", "tabs\tand  spaces   ",
                    "<|im_start|>user\nhi<|im_end|>\n", "")) {
                int[] ids = tok.encode(text, false);
                assertThat(tok.decode(ids, false)).as(text).isEqualTo(text);
                ByteArrayOutputStream concat = new ByteArrayOutputStream();
                for (int id : ids) concat.writeBytes(tok.isSpecial(id) ? tok.tokenString(id).getBytes(StandardCharsets.UTF_8) : tok.tokenBytes(id));
                assertThat(concat.toByteArray()).as(text).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
            }
            // merges really apply: " the" is one token, "日" is three byte tokens
            assertThat(tok.encode(" the", false)).containsExactly(tok.tokenId("Ġthe"));
            assertThat(tok.encode("日", false)).containsExactly(0xE6, 0x97, 0xA5);
            assertThat(tok.tokenBytes(tok.tokenId("Ġthe"))).isEqualTo(" the".getBytes(StandardCharsets.UTF_8));
            assertThat(tok.tokenString(' ')).isEqualTo("Ġ");
            assertThat(tok.tokenString('\n')).isEqualTo("Ċ");
            // a long text is not truncated to DJL's default 512 tokens
            String longText = "日".repeat(400);
            assertThat(tok.encode(longText, true)).hasSize(1200);
        }
    }

    @Test
    void specialTokensAreRecognisedAndSkippable() throws IOException {
        try (HfTokenizer tok = HfTokenizer.load(TinyTokenizer.write(dir))) {
            int[] ids = tok.encode("<|im_start|>user\nHello<|im_end|>", false);
            assertThat(ids[0]).isEqualTo(TinyTokenizer.imStartId());
            assertThat(ids[ids.length - 1]).isEqualTo(TinyTokenizer.imEndId());
            assertThat(tok.isSpecial(ids[0])).isTrue();
            assertThat(tok.isSpecial(tok.tokenId("user"))).isFalse();
            assertThat(tok.tokenBytes(TinyTokenizer.imEndId())).isEmpty();
            assertThat(tok.decode(ids, true)).isEqualTo("user\nHello");
            assertThat(tok.tokenId("<|endoftext|>")).isEqualTo(TinyTokenizer.endOfTextId());
            assertThat(tok.tokenId("no such token")).isEqualTo(-1);
            SpecialTokens st = tok.specialTokens();
            assertThat(st.eosToken()).isEqualTo("<|im_end|>");
            assertThat(st.padToken()).isEqualTo("<|endoftext|>");
            assertThat(st.bosToken()).isNull();
            assertThat(tok.idOf(st.eosToken())).isEqualTo(TinyTokenizer.imEndId());
            assertThatThrownBy(() -> tok.tokenBytes(TinyTokenizer.VOCAB_SIZE)).hasMessageContaining("outside the vocabulary");
        }
    }

    /**
     * A SentencePiece-style vocabulary like Llama 2 / TinyLlama: "▁" for space, byte fallback for characters the
     * vocabulary lacks, a BOS added by the post-processor.
     */
    @Test
    void sentencePieceStyleTokenBytes() throws IOException {
        StringBuilder vocab = new StringBuilder("\"<unk>\":0,\"<s>\":1,\"</s>\":2");
        for (int b = 0; b < 256; b++) vocab.append(String.format(",\"<0x%02X>\":%d", b, 3 + b));
        String[] pieces = {"▁", "H", "e", "l", "o", "▁H", "▁He", "▁Hel", "▁Hell", "▁Hello", "w", "r", "d", "▁w",
                "▁wo", "▁wor", "▁worl", "▁world", "é", "▁é"};
        for (int i = 0; i < pieces.length; i++) vocab.append(",\"").append(pieces[i]).append("\":").append(259 + i);
        String merges = "\"▁ H\",\"▁H e\",\"▁He l\",\"▁Hel l\",\"▁Hell o\",\"▁ w\",\"▁w o\",\"▁wo r\",\"▁wor l\",\"▁worl d\",\"▁ é\"";
        String json = """
                {"version":"1.0","truncation":null,"padding":null,
                 "added_tokens":[{"id":0,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
                                 {"id":1,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
                                 {"id":2,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
                 "normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
                 "pre_tokenizer":null,
                 "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
                   "pair":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
                   "special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},
                 "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
                 "model":{"type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":true,"byte_fallback":true,
                   "vocab":{%s},"merges":[%s]}}
                """.formatted(vocab, merges);
        Files.writeString(dir.resolve("tokenizer.json"), json);
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\":{\"content\":\"<s>\",\"lstrip\":false},\"eos_token\":\"</s>\",\"add_bos_token\":true}");
        Json.parse(json); // the test's own JSON is well-formed
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertThat(tok.style()).isEqualTo(HfTokenizer.Style.SENTENCEPIECE);
            assertThat(tok.addsPrefixSpace()).isTrue();
            assertThat(tok.specialTokens().bosToken()).isEqualTo("<s>");
            assertThat(tok.specialTokens().addBosToken()).isTrue();
            String text = "Hello world é日";
            int[] ids = tok.encode(text, true);
            assertThat(ids[0]).isEqualTo(1);
            assertThat(tok.tokenString(ids[1])).isEqualTo("▁Hello");
            assertThat(tok.decode(ids, true)).isEqualTo(text);
            ByteArrayOutputStream concat = new ByteArrayOutputStream();
            for (int id : ids) concat.writeBytes(tok.tokenBytes(id));
            // context-free bytes carry the normalizer's leading space, which decoding strips
            assertThat(concat.toString(StandardCharsets.UTF_8)).isEqualTo(" " + text);
            assertThat(tok.tokenBytes(tok.tokenId("<0x0A>"))).containsExactly(0x0A);
            assertThat(tok.tokenBytes(tok.tokenId("▁world"))).isEqualTo(" world".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void missingTokenizerFailsClearly() {
        assertThatThrownBy(() -> HfTokenizer.load(dir)).hasMessageContaining("no tokenizer.json in " + dir);
    }
}
