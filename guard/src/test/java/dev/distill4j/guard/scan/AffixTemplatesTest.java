package dev.distill4j.guard.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Templates#affixShare}: fixed instructions around long slots, counted by hand. */
class AffixTemplatesTest {
    static final String[] Q = {"why does the kernel load modules at boot time", "how is a package signed by its "
        + "maintainer before upload", "what happens to configuration files when a package is purged",
        "when should a library bump its soname after an interface change", "who decides which packages are part of "
        + "the release"};

    @Test
    void oneInstructionAroundLongSlotsCoversEveryQuery() {
        List<String> q = new ArrayList<>();
        for (String s : Q) q.add("Answer thoroughly and reason step by step before the final answer. Question: " + s);
        // MinHash misses them: each slot is as long as the instruction
        assertThat(Templates.group(q)).containsOnly(-1);
        assertThat(Templates.affixShare(q)).isEqualTo(1.0);
    }

    @Test
    void twoInstructionsAndFreeQuestionsCountOnlyTheTopTwo() {
        List<String> q = new ArrayList<>();
        for (String s : Q) q.add("Answer thoroughly and reason step by step before the final answer. Question: " + s);
        for (String s : Q) q.add(s + "? Please reply in a short paragraph with an example from Debian.");
        for (int i = 0; i < 3; i++) q.add("Give me a list of words that rhyme with " + Q[i]); // a third prefix of 3
        q.add("hello there"); // too short to have a slot
        q.add(Q[4]); // free question, 13 tokens, unique affixes
        // top two keys: the prefix of the first 5 and the suffix of the next 5 (the rhyme prefix has only 3)
        assertThat(Templates.affixShare(q)).isEqualTo(10 / 15.0);
    }

    @Test
    void affixesSharedByFewerThanThreeQueriesAreNoTemplate() {
        List<String> q = List.of("Please explain in plain words what this means: " + Q[0],
                "Please explain in plain words what this means: " + Q[1], Q[2], Q[3]);
        assertThat(Templates.affixShare(q)).isZero();
        assertThat(Templates.affixShare(List.of())).isZero();
    }
    @Test
    void aFixedLineIsATemplateHoweverShort() {
        List<String> q = new ArrayList<>();
        for (String s : Q) q.add(s + ".\n\nExplain.");
        // neither detector of session 12 sees it: the last 8 tokens are mostly slot, the slot is nearly everything
        assertThat(Templates.group(q)).containsOnly(-1);
        assertThat(Templates.affixShare(q)).isEqualTo(1.0);
        // a line with too little beside it is no instance (the slot must hold 3 tokens), a one-line query has no lines
        assertThat(Templates.lineAffixes("why\nExplain.")).isEmpty();
        assertThat(Templates.lineAffixes(Q[0] + " Explain.")).isEmpty();
        // the turn marker is a key (the message beside it is the slot); the message is not (2 tokens beside it)
        assertThat(Templates.lineAffixes("User: " + Q[1] + "\nAssistant:")).containsExactly("assistant : line$");
        assertThat(Templates.lineAffixes("Context: the archive\nUser: " + Q[1] + "\nAssistant:"))
                .containsExactly("^line context : the archive", "assistant : line$");
        // the same closing line on two of five queries is shared by fewer than three
        List<String> few = new ArrayList<>(List.of(Q[0] + "\nExplain.", Q[1] + "\nExplain."));
        for (int i = 2; i < 5; i++) few.add(Q[i]);
        assertThat(Templates.affixShare(few)).isZero();
    }
}
