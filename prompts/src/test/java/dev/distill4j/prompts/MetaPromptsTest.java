package dev.distill4j.prompts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MetaPromptsTest {
    @Test
    void aNumberedListIsReadItemByItemWithoutItsPreamble() {
        String reply = """
                Here are three new prompts:

                1. Explain why the sky is blue.
                2) Write a haiku about autumn rain,
                   using the word "lantern".
                3. "Convert 3.5 km to miles."
                """;
        assertEquals(List.of("Explain why the sky is blue.",
                "Write a haiku about autumn rain,\n   using the word \"lantern\".", "Convert 3.5 km to miles."),
                MetaPrompts.parseList(reply));
    }

    @Test
    void stepsNumberedInsideAPromptStayInsideIt() {
        // "1." inside item 2 does not continue the list (the next item is 3), so it stays part of item 2
        String reply = "1. Sort these words: pear, fig.\n2. Follow the recipe:\n1. Boil water\n3. Name a prime above 90.";
        assertEquals(List.of("Sort these words: pear, fig.", "Follow the recipe:\n1. Boil water",
                "Name a prime above 90."), MetaPrompts.parseList(reply));
    }

    @Test
    void labelledAndBoldItemsAreRead() {
        assertEquals(List.of("What is 2 + 2?", "Name a river in Peru."),
                MetaPrompts.parseList("**1.** What is 2 + 2?\nPrompt 2: Name a river in Peru."));
    }

    @Test
    void aReplyWithoutAListYieldsNothing() {
        assertEquals(List.of(), MetaPrompts.parseList("I'd be happy to help with that."));
    }

    @Test
    void anEvolReplyLosesItsLabelAndQuotes() {
        assertEquals("List three causes of the French Revolution and rank them.",
                MetaPrompts.parseSingle("#Rewritten Prompt#: \"List three causes of the French Revolution and rank them.\""));
        assertEquals("Describe a cat.", MetaPrompts.parseSingle("  Describe a cat.  "));
        assertEquals("Summarise the text below.", MetaPrompts.parseSingle("**New prompt:** Summarise the text below."));
    }

    @Test
    void theRequestsCarryTheirExamplesTopicAndOperation() {
        String si = MetaPrompts.selfInstruct(List.of("Add 2 and 3.", "Name a colour."), "geology", 4);
        assertTrue(si.contains("Example 1:\nAdd 2 and 3.") && si.contains("Example 2:\nName a colour."), si);
        assertTrue(si.contains("about this topic: geology") && si.contains("numbered list from 1. to 4."), si);
        String ev = MetaPrompts.evol("Name a colour.", EvolOperation.ADD_CONSTRAINTS);
        assertTrue(ev.contains("adds one more constraint") && ev.endsWith("Given prompt:\nName a colour."), ev);
        assertTrue(MetaPrompts.evol("Name a colour.", EvolOperation.BREADTH).contains("brand-new prompt"));
    }

    @Test
    void theRuleFilterNamesEachFailure() {
        PromptFilter f = new PromptFilter(10, 60);
        assertEquals(Optional.of(Rejection.TOO_SHORT), f.check("Hi there", null));
        assertEquals(Optional.of(Rejection.TOO_LONG), f.check("x".repeat(61), null));
        assertEquals(Optional.of(Rejection.REFUSAL), f.check("I'm sorry, but I cannot write that.", null));
        assertEquals(Optional.of(Rejection.REFUSAL), f.check("As an AI language model, I ...", null));
        assertEquals(Optional.of(Rejection.META_TEXT), f.check("Rewrite the given prompt in French.", null));
        assertEquals(Optional.of(Rejection.UNCHANGED), f.check("Name a colour!", "name a colour."));
        assertEquals(Optional.empty(), f.check("Name a colour and a fruit.", "Name a colour."));
    }
}
