package dev.distill4j.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.demo.TaskCorpus.Kind;
import dev.distill4j.demo.TaskCorpus.Task;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.core.Message;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoTokenizerTest {
    @TempDir Path dir;

    @Test
    void responsesFitInEightyTokensAndPromptsStayShort() throws IOException {
        List<List<Task>> s = TaskCorpus.splits(3, TaskCorpus.ALL_KINDS, 4000, 1000);
        DemoTokenizer.write(s.get(0), DemoTokenizer.DEFAULT_VOCAB_SIZE, dir);
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertThat(tok.vocabSize()).isEqualTo(DemoTokenizer.DEFAULT_VOCAB_SIZE);
            Map<Kind, int[]> maxima = new TreeMap<>();
            int[] responseLengths = new int[s.get(1).size()];
            int i = 0;
            // held-out tasks: the tokenizer has not seen these exact texts
            for (Task t : s.get(1)) {
                int response = tok.encode(t.rationale(), false).length;
                int prompt = tok.encode(t.prompt(), false).length;
                responseLengths[i++] = response;
                int[] m = maxima.computeIfAbsent(t.kind(), k -> new int[2]);
                m[0] = Math.max(m[0], prompt);
                m[1] = Math.max(m[1], response);
                assertThat(tok.decode(tok.encode(t.rationale(), false), false)).isEqualTo(t.rationale());
            }
            Arrays.sort(responseLengths);
            int median = responseLengths[responseLengths.length / 2];
            System.out.printf("vocab %d: response tokens median %d, max %d; max (prompt, response) per kind %s%n",
                    tok.vocabSize(), median, responseLengths[responseLengths.length - 1],
                    maxima.entrySet().stream().map(e -> e.getKey().id() + "=" + Arrays.toString(e.getValue())).toList());
            assertThat(median).isLessThanOrEqualTo(40);
            assertThat(responseLengths[responseLengths.length - 1]).isLessThanOrEqualTo(80);
            assertThat(maxima.values()).allSatisfy(m -> assertThat(m[0]).isLessThanOrEqualTo(80));

            // the chat template renders exactly what the tokenizer was trained on
            Task t = s.get(1).getFirst();
            String rendered = ChatTemplate.load(dir).orElseThrow()
                    .render(List.of(Message.user(t.prompt()), Message.assistant(t.rationale())), false);
            assertThat(rendered).isEqualTo(DemoTokenizer.chatText(t));
            // and the trainer's prompt masking splits it where the reply starts
            ChatTemplate.AssistantSpan span = ChatTemplate.load(dir).orElseThrow()
                    .renderWithAssistantSpan(List.of(Message.user(t.prompt())), t.rationale());
            assertThat(span.completion()).isEqualTo(t.rationale() + "<|im_end|>\n");
            int[] ids = tok.encode(rendered, false);
            assertThat(ids[0]).isEqualTo(tok.tokenId("<|im_start|>"));
            assertThat(tok.decode(ids, false)).isEqualTo(rendered);
            // frequent words of the corpus are whole tokens
            for (String w : List.of("Answer", "Step", " capital", " letters")) {
                assertThat(tok.encode(w, false)).as(w).hasSize(1);
            }
        }
    }
}
