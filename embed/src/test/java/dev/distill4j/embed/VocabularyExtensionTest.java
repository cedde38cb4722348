package dev.distill4j.embed;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** On bge-small-en-v1.5's own WordPiece tokenizer.json (from LangChain4j's jar, offline). */
class VocabularyExtensionTest {
    @Test
    void frequentSplitWordsBecomeSingleTokensAndEverythingElseTokenisesAsBefore() throws Exception {
        byte[] bge = OnnxEmbeddingModel.Builtin.byId("bge-small-en-v1.5").tokenizerJson();
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < 5; i++) corpus.add("The debconf frontend asks questions during dpkg configuration.");
        corpus.add("Rarely seen: unmaintainability.");   // split, but only once: not added
        VocabularyExtension.Result r = VocabularyExtension.extend(bge, corpus, 5, 100);
        try (HuggingFaceTokenizer before = HfTokenizers.load(bge, false, 0);
             HuggingFaceTokenizer after = HfTokenizers.load(r.tokenizerJson(), false, 0)) {
            assertThat(before.encode("debconf", false, false).getIds()).hasSizeGreaterThan(1);
            assertThat(r.words()).contains("debconf", "dpkg").doesNotContain("unmaintainability", "the", "questions");
            assertThat(r.firstId()).isEqualTo(30522);
            for (String w : r.words()) {
                long[] ids = after.encode(w, false, false).getIds();
                assertThat(ids).containsExactly(r.firstId() + r.words().indexOf(w));
            }
            assertThat(r.counts()[r.words().indexOf("debconf")]).isEqualTo(5);
            String other = "Questions about unmaintainability are asked rarely.";
            assertThat(after.encode(other, false, false).getIds()).containsExactly(before.encode(other, false, false).getIds());
            // an added word inside a sentence, capitalised: the normaliser lower-cases it first
            assertThat(after.encode("Debconf asks.", false, false).getIds()[0]).isEqualTo(r.firstId() + r.words().indexOf("debconf"));
        }
    }
}
