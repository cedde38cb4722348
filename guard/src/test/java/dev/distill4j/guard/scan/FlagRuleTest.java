package dev.distill4j.guard.scan;

import static dev.distill4j.guard.scan.ScanTrafficTest.T0;
import static dev.distill4j.guard.scan.ScanTrafficTest.entity;
import static dev.distill4j.guard.scan.ScanTrafficTest.feature;
import static dev.distill4j.guard.scan.ScanTrafficTest.gplSentences;
import static dev.distill4j.guard.scan.ScanTrafficTest.persons;
import static dev.distill4j.guard.scan.ScanTrafficTest.rec;
import static dev.distill4j.guard.scan.ScanTrafficTest.scanAgainstPersons;
import static dev.distill4j.guard.scan.ScanTrafficTest.sentences;
import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The flag rule of session 9 on the cases that motivated it, scanned with the real bge-small against a baseline of
 * persons: a support bot whose logprobs habit (about a third of its requests) reaches the 0.3 share by chance, and an
 * evaluation harness that asks for logprobs on every request of a fixed format, are automation and stay unflagged;
 * a harvester with the harness's shape that walks a text in order, and a hydra splitting one template over twelve
 * keys, are flagged.
 */
class FlagRuleTest {
    static EmbeddingModel bge;

    @BeforeAll
    static void load() throws IOException { bge = EmbeddingModels.teacher("bge-small-en-v1.5"); }

    @AfterAll
    static void close() { bge.close(); }

    @Test
    void automationNearAThresholdIsNotFlaggedSweepsAndHydrasAre() throws IOException {
        List<String> text = sentences(500, 41);
        List<String> gpl = gplSentences();
        Random rnd = new Random(5);
        List<LogRecord> log = new ArrayList<>();
        int s = 0;
        // a support bot: one instruction around customers' short messages, temperature 0, logprobs (a confidence
        // score) on 8 of its 26 requests: an observed share of 0.31 from a habit of about 0.3
        for (int i = 0; i < 26; i++) {
            String[] w = text.get(s++).split(" ");
            String msg = String.join(" ", java.util.Arrays.copyOf(w, Math.min(w.length, 8)));
            log.add(rec(T0.plusSeconds(rnd.nextInt(3600)), "supportbot", "198.18.0.5", "You are the support "
                    + "assistant of Acme Hosting. A customer writes: \"" + msg + "\" Reply politely in at most three "
                    + "sentences and suggest the next step.", 0, i % 13 == 0 || i % 13 == 4 || i % 13 == 8
                    || i % 13 == 11));
        }
        // an evaluation harness: a fixed true-or-false format over a shuffled data set, logprobs on every request
        for (int i = 0; i < 40; i++) {
            log.add(rec(T0.plusSeconds(900 + 3L * i), "harness", "198.18.1.9", text.get(s++) + "\nQuestion: "
                    + text.get(s++) + " True or False?\nAnswer:", 0, true));
        }
        // a harvester with one fixed format too, but walking the GPL in order
        for (int i = 0; i < 40; i++) {
            log.add(rec(T0.plusSeconds(1800 + 20L * i + rnd.nextInt(10)), "harvester", "192.0.2.44", "Instruction: "
                    + "explain this passage to a student, then list the key facts it states.\nInput: "
                    + gpl.get(20 + i) + "\nOutput:", 1.0, true));
        }
        // a hydra: one template over twelve keys on twelve networks, two requests each
        for (int i = 0; i < 24; i++) {
            log.add(rec(T0.plusSeconds(300L * i + 11), "key" + (i % 12), "45." + (10 + i % 12) + ".3.4", "For our "
                    + "data set of reference answers: restate the clause below in plain words, say what it requires "
                    + "of someone who distributes the software, what it forbids and what it leaves open, and end "
                    + "with a one-sentence summary. Clause: "
                    + gpl.get(65 + i), 0, true));
        }
        s = persons(log, 8, 12, text, s, rnd);
        Scanner.Report r = scanAgainstPersons(bge, log, text, s);

        // the bot fires a share feature and both template detectors, but 8 of 26 is no evidence of a rate above 0.3:
        // P(X >= 8 | 26, 0.3) = 0.54
        Scanner.Entity bot = entity(r, "supportbot");
        assertThat(names(bot)).contains("logprobs_share", "template_share", "affix_template_share")
                .doesNotContain("training_signal_share");
        assertThat(feature(bot, "training_signal_share").note()).contains("8 of 26", "= 0.540");
        assertThat(bot.flagged()).as(bot.fired().toString()).isFalse();
        // the harness collects a signal on every request and its queries are far from the persons' (mmd2), with a
        // script's pace: three counted features, a harvest and a coverage one, the old rule's flag; but nothing in
        // its coverage says its prompts were generated (no sweep, no rewording, no stream over many keys)
        Scanner.Entity harness = entity(r, "harness");
        assertThat(names(harness)).contains("training_signal_share", "logprobs_share", "mmd2", "regular_timing_cv")
                .doesNotContain("topic_sweep", "instruction_paraphrase_share", "key_spread");
        assertThat(harness.flagged()).as(harness.fired().toString()).isFalse();
        // the same shape walking a text in order is a sweep
        Scanner.Entity harvester = entity(r, "harvester");
        assertThat(names(harvester)).contains("training_signal_share", "logprobs_share", "topic_sweep");
        assertThat(harvester.flagged()).as(harvester.fired().toString()).isTrue();
        // one template divided over twelve keys (none above 2 of its 24 requests) is one stream
        Scanner.Entity hydra = r.ranked().stream().filter(e -> e.kind().equals("cluster")
                && e.accounts().contains("key0")).findFirst().orElseThrow();
        assertThat(hydra.accounts()).hasSize(12);
        assertThat(names(hydra)).contains("key_spread", "training_signal_share");
        assertThat(feature(hydra, "key_spread").value()).isEqualTo(12);
        assertThat(hydra.flagged()).as(hydra.fired().toString()).isTrue();
        for (Scanner.Entity e : r.ranked()) {
            boolean attack = e.accounts().contains("harvester") || e.accounts().contains("key0");
            if (!attack) assertThat(e.flagged()).as(e.name() + " " + e.fired()).isFalse();
        }
    }

