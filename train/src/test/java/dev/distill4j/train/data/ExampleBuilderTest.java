package dev.distill4j.train.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.Capability;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExampleBuilderTest {
    static HfTokenizer tiny;
    static ChatTemplate chatml;
    @TempDir Path dir;

    @BeforeAll
    static void load() throws IOException {
        tiny = TestTokenizers.tiny();
        chatml = ChatTemplate.load(TestTokenizers.tinyDir()).orElseThrow();
    }

    @AfterAll
    static void close() {
        tiny.close();
    }

    RunStore run(List<Prompt> prompts, List<Sample> samples) throws IOException {
        RunStore store = RunStore.open(dir.resolve("run"));
        store.putPrompts(prompts);
        store.upsertSamples(samples);
        return store;
    }

    ExampleBuilder.Builder chat() {
        return ExampleBuilder.builder().setTokenizer(tiny).optChatTemplate(chatml);
    }

    @Test
    void onlyTheReplyAndItsEndOfTurnTokenAreLearned() throws IOException {
        Prompt p = Runs.chat("p1", Message.system("You are helpful"), Message.user("hello"));
        try (RunStore store = run(List.of(p), List.of(Runs.textSample("p1", 0, "Hello world")))) {
            ExampleSet set = chat().optEvalFraction(0).build().examples(store);
            assertThat(set.train()).hasSize(1);
            assertThat(set.eval()).isEmpty();
            TrainingExample e = set.train().getFirst();
            String rendered = "<|im_start|>system\nYou are helpful<|im_end|>\n<|im_start|>user\nhello<|im_end|>\n"
                    + "<|im_start|>assistant\nHello world<|im_end|>\n";
            assertThat(tiny.decode(e.inputIds(), false)).isEqualTo(rendered);
            int n = e.length();
            int hello = tiny.tokenId("Hello");
            int world = tiny.tokenId("Ġworld");
            int imEnd = tiny.tokenId("<|im_end|>");
            // ... assistant \n | Hello Ġworld <|im_end|> | \n
            assertThat(AlignmentTest.slice(e.inputIds(), n - 4, n)).containsExactly(hello, world, imEnd, '\n');
            assertThat(AlignmentTest.slice(e.labels(), n - 4, n)).containsExactly(hello, world, imEnd,
                    TrainingExample.IGNORE);
            for (int i = 0; i < n - 4; i++) assertThat(e.labels()[i]).isEqualTo(TrainingExample.IGNORE);
            assertThat(e.capability()).isEqualTo(Capability.TEXT);
            assertThat(e.kd()).isNull();
            assertThat(set.report()).isEqualTo(new ExampleSet.Report(1, 1, 0, 0, 1, 0, 3, AlignmentStats.NONE));
        }
    }

    @Test
    void rawTextPromptsForABaseModelLearnTheReplyAndEos(@TempDir Path tok) throws IOException {
        try (HfTokenizer base = HfTokenizer.load(TestTokenizers.writeBpe(tok, List.of("Ġthe", "Ġanswer"), null));
             RunStore store = run(List.of(Runs.text("t1", "Q: the answer?\nA:")),
                     List.of(Runs.textSample("t1", 0, " the answer")))) {
            assertThat(ChatTemplate.load(tok)).isEmpty();
            ExampleBuilder b = ExampleBuilder.builder().setTokenizer(base).optEvalFraction(0).build();
            assertThat(b.promptFormat()).isEqualTo(ExampleBuilder.PromptFormat.RAW);
            TrainingExample e = b.examples(store).train().getFirst();
            int[] prompt = base.encode("Q: the answer?\nA:", true);
            int eos = base.tokenId("<|im_end|>");
            int[] expected = concat(prompt, new int[] {base.tokenId("Ġthe"), base.tokenId("Ġanswer"), eos});
            assertThat(e.inputIds()).containsExactly(expected);
            for (int i = 0; i < prompt.length; i++) assertThat(e.labels()[i]).isEqualTo(TrainingExample.IGNORE);
            assertThat(AlignmentTest.slice(e.labels(), prompt.length, e.length()))
                    .containsExactly(base.tokenId("Ġthe"), base.tokenId("Ġanswer"), eos);

            // top-k from a teacher with the same tokenizer aligns on the reply; the appended EOS has no target
            String reply = " the answer";
            var topK = Runs.done("t1", 1, reply, Capability.topK(2),
                    TestTokenizers.distribution(base, base.encode(reply, false), i -> List.of("Ġanswer")));
            var built = b.example(Runs.text("t1", "Q: the answer?\nA:"), topK);
            assertThat(built.example().inputIds()).containsExactly(expected);
            assertThat(built.example().kd().present()).containsExactly(true, true, false);
            assertThat(built.alignment()).isEqualTo(new AlignmentStats(1, 1, 0, 2, 2));

            // a chat prompt cannot be written for a student without a template
            Prompt c = Runs.chat("c1", Message.user("hi"));
            assertThatThrownBy(() -> b.example(c, Runs.textSample("c1", 0, "x")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("prompt 'c1' is a chat").hasMessageContaining("chat template");
            assertThatThrownBy(() -> ExampleBuilder.builder().setTokenizer(base)
                    .optPromptFormat(ExampleBuilder.PromptFormat.CHAT).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no chat template");
        }
    }

    @Test
    void aRunWithoutDoneSamplesIsAClearError() throws IOException {
        try (RunStore store = run(List.of(Runs.text("t1", "x")), List.of(Runs.pending("t1", 0)))) {
            assertThatThrownBy(() -> chat().build().examples(store)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("has no done samples").hasMessageContaining("1 pending")
                    .hasMessageContaining("distill harvest");
        }
    }

    @Test
    void aTemplateThatRefusesTheMessagesIsAClearError() throws IOException {
        ChatTemplate noSystem = new ChatTemplate("{% for message in messages %}{% if message['role'] == 'system' %}"
                + "{{ raise_exception('System role not supported') }}{% endif %}{{ message['content'] }}{% endfor %}",
                tiny.specialTokens());
        Prompt p = Runs.chat("sys1", Message.system("be brief"), Message.user("hi"));
        try (RunStore store = run(List.of(p), List.of(Runs.textSample("sys1", 0, "ok")))) {
            assertThatThrownBy(() -> ExampleBuilder.builder().setTokenizer(tiny).optChatTemplate(noSystem).build()
                    .examples(store))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("cannot express prompt 'sys1'")
                    .hasMessageContaining("System role not supported")
                    .hasMessageContaining("fold the system message into the first user turn");
        }
    }

    @Test
    void longExamplesAreTruncatedOrDroppedAndCounted() throws IOException {
        String long1 = "the answer is the answer and the answer"; // 9 tokens
        List<Prompt> prompts = List.of(Runs.chat("a", Message.user("hi")), Runs.chat("b", Message.user("hi")),
                Runs.chat("c", Message.user("hello world how are you and what is the question")));
        List<Sample> samples = List.of(Runs.textSample("a", 0, "ok"), Runs.textSample("b", 0, long1),
                Runs.textSample("c", 0, "ok"));
        try (RunStore store = run(prompts, samples)) {
            int promptLen = tiny.encode(chatml.render(List.of(Message.user("hi")), true), false).length;
            int max = promptLen + 5;
            ExampleSet t = chat().optMaxSeqLen(max).optEvalFraction(0).build().examples(store);
            // a fits; b is cut to its first 5 reply tokens; c's prompt alone is longer than the limit
            assertThat(t.report().samples()).isEqualTo(3);
            assertThat(t.report().examples()).isEqualTo(2);
            assertThat(t.report().truncated()).isEqualTo(1);
            assertThat(t.report().dropped()).isEqualTo(1);
            TrainingExample b = t.train().get(1);
            assertThat(b.promptId()).isEqualTo("b");
            assertThat(b.length()).isEqualTo(max);
            assertThat(b.trainedTokens()).isEqualTo(5);

            ExampleSet d = chat().optMaxSeqLen(max).optOverflow(ExampleBuilder.Overflow.DROP).optEvalFraction(0)
                    .build().examples(store);
            assertThat(d.train()).extracting(TrainingExample::promptId).containsExactly("a");
            assertThat(d.report().dropped()).isEqualTo(2);
            assertThat(d.report().truncated()).isZero();

            assertThatThrownBy(() -> chat().optMaxSeqLen(3).build().examples(store))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("raise --max-seq-len");
        }
    }

    @Test
    void aWholeRunSplitsByPromptAndReportsAlignment() throws IOException {
        List<Prompt> prompts = new ArrayList<>();
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String id = "prompt-" + i;
            prompts.add(Runs.chat(id, Message.user("question " + i)));
            for (int s = 0; s < 2; s++) {
                String reply = "the answer is " + i;
                if (i % 2 == 0) {
                    TokenDistribution d = TestTokenizers.distribution(tiny, tiny.encode(reply, false),
                            x -> List.of("Ġa"));
                    samples.add(Runs.done(id, s, reply, Capability.topK(2), d));
                } else {
                    samples.add(Runs.textSample(id, s, reply));
                }
            }
        }
        try (RunStore store = run(prompts, samples)) {
            ExampleSet set = chat().optEvalFraction(0.25).build().examples(store);
            assertThat(set.report().examples()).isEqualTo(80);
            assertThat(set.train().size() + set.eval().size()).isEqualTo(80);
            Set<String> trainIds = new HashSet<>();
            set.train().forEach(e -> trainIds.add(e.promptId()));
            Set<String> evalIds = new HashSet<>();
            set.eval().forEach(e -> evalIds.add(e.promptId()));
            assertThat(trainIds).doesNotContainAnyElementsOf(evalIds);
            assertThat(evalIds).hasSize(set.report().evalPrompts()).isNotEmpty();
            assertThat(trainIds).hasSize(set.report().trainPrompts());
            assertThat(set.eval()).hasSize(2 * evalIds.size());
            EvalSplit split = new EvalSplit(0.25);
            evalIds.forEach(id -> assertThat(split.isHeldOut(id)).isTrue());
            // 20 TOP_K prompts × 2 samples, every position aligned (same tokenizer)
            AlignmentStats a = set.report().alignment();
            assertThat(a.samples()).isEqualTo(40);
            assertThat(a.share()).isEqualTo(1.0);
            assertThat(a.identicalSamples()).isEqualTo(40);
            long expected = 0;
            for (int i = 0; i < 40; i += 2) expected += 2L * tiny.encode("the answer is " + i, false).length;
            assertThat(a.responsePositions()).isEqualTo(a.kdPositions()).isEqualTo(expected);
            for (TrainingExample e : set.train()) {
                int i = Integer.parseInt(e.promptId().substring(7));
                assertThat(e.capability()).isEqualTo(i % 2 == 0 ? Capability.topK(2) : Capability.TEXT);
                assertThat(e.kd() != null).isEqualTo(i % 2 == 0);
            }
            // prompt order is kept
            assertThat(set.train().get(0).promptId()).isEqualTo(set.train().get(1).promptId());
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
