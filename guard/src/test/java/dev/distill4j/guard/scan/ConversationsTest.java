package dev.distill4j.guard.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConversationsTest {
    private static boolean[] marks(String... prompts) {
        return Conversations.continuations(Arrays.asList(prompts));
    }

    @Test
    void aTranscriptThatGrowsByTurnsIsOneConversation() {
        String t1 = "System: you answer questions about the mail server.\nUser: why is my queue stuck?";
        String t2 = t1 + "\nAssistant: Check the deferred queue first.\nUser: it says connection refused";
        String t3 = t2 + "\nAssistant: The relay is down.\nUser: thanks";
        assertThat(marks(t1, t2, t3)).containsExactly(false, true, true);
    }

    @Test
    void aGenerationCueThatMovesToTheEndStillJoinsTheTurns() {
        String sys = "You are an operations agent. Tools: search(query), finish(answer).\nQuestion: why does the "
                + "backup fail?\n";
        String step1 = sys + "Thought:";
        String step2 = sys + "Thought: I should search.\nAction: search(\"backup\")\nObservation: disk full\nThought:";
        // a second question of the same agent starts a new conversation
        String other = "You are an operations agent. Tools: search(query), finish(answer).\nQuestion: is the cache "
                + "warm?\nThought:";
        assertThat(marks(step1, step2, other)).containsExactly(false, true, false);
    }

    @Test
    void aScratchpadInTheMiddleGrowsWhereTheBlankLinesAre() {
        String head = "You are the planner of an operations agent. Objective: rotate the logs.\n\nSteps so far:\n";
        String tail = "\n\nThink step by step about what is missing, then output the remaining plan as JSON.";
        String s1 = head + "1. search(\"logrotate\") -> weekly by default";
        String s2 = s1 + "\n2. read(\"/etc/logrotate.conf\") -> compress is off";
        // the first step's placeholder is replaced, not extended: the second step starts the chain anew
        assertThat(marks(head + "(none)" + tail, s1 + tail, s2 + tail)).containsExactly(false, false, true);
    }

    @Test
    void promptTemplatesAreNotConversations() {
        // the slot last: the last lines differ
        assertThat(marks("Explain the following passage for a new administrator:\nThe queue manager delivers mail.",
                "Explain the following passage for a new administrator:\nThe queue manager delivers mail to local "
                        + "and remote recipients as soon as it can.")).containsExactly(false, false);
        // the slot first, a fixed instruction last: the heads differ
        assertThat(marks("The queue manager delivers mail.\n\nExplain.",
                "The cleanup daemon rewrites addresses.\n\nExplain.")).containsExactly(false, false);
        // a long fixed instruction, a short slot and a fixed closing line: the head holds the slot, which differs
        String tpl = "Write the ideal response a senior maintainer would give to a newcomer who pasted this line.\n%s\n"
                + "Answer in full.";
        assertThat(marks(String.format(tpl, "Mail is queued."), String.format(tpl, "Mail is queued and retried."),
                String.format(tpl, "Mail is queued."))).containsExactly(false, false, false);
    }

    @Test
    void repeatsShortPromptsAndUnloggedTextAreNoContinuation() {
        String q = "How do I rotate the server's logs every week?";
        assertThat(marks(q, q, null, "Hi", "Hi there, and another")).containsExactly(false, false, false, false,
                false);
        assertThat(Conversations.continues(q + " And compress them?", q)).isTrue();
        assertThat(Conversations.continues(q, q + " And compress them?")).isFalse();
    }

    @Test
    void onlyEarlierPromptsAreStartsOfAConversation() {
        String t1 = "User: what does the postmaster address receive?";
        String t2 = t1 + "\nAssistant: Bounces.\nUser: and double bounces?";
        assertThat(marks(t2, t1)).containsExactly(false, false);
        assertThat(Conversations.continuations(List.of(t1, "unrelated question about nginx", t2)))
                .containsExactly(false, false, true);
    }
}
