package dev.distill4j.train.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.distill4j.core.Capability;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlignmentTest {
    static HfTokenizer tiny;
    static ChatTemplate chatml;
    static final Prompt PROMPT = Runs.chat("p1", Message.user("hi"));

    @BeforeAll
    static void load() throws IOException {
        tiny = TestTokenizers.tiny();
        chatml = ChatTemplate.load(TestTokenizers.tinyDir()).orElseThrow();
    }

    @AfterAll
    static void close() {
        tiny.close();
    }

    static ExampleBuilder builder(HfTokenizer student, ExampleBuilder.TokenSource source) throws IOException {
        return ExampleBuilder.builder().setTokenizer(student).optChatTemplate(chatml).optTokenSource(source).build();
    }

    /** Response rows of the example: the student positions between the prompt and the end-of-turn token. */
    static int promptLength(HfTokenizer student) {
        return student.encode(chatml.render(List.of(Message.user("hi")), true), false).length;
    }

    @Test
    void sameTokenizerMapsEveryPositionExactly() throws IOException {
        String reply = "Hello world, how are you?";
        int[] teacherIds = tiny.encode(reply, false);
        assertThat(teacherIds).hasSize(7); // Hello Ġworld , Ġhow Ġare Ġyou ?
        TokenDistribution dist = TestTokenizers.distribution(tiny, teacherIds, i -> List.of("Ġthe", "Ġa"));
        var built = builder(tiny, ExampleBuilder.TokenSource.STUDENT)
                .example(PROMPT, Runs.done("p1", 0, reply, Capability.topK(3), dist));

        TrainingExample e = built.example();
        int p = promptLength(tiny);
        KdTargets kd = e.kd();
        assertThat(kd.start()).isEqualTo(p);
        assertThat(kd.k()).isEqualTo(3);
        assertThat(kd.presentCount()).isEqualTo(7);
        int the = tiny.tokenId("Ġthe");
        int a = tiny.tokenId("Ġa");
        for (int r = 0; r < 7; r++) {
            assertThat(e.inputIds()[p + r]).isEqualTo(teacherIds[r]);
            assertThat(new int[] {kd.ids()[r * 3], kd.ids()[r * 3 + 1], kd.ids()[r * 3 + 2]})
                    .containsExactly(teacherIds[r], the, a);
            assertThat(kd.logprobs()[r * 3]).isEqualTo(-0.3f);
            assertThat(kd.logprobs()[r * 3 + 2]).isEqualTo(-3f);
            assertThat(kd.tail()[r]).isCloseTo((float) (1 - Math.exp(-0.3) - Math.exp(-2) - Math.exp(-3)),
                    within(1e-6f));
        }
        // the end-of-turn row is trained on (CE) but has no teacher distribution
        assertThat(kd.length()).isEqualTo(8);
        assertThat(kd.present()[7]).isFalse();
        assertThat(built.alignment()).isEqualTo(new AlignmentStats(1, 1, 0, 7, 7));
    }

    @Test
    void differentTokenizerGivesEveryReplyPositionATarget(@TempDir Path dir) throws IOException {
        // the student knows far fewer merges: " world" is Ġwo r l d, " are" is Ġ a r e
        try (HfTokenizer student = HfTokenizer.load(TestTokenizers.writeBpe(dir,
                List.of("Hello", "Ġhow", "Ġyou", "Ġwo"), TestTokenizers.CHATML))) {
            String reply = "Hello world, how are you?";
            int[] teacherIds = tiny.encode(reply, false); // Hello Ġworld , Ġhow Ġare Ġyou ?
            // chosen at −0.3 and "Ġyou" at −2 everywhere; at "Ġhow" also "Ġwhat" at −3, which the student spells
            // Ġw h a t
            TokenDistribution dist = TestTokenizers.distribution(tiny, teacherIds,
                    i -> i == 3 ? List.of("Ġyou", "Ġwhat") : List.of("Ġyou"));
            var built = builder(student, ExampleBuilder.TokenSource.STUDENT)
                    .example(PROMPT, Runs.done("p1", 0, reply, Capability.topK(3), dist));

            TrainingExample e = built.example();
            int p = promptLength(student);
            int[] response = java.util.Arrays.copyOfRange(e.inputIds(), p, p + 13);
            assertThat(tokens(student, response)).containsExactly("Hello", "Ġwo", "r", "l", "d", ",", "Ġhow", "Ġ", "a",
                    "r", "e", "Ġyou", "?");
            KdTargets kd = e.kd();
            assertThat(kd.k()).isEqualTo(3);
            assertThat(built.alignment()).isEqualTo(new AlignmentStats(1, 0, 0, 13, 13));
            double chosen = Math.exp(-0.3);
            double you = Math.exp(-2);
            double what = Math.exp(-3);
            int ġyou = student.tokenId("Ġyou");
            // where a student token starts a teacher token, the teacher's alternatives map by their first student
            // token: "Ġworld" → own token Ġwo, "Ġyou" → Ġyou, "Ġwhat" → Ġw; "Ġare" → own token Ġ
            assertRow(kd, 0, student, new int[] {student.tokenId("Hello"), ġyou}, chosen, you);
            assertRow(kd, 1, student, new int[] {student.tokenId("Ġwo"), ġyou}, chosen, you);
            assertRow(kd, 5, student, new int[] {',', ġyou}, chosen, you);
            assertRow(kd, 6, student, new int[] {student.tokenId("Ġhow"), ġyou, student.tokenId("Ġw")}, chosen, you,
                    what);
            assertRow(kd, 7, student, new int[] {student.tokenId("Ġ"), ġyou}, chosen, you);
            assertRow(kd, 12, student, new int[] {'?', ġyou}, chosen, you);
            // the helper lists the chosen token again as an alternative: that is the chosen token, not another one
            assertRow(kd, 11, student, new int[] {ġyou}, chosen);
            // inside "Ġworld" (after "Ġwo", "Ġwor", "Ġworl") the alternative "Ġyou" disagrees with the text so far;
            // the unlisted mass 1 − e^−0.3 − e^−2 agrees in the listed proportion e^−0.3 / (e^−0.3 + e^−2), so
            //   Z = e^−0.3 + (1 − e^−0.3 − e^−2)·e^−0.3/(e^−0.3 + e^−2),   q = e^−0.3 / Z = e^−0.3 + e^−2
            for (int r : new int[] {2, 3, 4, 9, 10}) {
                assertRow(kd, r, student, new int[] {response[r]}, chosen + you);
            }
            // inside "Ġare" after "Ġ", "Ġyou" agrees: its rest "you" starts with the student token "y"; Z = 1
            assertRow(kd, 8, student, new int[] {'a', 'y'}, chosen, you);
        }
    }

    @Test
    void aStudentTokenOverSeveralTeacherTokensReadsTheAlternativesAlongThePath(@TempDir Path dir) throws IOException {
        try (HfTokenizer student = HfTokenizer.load(TestTokenizers.writeBpe(dir,
                List.of("Hello", "Ġworld", "Ġwork"), TestTokenizers.CHATML))) {
            // the teacher writes " world" as " wor" + "ld"; the student has Ġworld (and Ġw Ġwo Ġwor Ġworl Ġwork)
            List<TokenPosition> positions = List.of(
                    position("Hello", 0.9),
                    position(" wor", 0.6, " planet", 0.2, " w", 0.1),
                    position("ld", 0.5, "k", 0.3, "m", 0.1));
            var built = builder(student, ExampleBuilder.TokenSource.STUDENT).example(PROMPT,
                    Runs.done("p1", 0, "Hello world", Capability.topK(3), new TokenDistribution(positions)));
            int p = promptLength(student);
            TrainingExample e = built.example();
            assertThat(tokens(student, slice(e.inputIds(), p, p + 2))).containsExactly("Hello", "Ġworld");
            assertThat(built.alignment()).isEqualTo(new AlignmentStats(1, 0, 0, 2, 2));
            KdTargets kd = e.kd();
            assertRow(kd, 0, student, new int[] {student.tokenId("Hello")}, 0.9);
            // events from byte 5, by the student token they start with:
            //   " wor"+"ld"  0.6·0.5 = 0.30 → Ġworld (the chosen path: the student's own token)
            //   " planet"    0.2          → Ġ       (the student has no Ġp...)
            //   " wor"+"k"   0.6·0.3 = 0.18 → Ġwork
            //   " w"         0.1          → Ġw
            //   " wor"+"m"   0.6·0.1 = 0.06 → Ġwor
            // the row keeps the teacher's k = 3: own token, then the two most probable; the rest is tail (0.32)
            assertRow(kd, 1, student, new int[] {student.tokenId("Ġworld"), student.tokenId("Ġ"),
                    student.tokenId("Ġwork")}, 0.30, 0.2, 0.18);
        }
    }

    @Test
    void aStudentTokenInsideATeacherTokenGetsTheConditionalDistribution(@TempDir Path dir) throws IOException {
        try (HfTokenizer student = HfTokenizer.load(TestTokenizers.writeBpe(dir,
                List.of("Hello", "Ġwor", "ld"), TestTokenizers.CHATML))) {
            // the teacher has " world" as one token, the student writes Ġwor + ld
            List<TokenPosition> positions = List.of(
                    position("Hello", 0.9),
                    position(" world", 0.5, " work", 0.2, " planet", 0.1, " w", 0.05));
            var built = builder(student, ExampleBuilder.TokenSource.STUDENT).example(PROMPT,
                    Runs.done("p1", 0, "Hello world", Capability.topK(4), new TokenDistribution(positions)));
            int p = promptLength(student);
            TrainingExample e = built.example();
            assertThat(tokens(student, slice(e.inputIds(), p, p + 3))).containsExactly("Hello", "Ġwor", "ld");
            assertThat(built.alignment()).isEqualTo(new AlignmentStats(1, 0, 0, 3, 3));
            KdTargets kd = e.kd();
            // at Ġwor: " world" and " work" both start with the student token Ġwor (0.5 + 0.2), " planet" with Ġ,
            // " w" is Ġw; the unlisted 0.15 is tail
            assertRow(kd, 1, student, new int[] {student.tokenId("Ġwor"), student.tokenId("Ġ"),
                    student.tokenId("Ġw")}, 0.7, 0.1, 0.05);
            // at ld, given " wor": " world" (0.5) and " work" (0.2) agree, " planet" (0.1) does not, " w" (0.05)
            // is too short to tell and joins the unlisted 0.15 as unknown (0.2), which agrees in the listed
            // proportion 0.7 / 0.8:  Z = 0.7 + 0.2·0.7/0.8 = 0.875;  ld = 0.5/Z, k = 0.2/Z
            assertRow(kd, 2, student, new int[] {student.tokenId("ld"), 'k'}, 0.5 / 0.875, 0.2 / 0.875);
        }
    }

    @Test
    void alternativesWithoutAStudentTokenLeaveTheirMassInTheTail() throws IOException {
        // the teacher's last token lists its end token (no bytes: no student token starts with it)
        List<TokenPosition> positions = List.of(
                position("Hello", 0.9),
                TokenPosition.of(new TokenLogprob(" world", null, (float) Math.log(0.6)), List.of(
                        new TokenLogprob(" world", null, (float) Math.log(0.6)),
                        new TokenLogprob("<|im_end|>", new byte[0], (float) Math.log(0.3)),
                        new TokenLogprob(" the", null, (float) Math.log(0.05)))));
        var built = builder(tiny, ExampleBuilder.TokenSource.STUDENT).example(PROMPT,
                Runs.done("p1", 0, "Hello world", Capability.topK(3), new TokenDistribution(positions)));
        KdTargets kd = built.example().kd();
        assertThat(built.alignment()).isEqualTo(new AlignmentStats(1, 1, 0, 2, 2));
        // Ġworld 0.6 and Ġthe 0.05 are listed; the end token's 0.3 and the unlisted 0.05 are the tail (0.35)
        assertRow(kd, 1, tiny, new int[] {tiny.tokenId("Ġworld"), tiny.tokenId("Ġthe")}, 0.6, 0.05);
    }

    /**
     * A teacher position choosing {@code chosen} with probability {@code p}; its alternatives are the chosen token
     * and then {@code others} (text, probability, text, probability, ...).
     */
    static TokenPosition position(String chosen, double p, Object... others) {
        TokenLogprob c = new TokenLogprob(chosen, null, (float) Math.log(p));
        List<TokenLogprob> alts = new ArrayList<>(List.of(c));
        for (int i = 0; i < others.length; i += 2) {
            alts.add(new TokenLogprob((String) others[i], null, (float) Math.log(((Number) others[i + 1]).doubleValue())));
        }
        return TokenPosition.of(c, alts);
    }

    /** Row {@code r} of {@code kd} lists exactly {@code ids} with probabilities {@code p}, and the rest as tail. */
    static void assertRow(KdTargets kd, int r, HfTokenizer student, int[] ids, double... p) {
        assertThat(kd.present()[r]).as("row %d present", r).isTrue();
        double listed = 0;
        for (int j = 0; j < kd.k(); j++) {
            if (j < ids.length) {
                assertThat(kd.ids()[r * kd.k() + j]).as("row %d id %d (%s)", r, j, student.tokenString(ids[j]))
                        .isEqualTo(ids[j]);
                assertThat((double) kd.logprobs()[r * kd.k() + j]).as("row %d logprob %d", r, j)
                        .isCloseTo(Math.log(p[j]), within(1e-6));
                listed += p[j];
            } else {
                assertThat(kd.logprobs()[r * kd.k() + j]).as("row %d slot %d unused", r, j)
                        .isEqualTo(Float.NEGATIVE_INFINITY);
            }
        }
        assertThat((double) kd.tail()[r]).as("row %d tail", r).isCloseTo(Math.max(0, 1 - listed), within(1e-6));
    }

    @Test
    void multiByteCharactersSplitAcrossTeacherTokens() throws IOException {
        String reply = "café 日本";
        byte[] b = reply.getBytes(StandardCharsets.UTF_8); // c a f C3 A9 20 E6 97 A5 E6 9C AC
        assertThat(b).hasSize(12);
        byte[] e = {'e'};
        // a teacher whose tokens cut é and 日 in half
        List<TokenPosition> positions = List.of(
                TestTokenizers.bytesPosition(slice(b, 0, 2), -0.1f, e),   // "ca"
                TestTokenizers.bytesPosition(slice(b, 2, 3), -0.1f, e),   // "f"
                TestTokenizers.bytesPosition(slice(b, 3, 4), -0.1f, e),   // first byte of é
                TestTokenizers.bytesPosition(slice(b, 4, 5), -0.1f, e),   // second byte of é
                TestTokenizers.bytesPosition(slice(b, 5, 8), -0.1f, e),   // " " + first two bytes of 日
                TestTokenizers.bytesPosition(slice(b, 8, 9), -0.1f, e),   // last byte of 日
                TestTokenizers.bytesPosition(slice(b, 9, 12), -0.1f, e)); // 本
        var built = builder(tiny, ExampleBuilder.TokenSource.STUDENT)
                .example(PROMPT, Runs.done("p1", 0, reply, Capability.topK(2), new TokenDistribution(positions)));

        // the tiny tokenizer has no merges for these: one student token per byte, ids = byte values
        TrainingExample ex = built.example();
        int p = promptLength(tiny);
        for (int i = 0; i < 12; i++) assertThat(ex.inputIds()[p + i]).isEqualTo(b[i] & 0xFF);
        KdTargets kd = ex.kd();
        assertThat(built.alignment()).isEqualTo(new AlignmentStats(1, 0, 0, 12, 12));
        double chosen = Math.exp(-0.1);
        double alt = Math.exp(-3);
        // bytes that start a teacher token: the chosen token and "e" (c, f, C3, A9, " ", A5, E6 of 本)
        for (int r : new int[] {0, 2, 3, 4, 5, 8, 9}) assertRow(kd, r, tiny, new int[] {b[r] & 0xFF, 'e'}, chosen, alt);
        // bytes inside a teacher token ("a" of "ca", 日's E6 97, 本's 9C AC): "e" disagrees with the bytes before
        // them, so the conditional gives the chosen path e^−0.1 / Z = e^−0.1 + e^−3 (see the test above)
        for (int r : new int[] {1, 6, 7, 10, 11}) assertRow(kd, r, tiny, new int[] {b[r] & 0xFF}, chosen + alt);

        // the same text from a teacher with the student's own tokenizer aligns everywhere
        TokenDistribution same = TestTokenizers.distribution(tiny, tiny.encode(reply, false), i -> List.of());
        var exact = builder(tiny, ExampleBuilder.TokenSource.STUDENT)
                .example(PROMPT, Runs.done("p1", 0, reply, Capability.topK(1), same));
        assertThat(exact.alignment()).isEqualTo(new AlignmentStats(1, 1, 0, 12, 12));
    }

    @Test
    void teacherTokensReplaceTheStudentsWhenAsked() throws IOException {
        // the teacher sampled " world" as " wor" + "ld", which the student's own tokenizer would never produce
        String reply = "Hello world";
        List<TokenPosition> positions = List.of(
                TestTokenizers.bytesPosition("Hello".getBytes(StandardCharsets.UTF_8), -0.1f),
                TestTokenizers.bytesPosition(" wor".getBytes(StandardCharsets.UTF_8), -0.1f),
                TestTokenizers.bytesPosition("ld".getBytes(StandardCharsets.UTF_8), -0.1f));
        var sample = Runs.done("p1", 0, reply, Capability.topK(1), new TokenDistribution(positions));
        try (HfTokenizer student = HfTokenizer.load(TestTokenizers.writeBpe(
                java.nio.file.Files.createTempDirectory("bpe"), List.of("Hello", "Ġwor", "Ġworld", "ld"),
                TestTokenizers.CHATML))) {
            int p = promptLength(student);
            var own = builder(student, ExampleBuilder.TokenSource.STUDENT).example(PROMPT, sample);
            assertThat(tokens(student, slice(own.example().inputIds(), p, p + 2))).containsExactly("Hello", "Ġworld");
            // Ġworld covers the teacher's " wor" + "ld": its probability is the chosen path's, e^−0.1 · e^−0.1
            assertThat(own.alignment().kdPositions()).isEqualTo(2);
            assertRow(own.example().kd(), 1, student, new int[] {student.tokenId("Ġworld")}, Math.exp(-0.2));

            var teacher = builder(student, ExampleBuilder.TokenSource.TEACHER).example(PROMPT, sample);
            TrainingExample e = teacher.example();
            assertThat(tokens(student, slice(e.inputIds(), p, e.length())))
                    .containsExactly("Hello", "Ġwor", "ld", "<|im_end|>", "Ċ");
            assertThat(e.labels()[e.length() - 2]).isEqualTo(student.tokenId("<|im_end|>"));
            assertThat(e.labels()[e.length() - 1]).isEqualTo(TrainingExample.IGNORE);
            assertThat(teacher.alignment()).isEqualTo(new AlignmentStats(1, 1, 0, 3, 3));
        }
    }

    @Test
    void trimmedRepliesAlignFromTheRightOffset() throws IOException {
        // Llama 3's template trims the content: the teacher's leading space is not in the rendered text
        ChatTemplate trimming = new ChatTemplate("{% for message in messages %}{{'<|im_start|>' + message['role'] "
                + "+ '\n' + message['content'] | trim + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt "
                + "%}{{ '<|im_start|>assistant\n' }}{% endif %}", tiny.specialTokens());
        String reply = " Hello world ";
        TokenDistribution dist = TestTokenizers.distribution(tiny, tiny.encode(reply, false), i -> List.of());
        var built = ExampleBuilder.builder().setTokenizer(tiny).optChatTemplate(trimming).build()
                .example(PROMPT, Runs.done("p1", 0, reply, Capability.topK(1), dist));
        TrainingExample e = built.example();
        int p = tiny.encode(trimming.render(List.of(Message.user("hi")), true), false).length;
        assertThat(tokens(tiny, slice(e.inputIds(), p, p + 2))).containsExactly("Hello", "Ġworld");
        assertThat(e.kd().presentCount()).isEqualTo(2);
        assertThat(e.kd().ids()[0]).isEqualTo(tiny.tokenId("Hello"));
        assertThat(built.alignment()).isEqualTo(new AlignmentStats(1, 1, 0, 2, 2));
    }

    @Test
    void markupBeforeTheReplyIsLearnedButShiftsNoTarget() throws IOException {
        // Qwen3 without thinking: an empty think block between the generation prompt and the reply
        ChatTemplate thinking = new ChatTemplate("{% for message in messages %}{{'<|im_start|>' + message['role'] "
                + "+ '\n'}}{% if message['role'] == 'assistant' %}{{ '<think>\n\n</think>\n\n' }}{% endif %}"
                + "{{ message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
                + "{{ '<|im_start|>assistant\n' }}{% endif %}", tiny.specialTokens());
        String reply = "Hello world";
        TokenDistribution dist = TestTokenizers.distribution(tiny, tiny.encode(reply, false), i -> List.of("Ġa"));
        var built = ExampleBuilder.builder().setTokenizer(tiny).optChatTemplate(thinking).build()
                .example(PROMPT, Runs.done("p1", 0, reply, Capability.topK(2), dist));
        TrainingExample e = built.example();
        int p = tiny.encode(thinking.render(List.of(Message.user("hi")), true), false).length;
        int n = e.length();
        int completion = tiny.encode("<think>\n\n</think>\n\nHello world<|im_end|>\n", false).length;
        assertThat(n).isEqualTo(p + completion);
        int think = completion - 4; // all but Hello Ġworld <|im_end|> \n
        // learned: the think block, the reply, <|im_end|>; not the trailing newline
        for (int i = 0; i < n; i++) {
            boolean learned = i >= p && i < n - 1;
            assertThat(e.labels()[i]).isEqualTo(learned ? e.inputIds()[i] : TrainingExample.IGNORE);
        }
        KdTargets kd = e.kd();
        assertThat(kd.start()).isEqualTo(p);
        List<Integer> present = new ArrayList<>();
        for (int r = 0; r < kd.length(); r++) if (kd.present()[r]) present.add(kd.start() + r);
        assertThat(present).containsExactly(p + think, p + think + 1);
        assertThat(kd.ids()[think * kd.k()]).isEqualTo(tiny.tokenId("Hello"));
        assertThat(built.alignment()).isEqualTo(new AlignmentStats(1, 1, 0, 2, 2));
    }

    @Test
    void tokensThatDoNotSpellTheReplyGiveNoSignal() throws IOException {
        TokenDistribution dist = TestTokenizers.distribution(tiny, tiny.encode("Hello there", false), i -> List.of());
        var built = builder(tiny, ExampleBuilder.TokenSource.STUDENT)
                .example(PROMPT, Runs.done("p1", 0, "Hello world", Capability.topK(1), dist));
        assertThat(built.example().kd()).isNull();
        assertThat(built.alignment()).isEqualTo(new AlignmentStats(1, 0, 1, 2, 0));
    }

    @Test
    void aTeacherThatGivesOnlyTheChosenTokenStillTeachesItsProbability() throws IOException {
        int[] ids = tiny.encode("Hello world", false);
        List<TokenPosition> positions = new ArrayList<>();
        for (int id : ids) positions.add(new TokenPosition(TestTokenizers.logprob(tiny, id, -0.5f), List.of(), 1f));
        var built = builder(tiny, ExampleBuilder.TokenSource.STUDENT)
                .example(PROMPT, Runs.done("p1", 0, "Hello world", Capability.topK(0), new TokenDistribution(positions)));
        KdTargets kd = built.example().kd();
        assertThat(kd.k()).isEqualTo(1);
        assertThat(kd.presentCount()).isEqualTo(2);
        assertThat(kd.ids()[1]).isEqualTo(tiny.tokenId("Ġworld"));
        assertThat(kd.logprobs()[1]).isEqualTo(-0.5f);
        assertThat(kd.tail()[1]).isCloseTo((float) (1 - Math.exp(-0.5)), within(1e-6f));
    }

    @Test
    void sentencePieceStudentsCountTheirPrefixSpaceAsNothing(@TempDir Path dir) throws IOException {
        // Llama 2 style: one template writes a space before the reply, the other does not
        String spaced = "{% for m in messages %}{% if m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]"
                + "{% else %} {{ m['content'] }}</s>{% endif %}{% endfor %}";
        String tight = spaced.replace("{% else %} {{", "{% else %}{{");
        try (HfTokenizer sp = HfTokenizer.load(TestTokenizers.writeSentencePiece(dir,
                List.of("\u2581Hello", "Hello", "\u2581world", "\u2581the"), null))) {
            assertThat(sp.addsPrefixSpace()).isTrue();
            String reply = "Hello world";
            // a teacher that spells the reply as "Hello" + " world", offering "world" and " the" as alternatives
            List<TokenPosition> positions = List.of(
                    TestTokenizers.bytesPosition("Hello".getBytes(StandardCharsets.UTF_8), -0.1f, "world".getBytes()),
                    TestTokenizers.bytesPosition(" world".getBytes(StandardCharsets.UTF_8), -0.1f, " the".getBytes()));
            var sample = Runs.done("p1", 0, reply, Capability.topK(2), new TokenDistribution(positions));
            int the = sp.tokenId("\u2581the");

            // " Hello world</s>": ▁Hello covers the template's space too, so only ▁world lines up with the teacher
            ChatTemplate t1 = new ChatTemplate(spaced, sp.specialTokens());
            TrainingExample a = ExampleBuilder.builder().setTokenizer(sp).optChatTemplate(t1).build()
                    .example(PROMPT, sample).example();
            int p1 = sp.encode(t1.render(List.of(Message.user("hi")), true), false).length;
            assertThat(tokens(sp, slice(a.inputIds(), p1, a.length())))
                    .containsExactly("\u2581Hello", "\u2581world", "</s>");
            assertThat(a.kd().present()).containsExactly(false, true, false);
            assertThat(a.kd().ids()[a.kd().k()]).isEqualTo(sp.tokenId("\u2581world"));
            assertThat(a.kd().ids()[a.kd().k() + 1]).isEqualTo(the);
            assertThat(a.labels()[a.length() - 1]).isEqualTo(sp.tokenId("</s>"));

            // "Hello world</s>": encoding it alone puts ▁ before Hello, a space that is not in the text
            ChatTemplate t2 = new ChatTemplate(tight, sp.specialTokens());
            var b = ExampleBuilder.builder().setTokenizer(sp).optChatTemplate(t2).build().example(PROMPT, sample);
            int p2 = sp.encode(t2.render(List.of(Message.user("hi")), true), false).length;
            TrainingExample e = b.example();
            assertThat(tokens(sp, slice(e.inputIds(), p2, e.length())))
                    .containsExactly("\u2581Hello", "\u2581world", "</s>");
            assertThat(e.kd().present()).containsExactly(true, true, false);
            // at the first token every student word starts with the prefix space: "Hello" is ▁Hello, "world" ▁world
            assertThat(e.kd().ids()[0]).isEqualTo(sp.tokenId("\u2581Hello"));
            assertThat(e.kd().ids()[1]).isEqualTo(sp.tokenId("\u2581world"));
            assertThat(b.alignment()).isEqualTo(new AlignmentStats(1, 1, 0, 2, 2));
        }
    }

    static List<String> tokens(HfTokenizer tok, int[] ids) {
        List<String> out = new ArrayList<>();
        for (int id : ids) out.add(tok.tokenString(id));
        return out;
    }

    static byte[] slice(byte[] b, int from, int to) { return java.util.Arrays.copyOfRange(b, from, to); }

    static int[] slice(int[] b, int from, int to) { return java.util.Arrays.copyOfRange(b, from, to); }
}
