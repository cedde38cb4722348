package dev.distill4j.train.data;

import static org.assertj.core.api.Assertions.assertThat;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The r50k_base tokenizer.json written by {@link TiktokenBpe} encodes as tiktoken (jtokkit) does. */
class TiktokenBpeTest {
    @Test
    void r50kTokenizerJsonEncodesLikeTiktoken(@TempDir Path dir) throws IOException {
        Encoding r50k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
        try (HfTokenizer hf = HfTokenizer.load(TiktokenBpe.write("r50k_base", dir))) {
            assertThat(hf.vocabSize()).isEqualTo(50257);
            assertThat(hf.tokenId("<|endoftext|>")).isEqualTo(50256);
            assertThat(hf.isSpecial(50256)).isTrue();
            for (String text : new String[] {
                    "Hello world, how are you?",
                    "  indented   text\twith\ttabs\n\nand  new lines \n",
                    "The committee's decision wasn't unanimous; they'll reconsider it in 2024 (maybe 12345678).",
                    "café 日本語 naïve — “quotes” and emoji 🙂 ok",
                    "$ zcat README.gz >> foo && tar -xvJf foo.tar.xz bar/",
                    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis"}) {
                assertThat(hf.encode(text, false)).as(text).containsExactly(r50k.encodeOrdinary(text).toArray());
            }
        }
    }
}
