package dev.distill4j.prompts;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The requests that ask the teacher for new prompts, and the reading of its replies. Kept in one place so that the
 * wording the teacher sees and the format the parser expects cannot drift apart.
 */
public final class MetaPrompts {
    private MetaPrompts() {}

    /** A numbered list item: "1. text", "2) text", "3: text", "Prompt 4: text", "**5.** text". */
    private static final Pattern ITEM = Pattern.compile(
            "^\\s*(?:[-*]\\s*)?(?:\\*\\*)?(?:(?:prompt|task|instruction)\\s*)?#?(\\d{1,3})\\s*[.):]\\s*(?:\\*\\*)?\\s*(.*)$",
            Pattern.CASE_INSENSITIVE);

    /** Labels a teacher puts before a rewritten prompt despite being asked not to. */
    private static final Pattern LABEL = Pattern.compile(
            "^\\s*(?:#+\\s*)?(?:\\*\\*)?(?:#?\\s*(?:rewritten|new|created|evolved)\\s+(?:prompt|task|instruction)#?|"
                    + "(?:prompt|task))\\s*(?:\\*\\*)?\\s*:\\s*(?:\\*\\*)?\\s*",
            Pattern.CASE_INSENSITIVE);

    /**
     * Self-Instruct: a few examples (and optionally a topic) in, {@code count} new prompts out, as a numbered list.
     */
    public static String selfInstruct(List<String> examples, String topic, int count) {
        StringBuilder b = new StringBuilder();
        b.append("You are helping build a varied set of prompts that users send to an AI assistant.\n");
        b.append("Here are some example prompts:\n\n");
        for (int i = 0; i < examples.size(); i++) {
            b.append("Example ").append(i + 1).append(":\n").append(examples.get(i).strip()).append("\n\n");
        }
        if (topic != null && !topic.isBlank()) {
            b.append("Every new prompt must be about this topic: ").append(topic.strip()).append("\n\n");
        }
        b.append("Write ").append(count).append(" new prompts. Make them different from the examples and from each "
                + "other: vary the kind of task (question, instruction, rewriting, analysis, calculation, planning, "
                + "classification, explanation), the difficulty and the length. Each prompt must be self-contained: "
                + "include any text or data it refers to. Do not answer them.\n");
        b.append("Reply with the prompts only, as a numbered list from 1. to ").append(count)
                .append("., one prompt per item, without titles or commentary.");
        return b.toString();
    }

    /** Evol-Instruct: one prompt and one operation in, one rewritten prompt out. */
    public static String evol(String parent, EvolOperation op) {
        StringBuilder b = new StringBuilder();
        if (op == EvolOperation.BREADTH) {
            b.append("I want you to act as a prompt creator. Draw inspiration from the given prompt to create a "
                    + "brand-new prompt. It must belong to the same domain as the given prompt but be rarer and "
                    + "differ in subject. Its length and difficulty should be similar. It must be reasonable and "
                    + "answerable by an assistant.\n");
        } else {
            b.append("I want you to act as a prompt rewriter. Rewrite the given prompt into a more complex version "
                    + "that ").append(op.instruction()).append(". The rewritten prompt must stay reasonable, be "
                    + "understood and answerable by people, keep any input the given prompt contains, and add no "
                    + "more than 10 to 20 words.\n");
        }
        b.append("Reply with the new prompt only: no label, no quotes, no explanation.\n\n");
        b.append("Given prompt:\n").append(parent.strip());
        return b.toString();
    }

    /**
     * The prompts of a numbered-list reply, in order. An item runs until the next item; lines before the first
     * item (a preamble such as "Here are five prompts:") are dropped. A reply with no numbered item yields nothing.
     */
    public static List<String> parseList(String reply) {
        List<String> items = new ArrayList<>();
        StringBuilder current = null;
        int expected = 1;
        for (String line : reply.split("\\R")) {
            Matcher m = ITEM.matcher(line);
            // only a number that continues the list starts an item, so "1. Boil water 2. ..." inside a prompt that
            // itself contains steps stays part of it
            if (m.matches() && Integer.parseInt(m.group(1)) == expected) {
                if (current != null) items.add(current.toString());
                current = new StringBuilder(m.group(2));
                expected++;
            } else if (current != null) {
                current.append('\n').append(line);
            }
        }
        if (current != null) items.add(current.toString());
        List<String> out = new ArrayList<>();
        for (String item : items) {
            String s = clean(item);
            if (!s.isEmpty()) out.add(s);
        }
        return out;
    }

    /** The single prompt of an evol reply, without labels or wrapping quotes. */
    public static String parseSingle(String reply) {
        String s = reply.strip();
        Matcher m = LABEL.matcher(s);
        if (m.lookingAt()) s = s.substring(m.end());
        return clean(s);
    }

    /** Trims whitespace, trailing bold markers and one pair of wrapping quotes. */
    static String clean(String s) {
        String t = s.strip();
        if (t.endsWith("**") && !t.substring(0, t.length() - 2).contains("**")) t = t.substring(0, t.length() - 2).strip();
        if (t.length() >= 2) {
            char a = t.charAt(0), z = t.charAt(t.length() - 1);
            if ((a == '"' && z == '"') || (a == '“' && z == '”') || (a == '\'' && z == '\'')) {
                t = t.substring(1, t.length() - 1).strip();
            }
        }
        return t;
    }

    /** Lower case with runs of whitespace and punctuation folded: the key of exact-duplicate removal. */
    static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[\\p{Punct}\\s]+", " ").strip();
    }
}
