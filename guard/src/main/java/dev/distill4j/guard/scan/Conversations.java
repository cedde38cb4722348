package dev.distill4j.guard.scan;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which prompts of an account continue a conversation it already started: a chat application and an agent resend
 * the whole exchange so far with one more turn (the user's next message, a tool's observation) appended.
 *
 * <p>Why it matters: the turns of one conversation are alike by construction (each contains the one before), carry
 * the same system instruction — a ReAct agent's "Thought: think step by step" is in every step — and come one after
 * another, so counted one by one they look like a fixed template asking for reasoning, in order: a harvest. The unit
 * a distillation harvest samples is an independent prompt; the unit a conversation samples is the conversation. So
 * the harvest gate and the order test read a conversation through its first turn only.
 *
 * <p>A prompt B <em>continues</em> an earlier prompt A of the same account when B is longer and either
 * <ul>
 *   <li>A is a prefix of B (a transcript whose newest line is the user's message), or</li>
 *   <li>A without its last line (and the blank lines before it) is a prefix of B, that part is at least half of A,
 *       and B ends with the same last line as A (a transcript closed by a fixed generation cue — {@code Assistant:},
 *       {@code Thought:} — or an agent's scratchpad followed by its fixed instruction, which moves to the end as
 *       steps are added).</li>
 * </ul>
 * A prompt template with the slot at the end ("Explain the following:\n{passage}") is no conversation: its last
 * lines differ. Nor is a slot followed by a fixed instruction ("{passage}\n\nExplain."): the first lines differ.
 *
 * <p>Limits: a harvester that disguises every prompt as the next turn of a growing transcript pays for the whole
 * transcript's tokens on every request and is read as one conversation per transcript; conversations whose earlier
 * turns are summarised or truncated (a sliding context window) are not recognised and count turn by turn.
 */
public final class Conversations {
    /** Prompts shorter than this are not matched as the start of a conversation (a greeting prefixes anything). */
    static final int MIN_CHARS = 16;

    private Conversations() {}

    /**
     * For prompts of one account in time order (nulls allowed: unlogged text), whether each continues an earlier
     * one.
     */
    public static boolean[] continuations(List<String> prompts) {
        boolean[] out = new boolean[prompts.size()];
        // earlier prompts by their first MIN_CHARS characters: a continuation shares them, so only a bucket is scanned
        Map<String, List<String>> earlier = new HashMap<>();
        for (int i = 0; i < out.length; i++) {
            String b = prompts.get(i);
            if (b == null || b.length() < MIN_CHARS) continue;
            String key = b.substring(0, MIN_CHARS);
            List<String> bucket = earlier.computeIfAbsent(key, k -> new ArrayList<>());
            for (String a : bucket) {
                if (continues(b, a)) {
                    out[i] = true;
                    break;
                }
            }
            bucket.add(b);
        }
        return out;
    }

    /** Whether {@code b} continues {@code a} (see the class comment). */
    static boolean continues(String b, String a) {
        if (b.length() <= a.length() || a.length() < MIN_CHARS) return false;
        if (b.startsWith(a)) return true;
        String at = a.stripTrailing();
        int cut = at.lastIndexOf('\n');
        if (cut < 0) return false;
        // the part before the cue, without the blank lines that separate it from the cue: a scratchpad in the middle
        // of a prompt grows where those blank lines are
        String head = at.substring(0, cut).stripTrailing();
        String last = at.substring(cut + 1).strip();
        if (last.isEmpty() || head.length() < at.length() / 2 || !b.startsWith(head)) return false;
        String bt = b.stripTrailing();
        return bt.substring(bt.lastIndexOf('\n') + 1).strip().equals(last);
    }
}
