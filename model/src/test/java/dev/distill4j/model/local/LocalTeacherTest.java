package dev.distill4j.model.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.model.testing.TinyModels;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.teacher.TeacherRequest;
import dev.distill4j.teacher.TeacherResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalTeacherTest {
    @TempDir static Path tmp;
    static Path modelDir;

    @BeforeAll
    static void createModel() throws Exception {
        modelDir = tmp.resolve("tiny-teacher");
        // untied: a tied random model predicts its input token again and again
        ModelInit.create(new ModelInit.Spec("llama", 2, 32, 4, 2, 64, null, 1e4, 256, false, null, 42,
                dev.distill4j.model.io.DType.F32), TinyModels.tokenizerDir(), modelDir, false);
        TinyModels.wholeCharactersOnly(modelDir);
    }

    @AfterAll
    static void done() {}

    private static TeacherSampling sampling(Double temperature, int maxTokens, List<String> stop, int topLogprobs) {
        return new TeacherSampling(temperature, null, maxTokens, false, 1L, stop, topLogprobs, null);
    }

    private static Prompt raw(String text) {
        return new Prompt("p", text, null, null, "test", 1);
    }

    private static Prompt chat(String text) {
        return new Prompt("c", null, List.of(Message.user(text)), null, "test", 1);
    }

    private static byte[] chosenBytes(List<TokenPosition> positions) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        positions.forEach(p -> out.writeBytes(p.chosen().bytes()));
        return out.toByteArray();
    }

    @Test
    void topKTeacherWhoseTokensSpellTheText() throws Exception {
        try (LocalTeacher t = LocalTeacher.open(modelDir, sampling(null, 12, List.of(), 4), LocalTeacher.COMPLETIONS)) {
            assertThat(t.capability()).isEqualTo(Capability.topK(4));
            assertThat(t.provider()).isEqualTo("local");
            assertThat(t.model()).isEqualTo("tiny-teacher");
            assertThat(t.baseUrl()).isNull();
            TeacherResponse r = t.complete(new TeacherRequest(raw("the cat sat on"), 0, "k"));
            assertThat(r.text()).isNotEmpty();
            List<TokenPosition> ps = r.tokens().positions();
            assertThat(ps).isNotEmpty().allSatisfy(p -> {
                assertThat(p.alternatives()).hasSize(4);
                assertThat(p.alternatives().getFirst().logprob()).isGreaterThanOrEqualTo(p.alternatives().get(3).logprob());
                assertThat(p.tail()).isBetween(0f, 1f);
            });
            assertThat(chosenBytes(ps)).isEqualTo(r.text().getBytes(StandardCharsets.UTF_8));
            int promptTokens = TinyTokenizerIds.count(modelDir, "the cat sat on");
            assertThat(r.usage().promptTokens()).isEqualTo(promptTokens);
            assertThat(r.usage().completionTokens()).isEqualTo(ps.size());
            assertThat(r.finishReason()).isIn("stop", "length");
            if (r.finishReason().equals("length")) assertThat(ps).hasSize(12);
            assertThat(t.estimatePromptTokens(new TeacherRequest(raw("the cat sat on"), 0, "k"))).isEqualTo(promptTokens);
        }
    }

    @Test
    void chatPromptsGoThroughTheTemplateAndTextTeachersStoreNoTokens() throws Exception {
        try (LocalTeacher t = LocalTeacher.open(modelDir, sampling(null, 5, List.of(), 0), LocalTeacher.COMPLETIONS)) {
            assertThat(t.capability()).isEqualTo(Capability.TEXT);
            TeacherResponse r = t.complete(new TeacherRequest(chat("hi"), 0, "k"));
            assertThat(r.tokens().isEmpty()).isTrue();
            // "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
            String rendered = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";
            assertThat(r.usage().promptTokens()).isEqualTo(TinyTokenizerIds.countNoSpecial(modelDir, rendered));
            // the chat endpoint wraps raw text as one user turn: the same request as the chat prompt
            try (LocalTeacher c = LocalTeacher.open(modelDir, sampling(null, 5, List.of(), 0), LocalTeacher.CHAT)) {
                TeacherResponse rc = c.complete(new TeacherRequest(raw("hi"), 0, "k"));
                assertThat(rc.usage()).isEqualTo(r.usage());
                assertThat(rc.text()).isEqualTo(r.text());
            }
        }
    }

    @Test
    void stopStringsCutTextAndTokensTogether() throws Exception {
        String full;
        try (LocalTeacher t = LocalTeacher.open(modelDir, sampling(1.0, 16, List.of(), 2), LocalTeacher.COMPLETIONS)) {
            full = t.complete(new TeacherRequest(raw("a dog"), 0, "k")).text();
        }
        // a two-character stop string whose first occurrence is not at the start, so some text remains
        String stop = null;
        for (int i = 1; i + 2 <= full.length() && stop == null; i++) {
            if (full.indexOf(full.substring(i, i + 2)) == i) stop = full.substring(i, i + 2);
        }
        assertThat(stop).as(full).isNotNull();
        String expected = full.substring(0, full.indexOf(stop));
        try (LocalTeacher t = LocalTeacher.open(modelDir, sampling(1.0, 16, List.of(stop), 2), LocalTeacher.COMPLETIONS)) {
            TeacherResponse r = t.complete(new TeacherRequest(raw("a dog"), 0, "k"));
            assertThat(r.text()).isEqualTo(expected);
            assertThat(r.finishReason()).isEqualTo("stop");
            byte[] text = expected.getBytes(StandardCharsets.UTF_8);
            byte[] tokens = chosenBytes(r.tokens().positions());
            // every kept token starts inside the text; only the last may run into the stop string
            assertThat(tokens.length).isGreaterThanOrEqualTo(text.length);
            assertThat(java.util.Arrays.copyOf(tokens, text.length)).isEqualTo(text);
            int last = r.tokens().positions().getLast().chosen().bytes().length;
            assertThat(tokens.length - last).isLessThan(Math.max(1, text.length));
        }
    }

    @Test
    void concurrentCallsTakeTurnsAndSampleIndexChangesTheSample() throws Exception {
        try (LocalTeacher t = LocalTeacher.open(modelDir, sampling(1.0, 8, List.of(), 1), LocalTeacher.COMPLETIONS);
             var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<TeacherResponse>> same = new ArrayList<>();
            for (int i = 0; i < 6; i++) same.add(pool.submit(() -> t.complete(new TeacherRequest(raw("once upon"), 0, "k"))));
            String first = same.getFirst().get().text();
            for (Future<TeacherResponse> f : same) assertThat(f.get().text()).isEqualTo(first);
            List<String> others = new ArrayList<>();
            for (int i = 1; i <= 3; i++) others.add(t.complete(new TeacherRequest(raw("once upon"), i, "k")).text());
            assertThat(others).anySatisfy(o -> assertThat(o).isNotEqualTo(first));
        }
    }

    @Test
    void refusesWhatItCannotDo() throws Exception {
        Path base = tmp.resolve("base-model");
        ModelInit.create(TinyModels.spec("llama", 1), TinyModels.tokenizerDir(), base, false);
        ObjectNode tc = (ObjectNode) Json.parse(Files.readString(base.resolve("tokenizer_config.json")));
        tc.remove("chat_template");
        Files.writeString(base.resolve("tokenizer_config.json"), Json.write(tc));
        try (LocalTeacher t = LocalTeacher.open(base, sampling(null, 4, List.of(), 0), LocalTeacher.COMPLETIONS)) {
            assertThatThrownBy(() -> t.validate(chat("hi"))).hasMessageContaining("has no chat template");
            t.validate(raw("hi"));
            assertThatThrownBy(() -> t.complete(new TeacherRequest(chat("hi"), 0, "k")))
                    .isInstanceOf(TeacherException.class).hasMessageContaining("has no chat template")
                    .satisfies(e -> assertThat(((TeacherException) e).kind()).isEqualTo(TeacherException.Kind.BAD_REQUEST));
        }
        var withSystem = new TeacherSampling(null, null, 4, false, null, List.of(), 0, "Be brief.");
        try (LocalTeacher t = LocalTeacher.open(modelDir, withSystem, LocalTeacher.COMPLETIONS)) {
            assertThatThrownBy(() -> t.validate(raw("hi"))).hasMessageContaining("a system prompt needs a chat");
            t.validate(chat("hi"));
        }
        assertThatThrownBy(() -> LocalTeacher.open(tmp.resolve("absent"), sampling(null, 4, List.of(), 0), "chat"))
                .hasMessageContaining("does not exist");
    }

    /** Token counts straight from the tokenizer, to check the teacher's usage against. */
    static final class TinyTokenizerIds {
        static int count(Path dir, String text) throws Exception {
            try (var tok = dev.distill4j.model.tokenizer.HfTokenizer.load(dir)) {
                return tok.encode(text, true).length;
            }
        }

        static int countNoSpecial(Path dir, String text) throws Exception {
            try (var tok = dev.distill4j.model.tokenizer.HfTokenizer.load(dir)) {
                return tok.encode(text, false).length;
            }
        }
    }
}