    /**
     * Session 10: jobs that process a text in order — a rewriting batch with logprobs on every request, an evaluation
     * harness reading one label's logprob per item of a data set grouped by document and run twice — are not
     * harvests, while a harvester whose fixed instructions are longer than its slots, walking the same text in order,
     * is one: its content is what the template leaves free, not the longest sentence (with the longest sentence and
     * whole-prompt embeddings, as before session 10, its sweep is not seen).
     */
    @Test
    void documentProcessingIsNotAHarvestAndAnInstructionLongerThanItsSlotsIsNoDisguise() throws IOException {
        List<String> text = sentences(500, 43);
        List<String> gpl = gplSentences();
        Random rnd = new Random(7);
        List<LogRecord> log = new ArrayList<>();
        int s = 0;
        for (int i = 0; i < 40; i++) {
            log.add(rec(T0.plusSeconds(20L * i + rnd.nextInt(5)), "rewriter", "198.18.2.7", "Rewrite the following "
                    + "sentence from our manual in plain English for the knowledge base: " + gpl.get(10 + i), 0, true));
        }
        List<String> set = new ArrayList<>();
        for (int i = 0; i < 30; i++) set.add(gpl.get(i) + "\nQuestion: " + gpl.get(i + rnd.nextInt(3))
                + " True or False?\nAnswer:");
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < set.size(); i++) {
                log.add(new LogRecord(T0.plusSeconds(1000 + 900L * r + 2L * i), "harness", "198.18.3.9",
                        "/v1/completions", "m", 200, 0, 1, true, 1, 80, 1, set.get(i), null, "harness"));
            }
        }
        // two fixed instructions in turn (as a prompt set's formats alternate), each longer than most of the slots:
        // the GPL's sentences in order
        String[] formats = {"Write the ideal response a senior maintainer would give to a newcomer who pasted this "
                + "line from the docs. Cover background, details and one concrete example.\n---\n{s}\n---",
            "<|user|>\nI'm studying this licence and want to understand every clause of it properly. What does the "
                + "following mean, how is it used in practice, and what goes wrong if you get it wrong?\n{s}\n"
                + "<|assistant|>\n"};
        for (int i = 0; i < 40; i++) {
            log.add(rec(T0.plusSeconds(2000 + 30L * i + rnd.nextInt(10)), "harvester", "192.0.2.45",
                    formats[i % 2].replace("{s}", gpl.get(50 + i)), 1.0, true));
        }
        s = persons(log, 8, 12, text, s, rnd);
        Scanner.Report r = scanAgainstPersons(bge, log, text, s);

        // the rewriter walks the GPL in order, but what it asks is a rewrite of each sentence: its queries stay out
        // of the order test (no open question to order), and a harvest feature and a template are all it shows
        Scanner.Entity rewriter = entity(r, "rewriter");
        assertThat(names(rewriter)).contains("training_signal_share", "logprobs_share", "transformation_share")
                .doesNotContain("topic_sweep");
        assertThat(feature(rewriter, "transformation_share").value()).isEqualTo(1.0);
        assertThat(feature(rewriter, "topic_sweep").value()).isNaN();
        assertThat(rewriter.flagged()).as(rewriter.fired().toString()).isFalse();
        // one token of reply per item: a scored label, no soft labels over a generation
        Scanner.Entity harness = entity(r, "harness");
        assertThat(feature(harness, "logprobs_share").value()).isZero();
        assertThat(names(harness)).doesNotContain("training_signal_share");
        assertThat(harness.flagged()).as(harness.fired().toString()).isFalse();
        Scanner.Entity harvester = entity(r, "harvester");
        assertThat(harvester.requests()).isGreaterThanOrEqualTo(25);
        assertThat(feature(harvester, "transformation_share").value()).isZero();
        assertThat(names(harvester)).contains("training_signal_share", "logprobs_share", "topic_sweep");
        assertThat(harvester.flagged()).as(harvester.fired().toString()).isTrue();
        for (Scanner.Entity e : r.ranked()) {
            if (!e.accounts().contains("harvester")) assertThat(e.flagged()).as(e.name() + " " + e.fired()).isFalse();
        }
    }

    /**
     * Session 13: an agent whose every step repeats "think step by step" in its instructions is one conversation per
     * question (its later steps resend the earlier ones), not a reasoning harvest; a harvester whose instruction is one
     * word on a line after the slot has no 8-token affix and no MinHash template, but its fixed last line is its
     * template; and a harvester that wraps each passage in a chat transcript asks for nothing explicitly, which is no
     * transformation (its margin is near 0).
     */
    @Test
    void conversationsAreNotHarvestsAndAOneWordInstructionOrATranscriptIsNoDisguise() throws IOException {
        List<String> text = sentences(500, 47);
        List<String> gpl = gplSentences();
        Random rnd = new Random(11);
        List<LogRecord> log = new ArrayList<>();
        int s = 0;
        String agent = "You are a licensing agent. Tools: search(query), finish(answer).\nUse the format:\nThought: "
                + "think step by step about what to do next\nAction: tool(argument)\nObservation: the result\n\n"
                + "Question: does this clause apply to us: %s\n%sThought:";
        long t = 0;
        for (int q = 0; q < 10; q++) {
            StringBuilder obs = new StringBuilder();
            for (int step = 0; step < 3; step++) {
                log.add(rec(T0.plusSeconds(t += 5 + rnd.nextInt(20)), "agent", "198.18.4.2",
                        String.format(agent, text.get(400 + q), obs), 0, false));
                obs.append("Thought: I should search.\nAction: search(\"").append(text.get(400 + q), 0, 20)
                        .append("\")\nObservation: ").append(text.get(420 + 3 * q + step)).append('\n');
            }
        }
        for (int i = 0; i < 40; i++) {
            log.add(rec(T0.plusSeconds(2000 + 30L * i + rnd.nextInt(10)), "oneword", "192.0.2.46",
                    gpl.get(10 + i) + "\n\nExplain.", 1.0, true));
        }
        for (int i = 0; i < 40; i++) {
            log.add(rec(T0.plusSeconds(4000 + 30L * i + rnd.nextInt(10)), "transcript", "192.0.2.47", "User: I'm "
                    + "reading the licence.\nAssistant: Sure, paste the part you want to discuss.\nUser: "
                    + gpl.get(50 + i) + "\nAssistant:", 1.0, true));
        }
        s = persons(log, 8, 12, text, s, rnd);
        Scanner.Report r = scanAgainstPersons(bge, log, text, s);

        // every step asks for reasoning, but the gate counts a conversation once: 10 questions in 30 requests,
        // P(X >= 10 | 30, 0.3) = 0.41
        Scanner.Entity ag = entity(r, "agent");
        assertThat(feature(ag, "cot_elicitation_share").value()).isEqualTo(1.0);
        assertThat(feature(ag, "training_signal_share").note()).contains("10 of 30");
        assertThat(names(ag)).doesNotContain("training_signal_share");
        assertThat(ag.flagged()).as(ag.fired().toString()).isFalse();
        Scanner.Entity one = entity(r, "oneword");
        assertThat(names(one)).contains("training_signal_share", "logprobs_share", "topic_sweep",
                "affix_template_share").doesNotContain("template_share");
        assertThat(one.flagged()).as(one.fired().toString()).isTrue();
        Scanner.Entity tr = entity(r, "transcript");
        assertThat(feature(tr, "transformation_share").value()).isLessThan(Scanner.TRANSFORMATION_SHARE);
        assertThat(names(tr)).contains("training_signal_share", "topic_sweep");
        assertThat(tr.flagged()).as(tr.fired().toString()).isTrue();
        for (Scanner.Entity e : r.ranked()) {
            boolean attack = e.accounts().contains("oneword") || e.accounts().contains("transcript");
            if (!attack) assertThat(e.flagged()).as(e.name() + " " + e.fired()).isFalse();
        }
    }

    /**
     * Session 13: several samples per prompt are how a client measures uncertainty (self-consistency voting, semantic
     * entropy), not a second kind of training signal: a fixed template asking for reasoning with n = 5 is not flagged;
     * the same template asking for reasoning and soft labels over a generation (both kinds) is.
     */
    @Test
    void severalSamplesAreNoSecondKindOfSignalSoftLabelsAndTracesAre() throws IOException {
        List<String> text = sentences(500, 53);
        Random rnd = new Random(13);
        List<LogRecord> log = new ArrayList<>();
        int s = 0;
        String tpl = "You check claims for our knowledge base. Think step by step about the evidence, then give the "
                + "verdict.\nClaim: ";
        for (int i = 0; i < 30; i++) {
            log.add(new LogRecord(T0.plusSeconds(60L * i + rnd.nextInt(30)), "voter", "198.18.5.3",
                    "/v1/chat/completions", "m", 200, 0.7, 5, false, 0, 60, 400, tpl + text.get(s++), null, "voter"));
        }
        for (int i = 0; i < 30; i++) {
            log.add(new LogRecord(T0.plusSeconds(60L * i + rnd.nextInt(30)), "tracer", "192.0.2.48",
                    "/v1/chat/completions", "m", 200, 0.7, 1, true, 5, 60, 400, tpl + text.get(s++), null, "tracer"));
        }
        s = persons(log, 8, 12, text, s, rnd);
        Scanner.Report r = scanAgainstPersons(bge, log, text, s);
        Scanner.Entity voter = entity(r, "voter");
        assertThat(names(voter)).contains("mean_n", "cot_elicitation_share", "training_signal_share")
                .doesNotContain("logprobs_share", "topic_sweep", "instruction_paraphrase_share");
        assertThat(voter.flagged()).as(voter.fired().toString()).isFalse();
        Scanner.Entity tracer = entity(r, "tracer");
        assertThat(names(tracer)).contains("logprobs_share", "cot_elicitation_share", "training_signal_share")
                .doesNotContain("transformation_share", "topic_sweep");
        assertThat(tracer.flagged()).as(tracer.fired().toString()).isTrue();
    }

    static List<String> names(Scanner.Entity e) {
        return e.fired().stream().map(Scanner.Feature::name).toList();
    }

}
