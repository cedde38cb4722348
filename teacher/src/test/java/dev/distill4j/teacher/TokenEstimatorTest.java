package dev.distill4j.teacher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The prompt tokens a request is counted at are those of what is sent: system prompt, framing, every turn. */
class TokenEstimatorTest {
    private static final Prompt TEXT = new Prompt("t", "What is two plus two?", null, null, null, 0);  // 21 chars

    @Test void rawTextOnAChatEndpointIsOneFramedUserMessage() {
        // OpenAI's framing: 3 per message + the role's token + the content, and 3 priming the reply
        assertThat(TokenEstimator.estimate(TEXT, null, true)).isEqualTo(3 + 3 + 1 + 6);
        assertThat(TokenEstimator.estimate(TEXT, null, false)).as("completions send the text alone").isEqualTo(6);
    }

    @Test void theSystemPromptIsCounted() {
        String system = "You are terse. Answer in one word.";              // 34 chars: 9 tokens at 4 per token
        assertThat(TokenEstimator.estimate(TEXT, system, true)).isEqualTo(3 + (3 + 1 + 9) + (3 + 1 + 6));
        assertThat(TokenEstimator.bound(TEXT, system, true))
                .isEqualTo(3 + (3 + 6 + 34 + 1) + (3 + 4 + 21 + 1));
    }

    @Test void everyTurnOfAChatIsFramed() {
        Prompt chat = new Prompt("c", null, List.of(Message.system("Be brief."), Message.user("Hi"),
                Message.assistant("Hello."), Message.user("Bye")), null, null, 0);
        assertThat(TokenEstimator.estimate(chat, null, true)).isEqualTo(3 + 4 * 4 + 3 + 1 + 2 + 1);
    }

    @Test void theBoundIsOneTokenPerUtf8Byte() {
        Prompt cjk = new Prompt("z", "二加二等于几", null, null, null, 0);   // 6 characters, 18 bytes
        assertThat(TokenEstimator.bound(cjk, null, false)).isEqualTo(18 + 1);
        assertThat(TokenEstimator.estimate(cjk, null, false)).isEqualTo(2);
        assertThat(new RequestSize(2, 19, 16, 3).worstCase().completionTokens()).as("n choices").isEqualTo(48);
    }

    @Test void teachersCountTheirOwnSystemPromptAndEndpoint() {
        var sampling = new TeacherSampling(null, null, 64, false, null, List.of(), 0, "Be brief.");
        try (Teacher chat = Teachers.create(Fixtures.openAi("http://127.0.0.1:9/v1", "chat", "k", sampling))) {
            RequestSize size = chat.size(new TeacherRequest(TEXT, 0, "k"));
            assertThat(size.promptTokens()).isEqualTo(TokenEstimator.estimate(TEXT, "Be brief.", true));
            assertThat(size.promptTokenBound()).isEqualTo(TokenEstimator.bound(TEXT, "Be brief.", true));
            assertThat(size.worstCase().completionTokens()).isEqualTo(64);
        }
    }
}
