package dev.distill4j.embed.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SentencesTest {
    private static final Sentences.Limits L = Sentences.Limits.DEFAULT;

    @Test
    void paragraphsJoinWrappedLinesAndSkipCodeAndMarkup() {
        String text = """
                The dpkg program installs packages and keeps track of which files
                belong to which package on the system.

                              $ dpkg -i foo_1.0_amd64.deb
                              $ dpkg -L foo
                =========
                * Menu:
                A configu-
                ration file is kept when the package is removed.
                """;
        assertEquals(List.of(
                "The dpkg program installs packages and keeps track of which files belong to which package on the system.",
                "A configuration file is kept when the package is removed."), Sentences.paragraphs(text));
    }

    @Test
    void splitsAtSentenceEndsButNotAfterAbbreviationsOrInitials() {
        assertEquals(List.of("Use a tool, e.g. Aptitude, to install it.", "It was written by J. Smith in 1999!",
                        "Does it work?", "(Yes, it does.)", "See the manual."),
                Sentences.split("Use a tool, e.g. Aptitude, to install it. It was written by J. Smith in 1999! "
                        + "Does it work? (Yes, it does.) See the manual."));
        assertEquals(List.of("Version 1.2 of the file is older."), Sentences.split("Version 1.2 of the file is older."));
    }

    @Test
    void proseFilterKeepsSentencesAndDropsCodeOptionsAndFragments() {
        assertTrue(Sentences.isProse("The package manager keeps a list of every installed file.", L));
        assertTrue(Sentences.isProse("\"Quoted sentences are fine as well,\" he said.", L));
        assertFalse(Sentences.isProse("Too short to use.", L), "fewer than 6 words");
        assertFalse(Sentences.isProse("the sentence starts in lower case and goes on for a while.", L));
        assertFalse(Sentences.isProse("This line has no final punctuation and is only a heading", L));
        assertFalse(Sentences.isProse("Run /usr/bin/foo --bar=1 --baz=2 -x -y -z 0x1f now.", L), "mostly non-words");
        assertFalse(Sentences.isProse("A " + "word ".repeat(60) + "end.", L), "over 50 words");
    }

    @Test
    void keyIgnoresCaseAndPunctuation() {
        assertEquals("see the manual page for details", Sentences.key("See the manual-page (for details)."));
        assertEquals(Sentences.key("Install it, then reboot."), Sentences.key("install it then reboot"));
    }
}
