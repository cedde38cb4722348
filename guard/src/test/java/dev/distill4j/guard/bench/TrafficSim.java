package dev.distill4j.guard.bench;

import dev.distill4j.guard.scan.LogRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * Simulated API traffic for the extraction-detection benchmark ({@link Traffic}): benign users whose prompts are
 * built from real English sentences (Debian's documentation, {@code bench/guard/corpus.sh}), and four extraction
 * campaigns.
 *
 * <p>The corpus (one paragraph per line, in source order) is cut into documents of {@value #DOC_PARAGRAPHS}
 * consecutive paragraphs, and each document gets one role by a hash of its index: baseline (the scanner's known-benign
 * traffic), dev (benign users of the windows the scanner was tuned on), eval (benign users of the reported windows),
 * attack-dev and attack-eval (the campaigns' slot text). Roles never share a document or a user, so the figures are on
 * users and text the thresholds never saw.
 *
 * <p>The {@code test} split (session 8, written before the scanner changes it measures) comes from a second corpus
 * of other documentation ({@code bench/guard/corpus-test.sh}: the Python, Git and GNU tool manuals, no paragraph of
 * the first corpus): its documents are test users' reading ({@link Role#TEST}) or test campaigns' slot text
 * ({@link Role#ATTACK_TEST}). Its users also ask in phrasings no other split has ({@link #ASK_TEST},
 * {@link #COT_TEST}, mixed with the shared ones), and its campaigns use instructions, a paraphrase grammar and
 * reasoning closers of their own ({@link Split#TEST}).
 *
 * <p>The {@code holdout} split (session 9, written and committed before that session's scanner changes, run once at
 * the end) comes from a third corpus ({@code bench/guard/corpus-holdout.sh}: the Autoconf, Automake, M4, Libtool,
 * Flex, Z shell, GNU Screen and R manuals and the Apache HTTP Server documentation, no paragraph of the other two):
 * {@link Role#HOLDOUT} and {@link Role#ATTACK_HOLDOUT}. Its users ask in phrasings of their own ({@link #ASK_HOLDOUT},
 * {@link #COT_HOLDOUT}), its support bots use other instructions ({@link #BOT_HOLDOUT}), and beside the people it
 * has a spread of <em>benign automated clients</em> ({@link #automatedClients}): evaluation harnesses, support bots,
 * classification pipelines, translation and summarisation batch jobs and retrieval-augmented (RAG) clients, each
 * asking for logprobs at its own rate from 0 to 100 %. Its campaigns have new instructions, slot text, a paraphrase
 * grammar and reasoning closers in a terse, interrogative chat style.
 *
 * <p>The {@code blind} split (session 10, written and committed before that session's scanner changes, run once at
 * the end) comes from a fourth corpus ({@code bench/guard/corpus-blind.sh}: the PostgreSQL, SQLite, Exim, Postfix
 * and nginx documentation, no paragraph of the other three): {@link Role#BLIND} and {@link Role#ATTACK_BLIND}. Its
 * 250 people ask in phrasings of their own ({@link #ASK_BLIND}, {@link #COT_BLIND}) and get replies of varied
 * length; its 30 automated clients ({@link #blindClients}) are of kinds no earlier split has — IDE code completion,
 * extraction to JSON over documents in order, moderation classifiers, summarisers of long documents section by
 * section, tool-using agents — and the earlier kinds with new settings (evaluation harnesses that rerun their set, a
 * chain-of-thought benchmark among them). Its campaigns use short instructions after the slot and multi-turn chat
 * transcripts, and a paraphrase grammar of terse follow-up asks and closers.
 *
 * <p>The {@code fresh} split (session 13) was written by a helper session that had not read the scanner, and
 * committed before any scan of it. A fifth corpus ({@code bench/guard/corpus-fresh.sh}: the Django documentation, the
 * BIND 9 reference manual, Vim's help files and the Linux kernel's admin and development-process guides, no paragraph
 * of the other four): {@link Role#FRESH} and {@link Role#ATTACK_FRESH}. Its 250 people ask in phrasings of their own
 * ({@link #ASK_FRESH}, {@link #COT_FRESH}, {@link #BOT_FRESH}) with replies of varied length; its 30 automated clients
 * ({@link #freshClients}) are what API customers ran in 2026 — multi-turn chat apps carrying the conversation,
 * tutoring apps and graders asking for step-by-step reasoning, rerankers and autocompletion reading logprobs,
 * calibration studies (top_logprobs 20, n = 10), synthetic-data pipelines over a company's own documents, document
 * QA, evaluation harnesses that rerun their sets, self-consistency samplers (n = 5, 10), agents and batch jobs — with
 * replies of varied length. Its campaigns ({@link #freshAttack}) have prompt sets of their own (question generation
 * over the corpus, structured task records, reasoning traces in {@code <think>} tags, Self-Instruct records, an
 * Evol-Instruct-style paraphrase grammar) and settings of their own.
 *
 * <p>Benign profiles (shares of the population): casual (occasional questions on one or two documents), power users
 * (long sessions, a third of them asking for step-by-step reasoning), bursty users (several bursts of quick
 * questions), developers (temperature 0 and logprobs on most requests, fast evaluation loops), support bots (one
 * fixed prompt template with a short customer message as the slot, temperature 0, high volume), and a fifth of the
 * population behind shared NAT addresses (offices, campuses: up to 25 users per /24). Everyone sometimes asks at
 * temperature 0 or with logprobs, and some habitually ask for reasoning.
 */
final class TrafficSim {
    static final int DOC_PARAGRAPHS = 25;
    static final Instant T0 = Instant.parse("2026-11-02T08:00:00Z");

    enum Role { BASELINE, DEV, EVAL, ATTACK_DEV, ATTACK_EVAL, TEST, ATTACK_TEST, HOLDOUT, ATTACK_HOLDOUT, BLIND,
        ATTACK_BLIND, FRESH, ATTACK_FRESH }

    /**
     * The benchmark's splits: tuned on dev; eval (held out in sessions 6 and 7, seen since); test (held out in 8,
     * seen since); holdout (held out in 9, seen since); blind (held out in 10, seen since); fresh (session 13, written
     * by a helper that had not read the scanner).
     */
    enum Split { DEV, EVAL, TEST, HOLDOUT, BLIND, FRESH }

    /**
     * Profiles: people (casual, power, bursty, developer), the support bots every split has, the holdout split's
     * automated clients (evaluation harness, classification pipeline, translation/summarisation batch job, RAG), the
     * blind split's (code completion, extraction, moderation, summarisation, agents) and the fresh split's (multi-turn
     * chat apps, tutoring apps, graders, rerankers, autocompletion, calibration studies, synthetic-data pipelines over
     * a company's own documents, document QA, self-consistency samplers).
     */
    enum Kind { CASUAL, POWER, BURSTY, DEVELOPER, BOT, EVAL_HARNESS, CLASSIFIER, BATCH, RAG, CODE_ASSIST, EXTRACTOR,
        MODERATOR, SUMMARIZER, AGENT, CHAT_APP, TUTOR, GRADER, RERANKER, AUTOCOMPLETE, CALIBRATION, SYNTH_DATA, DOC_QA,
        SELF_CONSISTENCY }

    /** A document: its sentences usable as prompt material (6 to 30 words). */
    record Doc(int index, List<String> sentences) {}

    /**
     * A simulated user: profile, habits and a fixed history of prompts (windows take slices of it); {@code auto} is
     * the request settings of an automated client (null for people and for the support bots of dev, eval and test);
     * {@code replyTokens} the median length of a person's replies (0: every reply 200 tokens, as in the splits before
     * {@code blind}; else log-normal around it, as real answers vary).
     */
    record User(String name, Kind kind, String network, int host, double cotRate, double logprobRate,
                double temp0Rate, List<String> history, Automation auto, int replyTokens) {
        User(String name, Kind kind, String network, int host, double cotRate, double logprobRate, double temp0Rate,
             List<String> history, Automation auto) {
            this(name, kind, network, host, cotRate, logprobRate, temp0Rate, history, auto, 0);
        }
    }

    /**
     * How an automated client of the holdout split sends its requests: logprobs on a share of them (with
     * {@code topLogprobs} alternatives), {@code n} completions on a share ({@code nValue} each), its temperature, its
     * replies' length, and its volume per window (between {@code minCount} and {@code maxCount}); {@code replySpread}
     * (the fresh split's clients) the sigma of a log-normal spread of reply lengths around {@code completionTokens}
     * (0: every reply that long, as in the earlier splits).
     */
    record Automation(double logprobRate, int topLogprobs, double nRate, int nValue, double temperature,
                      int completionTokens, int minCount, int maxCount, long paceMillis, double replySpread) {
        Automation(double logprobRate, int topLogprobs, double nRate, int nValue, double temperature,
                   int completionTokens, int minCount, int maxCount, long paceMillis) {
            this(logprobRate, topLogprobs, nRate, nValue, temperature, completionTokens, minCount, maxCount,
                    paceMillis, 0);
        }
    }

    /** One request before it becomes a {@link LogRecord}. */
    record Query(long millis, String account, String client, String text, double temperature, boolean logprobs,
                 int topLogprobs, int n, boolean attack, int completionTokens) {
        Query(long millis, String account, String client, String text, double temperature, boolean logprobs,
              int topLogprobs, int n, boolean attack) {
            this(millis, account, client, text, temperature, logprobs, topLogprobs, n, attack, 200);
        }

        LogRecord record() {
            return new LogRecord(T0.plusMillis(millis), account, client, "/v1/chat/completions", "teacher", 200,
                    temperature, n, logprobs, topLogprobs, Math.max(1, text.length() / 4), completionTokens, text,
                    null, account);
        }
    }

    private static final Pattern SENTENCE = Pattern.compile("(?<=[.!?])\\s+(?=[A-Z\"'(])");

    /** The corpus's documents by role. */
    static List<List<Doc>> documents(Path corpus) throws IOException {
        List<String> paras = Files.readAllLines(corpus);
        List<List<Doc>> byRole = new ArrayList<>();
        for (int r = 0; r < Role.values().length; r++) byRole.add(new ArrayList<>());
        for (int d = 0; d * DOC_PARAGRAPHS < paras.size(); d++) {
            List<String> sents = new ArrayList<>();
            for (String p : paras.subList(d * DOC_PARAGRAPHS, Math.min(paras.size(), (d + 1) * DOC_PARAGRAPHS))) {
                for (String s : SENTENCE.split(p)) {
                    s = s.strip();
                    int words = s.split("\\s+").length;
                    if (words >= 6 && words <= 30 && s.chars().filter(Character::isLetter).count() > 0.7 * s.length()) {
                        sents.add(s);
                    }
                }
            }
            if (sents.size() < 8) continue;
            int h = (int) Math.floorMod(mix(d * 0x9E3779B97F4A7C15L + 17), 20L);
            Role role = h < 6 ? Role.BASELINE : h < 9 ? Role.DEV : h < 14 ? Role.EVAL : h < 17 ? Role.ATTACK_DEV
                    : Role.ATTACK_EVAL;
            byRole.get(role.ordinal()).add(new Doc(d, sents));
        }
        return byRole;
    }

    /**
     * The held-out corpus's documents ({@code corpus-test.sh}), cut like {@link #documents}: each is a test user's
     * reading ({@link Role#TEST}, 70 %) or a test campaign's slot text ({@link Role#ATTACK_TEST}, 30 %) by a hash of
     * its index; the other roles' lists are empty.
     */
    static List<List<Doc>> testDocuments(Path corpus) throws IOException {
        return heldOut(corpus, Role.TEST, Role.ATTACK_TEST, 0xD1B54A32D192ED03L, 29);
    }

    /**
     * The holdout corpus's documents ({@code corpus-holdout.sh}), cut like {@link #documents}: users' reading
     * ({@link Role#HOLDOUT}, 70 %) or campaigns' slot text ({@link Role#ATTACK_HOLDOUT}, 30 %) by a hash of the index.
     */
    static List<List<Doc>> holdoutDocuments(Path corpus) throws IOException {
        return heldOut(corpus, Role.HOLDOUT, Role.ATTACK_HOLDOUT, 0x8CB92BA72F3D8DD7L, 31);
    }

    /**
     * The blind corpus's documents ({@code corpus-blind.sh}), cut like {@link #documents}: users' reading
     * ({@link Role#BLIND}, 70 %) or campaigns' slot text ({@link Role#ATTACK_BLIND}, 30 %) by a hash of the index.
     */
    static List<List<Doc>> blindDocuments(Path corpus) throws IOException {
        return heldOut(corpus, Role.BLIND, Role.ATTACK_BLIND, 0xA0761D6478BD642FL, 37);
    }

    /**
     * The fresh corpus's documents ({@code corpus-fresh.sh}), cut like {@link #documents}: users' reading
     * ({@link Role#FRESH}, 70 %) or campaigns' slot text ({@link Role#ATTACK_FRESH}, 30 %) by a hash of the index.
     */
    static List<List<Doc>> freshDocuments(Path corpus) throws IOException {
        return heldOut(corpus, Role.FRESH, Role.ATTACK_FRESH, 0xE7037ED1A0B428DBL, 41);
    }

    private static List<List<Doc>> heldOut(Path corpus, Role users, Role attacks, long mul, long add)
            throws IOException {
        List<List<Doc>> cut = documents(corpus);
        List<List<Doc>> byRole = new ArrayList<>();
        for (int r = 0; r < Role.values().length; r++) byRole.add(new ArrayList<>());
        for (List<Doc> l : cut) {
            for (Doc d : l) {
                int h = (int) Math.floorMod(mix(d.index() * mul + add), 10L);
                byRole.get((h < 7 ? users : attacks).ordinal()).add(d);
            }
        }
        for (List<Doc> l : byRole) l.sort(java.util.Comparator.comparingInt(Doc::index));
        return byRole;
    }

    // ---------------------------------------------------------------------------------------------------- benign

    /** Ways people turn a sentence they read into a request; {s} is the sentence, {l} it with a lower-case start. */
    static final String[] ASK = {
        "{s}", "What does this mean? {s}", "Can you explain this to me: \"{s}\"", "I read that {l} Why is that?",
        "Explain in simple terms: {s}", "Is this correct? {s}", "{s} Can you give me an example?",
        "Summarize in one line: {s}", "Rewrite this more clearly: {s}", "Translate into German: {s}",
        "Fix the grammar and style: {s}", "Why would someone write \"{s}\"", "{s} What are the implications?",
        "How do I apply this in practice? {s}", "ELI5: {s}", "Is there a simpler way to say \"{s}\"",
        "My manual says: {s} I don't get it.", "Please paraphrase: {s}", "{s} True or false?",
        "Give me three follow-up questions about this: {s}", "What's the context of this sentence? {s}",
        "hey, quick one: {l}", "In the docs: \"{s}\" - what is meant here?", "Turn this into a quiz question: {s}",
        "{s} How does that compare to other systems?", "Does this still apply today? {s}",
        "Explain the technical terms in: {s}", "Write a short note for my team about this: {s}"};
    static final String[] COT = {" Explain step by step.", " Please show your reasoning.", " Think it through.",
        " Walk me through it.", " Let's think step by step.", " Explain your reasoning in detail."};
    /**
     * More ways of asking, used only by the test split's users (with {@link #ASK}): written in session 8 for the
     * held-out split, in the register of people asking about programming manuals.
     */
    static final String[] ASK_TEST = {
        "{s} Could you put that in plainer words?", "Give me a code example for this: {s}",
        "I'm new to this. {s} What should I know first?", "Make a cheat sheet out of this: {s}", "{s} Any pitfalls?",
        "Rephrase this for a non-technical manager: {s}", "Is this still true in the latest version? {s}",
        "tl;dr? {s}", "What would be a good commit message for a change that does this: {s}",
        "Quiz me on this: {s}", "{s} Why does it work that way?", "How would you say this in French? {s}",
        "Check my understanding: {l}", "{s} Can you elaborate a bit?", "Draft a FAQ entry from this: {s}",
        "Convert this to bullet points: {s}", "so basically {l}", "Is this good practice? {s}"};
    /** Reasoning requests of the test split's users (with {@link #COT}); none of them is in the phrase list. */
    static final String[] COT_TEST = {" Talk me through how you'd figure this out.", " Please break it down piece by "
            + "piece.", " How would you reason about this?", " Go through it carefully, one point at a time.",
        " I'd like to see how you get to the answer."};
    /** Support bots: one fixed instruction per bot with a customer's short message as the slot. */
    static final String[] BOT = {
        "You are the support assistant of Acme Hosting. A customer writes: \"{s}\" Reply politely in at most three "
                + "sentences and suggest the next step.",
        "Classify the following support ticket into billing, technical, account or other, and draft a short reply. "
                + "Ticket: {s}",
        "As the help desk bot for the university library, answer this patron's message briefly: {s}",
        "You answer questions for the customers of a web shop. Customer: {s} Answer:"};

    /**
     * More ways of asking, used only by the holdout split's users (with {@link #ASK}): written in session 9 before
     * the scanner changes, in the register of administrators, build maintainers and data analysts reading manuals.
     */
    static final String[] ASK_HOLDOUT = {
        "{s} What's the catch?", "Help me understand this part of the manual. {s}",
        "Can you restate this without jargon? {s}", "ok so the docs say {l} does that mean I have to change anything?",
        "{s} When would I actually need this?", "Give me a minimal working example that illustrates: {s}",
        "Is this a common source of bugs? {s}", "Explain this like I'm a data analyst, not a programmer: {s}",
        "What's the difference between this and the default behaviour? {s}", "{s} Is that a security concern?",
        "Write a one-paragraph summary of this for our wiki: {s}", "Spanish translation please: {s}",
        "Make this sentence shorter: {s}", "Give me two questions to test whether someone understood this: {s}",
        "sanity check: {l}", "{s} What problem does this solve?", "Turn this into a troubleshooting tip: {s}",
        "I keep seeing this in the docs and I'm confused: \"{s}\""};
    /** Reasoning requests of the holdout split's users (with {@link #COT}). */
    static final String[] COT_HOLDOUT = {" Reason about it before you answer.", " Can you go over your logic?",
        " Show how you worked it out.", " Explain how you got there, bit by bit.",
        " Take me through your thought process."};
    /** The holdout split's support bots: other products, other instructions. */
    static final String[] BOT_HOLDOUT = {
        "System: You are Nimbus Cloud's support agent. Be concise and friendly.\nCustomer message: {s}\nAgent reply:",
        "You are an IT helpdesk assistant for Contoso. Triage the employee's request and answer it if you can; "
                + "otherwise say which team will follow up.\nRequest: {s}",
        "Reply to this forum post from a user of our software and point them to the right section of the "
                + "documentation: {s}"};

    /** A population of {@code n} users over the documents of one role. */
    static List<User> population(String prefix, List<Doc> docs, int n, long seed) {
        return population(prefix, docs, n, seed, ASK, COT, BOT);
    }

    /**
     * A population asking in the phrasings {@code ask} and the reasoning requests {@code cotAsks}, its support bots
     * wrapping customers' messages in the instructions {@code bots}.
     */
    static List<User> population(String prefix, List<Doc> docs, int n, long seed, String[] ask, String[] cotAsks,
                                 String[] bots) {
        return population(prefix, docs, n, seed, ask, cotAsks, bots, false);
    }

    /** As above; with {@code variedReplies} each person's replies vary in length around a median of their own. */
    static List<User> population(String prefix, List<Doc> docs, int n, long seed, String[] ask, String[] cotAsks,
                                 String[] bots, boolean variedReplies) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<User> users = new ArrayList<>();
        int nat = 0, natLeft = 0;
        int botNo = 0;
        for (int u = 0; u < n; u++) {
            double p = rnd.nextDouble();
            Kind kind = p < 0.62 ? Kind.CASUAL : p < 0.74 ? Kind.POWER : p < 0.88 ? Kind.BURSTY : p < 0.97
                    ? Kind.DEVELOPER : Kind.BOT;
            String net;
            int host = 2 + rnd.nextInt(250);
            if (natLeft > 0 || rnd.nextDouble() < 0.04) { // a NAT group: an office of 5 to 25 users on one /24
                if (natLeft == 0) {
                    nat++;
                    natLeft = 5 + rnd.nextInt(21);
                }
                natLeft--;
                net = (172 + (int) (seed % 3)) + "." + (16 + nat % 16) + "." + (nat * 7 % 250);
            } else {
                net = (20 + rnd.nextInt(180)) + "." + rnd.nextInt(256) + "." + rnd.nextInt(256);
            }
            double cot = rnd.nextDouble() < (kind == Kind.POWER ? 0.35 : 0.12) ? 0.3 + 0.5 * rnd.nextDouble() : 0.02;
            double lp = kind == Kind.DEVELOPER ? 0.7 : rnd.nextDouble() < 0.1 ? 0.2 : 0.01;
            double t0 = kind == Kind.DEVELOPER ? 0.9 : kind == Kind.BOT ? 1.0 : rnd.nextDouble() < 0.15 ? 0.5 : 0.05;
            int size = switch (kind) {
                case CASUAL -> 5;
                case POWER -> 40;
                case BURSTY -> 20;
                case DEVELOPER -> 20;
                default -> 40; // support bots (the automated clients are made by automatedClients)
            };
            // interests: one to three documents; habits: a few favourite phrasings
            List<Doc> mine = new ArrayList<>();
            int k = kind == Kind.BOT ? 12 : 1 + rnd.nextInt(3);
            for (int i = 0; i < k; i++) mine.add(docs.get(rnd.nextInt(docs.size())));
            int[] habits = {rnd.nextInt(ask.length), rnd.nextInt(ask.length), rnd.nextInt(ask.length)};
            String bot = bots[botNo % bots.length];
            if (kind == Kind.BOT) botNo++;
            List<String> hist = new ArrayList<>();
            while (hist.size() < size) {
                Doc d = mine.get(rnd.nextInt(mine.size()));
                String s = d.sentences().get(rnd.nextInt(d.sentences().size()));
                String q;
                if (kind == Kind.BOT) {
                    // customers write short messages: the first clause of a sentence
                    String[] w = s.split("\\s+");
                    q = fill(bot, String.join(" ", java.util.Arrays.copyOf(w, Math.min(w.length, 6 + rnd.nextInt(6)))));
                } else {
                    String a = ask[rnd.nextDouble() < 0.6 ? habits[rnd.nextInt(3)] : rnd.nextInt(ask.length)];
                    q = fill(a, s);
                    if (rnd.nextDouble() < cot) q += cotAsks[rnd.nextInt(cotAsks.length)];
                }
                hist.add(q);
            }
            int reply = variedReplies ? 60 + rnd.nextInt(440) : 0;
            users.add(new User(prefix + "-" + kind.name().toLowerCase(Locale.ROOT) + "-" + u, kind, net, host, cot,
                    lp, t0, hist, null, reply));
        }
        return users;
    }

    static String fill(String template, String s) {
        String l = s.length() > 1 && Character.isUpperCase(s.charAt(0)) && !Character.isUpperCase(s.charAt(1))
                ? Character.toLowerCase(s.charAt(0)) + s.substring(1) : s;
        return template.replace("{s}", s).replace("{l}", l);
    }

    /**
     * Benign traffic of about {@code total} queries over {@code spanMillis}: users drawn at random from the
     * population, each contributing a slice of its history at its profile's volume and rhythm.
     */
    static List<Query> benign(List<User> pop, int total, long spanMillis, SplittableRandom rnd) {
        List<Query> out = new ArrayList<>();
        java.util.Set<Integer> used = new java.util.HashSet<>();
        while (out.size() < total && used.size() < pop.size()) {
            int ui = rnd.nextInt(pop.size());
            if (!used.add(ui)) continue;
            User u = pop.get(ui);
            Automation auto = u.auto();
            int c = auto != null ? auto.minCount() + rnd.nextInt(auto.maxCount() - auto.minCount() + 1)
                    : switch (u.kind()) {
                case CASUAL -> 1 + rnd.nextInt(5);
                case POWER -> 15 + rnd.nextInt(26);
                case BURSTY -> 6 + rnd.nextInt(15);
                case DEVELOPER -> 5 + rnd.nextInt(16);
                default -> 15 + rnd.nextInt(26);
            };
            c = Math.min(Math.min(c, u.history().size()), total - out.size());
            int off = rnd.nextInt(u.history().size());
            String client = u.network() + "." + u.host();
            if (auto != null) {
                long[] times = automatedTimes(u.kind(), auto, c, spanMillis, rnd);
                for (int i = 0; i < c; i++) {
                    String text = u.history().get((off + i) % u.history().size());
                    boolean lp = rnd.nextDouble() < auto.logprobRate();
                    int n = rnd.nextDouble() < auto.nRate() ? auto.nValue() : 1;
                    // a spread only for the clients that have one, so the earlier splits draw what they drew
                    int reply = auto.replySpread() > 0 ? replyLength(auto.completionTokens(), auto.replySpread(),
                            4 * auto.completionTokens(), rnd) : auto.completionTokens();
                    out.add(new Query(times[i], u.name(), client, text, auto.temperature(), lp,
                            lp ? auto.topLogprobs() : 0, n, false, reply));
                }
                continue;
            }
            long[] times = times(u.kind(), c, spanMillis, rnd);
            for (int i = 0; i < c; i++) {
                String text = u.history().get((off + i) % u.history().size());
                boolean t0 = rnd.nextDouble() < u.temp0Rate();
                double temp = t0 ? 0 : new double[] {1.0, 1.0, 0.7, 0.8, 0.3}[rnd.nextInt(5)];
                boolean lp = rnd.nextDouble() < u.logprobRate();
                int n = rnd.nextDouble() < 0.03 ? 2 + rnd.nextInt(3) : 1;
                int reply = u.replyTokens() == 0 ? 200 : (int) Math.max(5, Math.min(2000,
                        u.replyTokens() * Math.exp(0.6 * gaussian(rnd))));
                out.add(new Query(times[i], u.name(), client, text, temp, lp, lp ? 5 : 0, n, false, reply));
            }
        }
        return out;
    }

    // -------------------------------------------------------------------------------- benign automated clients

    /** Evaluation harnesses' task formats (lm-evaluation-harness style); {p} a passage, {s}/{h} sentences. */
    private static final String[] EVAL_TASKS = {
        // RTE / NLI: premise and hypothesis, the answer scored by its log-likelihood
        "{p}\nQuestion: {h} True or False?\nAnswer:",
        // multiple choice (MMLU style): which option the passage states; the letter's logprob is read
        "The following are multiple choice questions (with answers) about software documentation.\n\n"
                + "Which of the following statements is made in the documentation?\nA. {a}\nB. {b}\nC. {c}\n"
                + "D. {d}\nAnswer:",
        // cloze (LAMBADA style): the passage cut before its last word, the true word's logprob is scored
        "{cloze}",
        // generation task (summarisation, scored by ROUGE afterwards): no logprobs needed
        "Summarize the following passage in one sentence.\n\n{p}\n\nSummary:"};
    /** Classification pipelines' prompts (a label or a short JSON as the reply). */
    private static final String[] CLASSIFY = {
        "Classify the topic of the following text as one of: installation, configuration, usage, troubleshooting, "
                + "other. Reply with the label only.\n\nText: {s}\nLabel:",
        "Does the following sentence describe security-relevant behaviour? Answer yes or no.\n\n{s}",
        "Extract the names of programs, files and options mentioned in the text as a JSON list of strings.\n"
                + "Text: {s}\nJSON:",
        "Rate how difficult this sentence is for a beginner, from 1 (easy) to 5 (hard). Reply with the number only.\n"
                + "{s}"};
    /** Batch jobs over documents in order: translation, summarisation, rewriting for a knowledge base. */
    private static final String[] BATCH_JOB = {
        "Translate the following paragraph of the documentation into French. Keep code, commands and option names "
                + "unchanged.\n\n{s}",
        "Summarize this documentation sentence for the release notes, in at most 15 words:\n{s}",
        "Rewrite the following sentence from our manual in plain English for the knowledge base: {s}",
        "Translate to German. Output only the translation.\n\n{s}"};
    /** RAG clients: retrieved passages around a user's question (LangChain's default QA prompt, a citing one). */
    private static final String[] RAG_PROMPT = {
        "Use the following pieces of context to answer the question at the end. If you don't know the answer, just "
                + "say that you don't know, don't try to make up an answer.\n\n{c}\n\nQuestion: {q}\n"
                + "Helpful Answer:",
        "You are a documentation assistant. Answer using only the sources below and cite them as [1], [2], [3].\n\n"
                + "Sources:\n{c}\n\nQuestion: {q}"};
    /** Questions RAG end users type (the retrieved context holds the sentence they are about). */
    private static final String[] RAG_Q = {"what does it mean that {l}", "how do I use this: {l}",
        "why is {l}", "is it true that {l}", "explain {l}", "where is this configured? {l}"};

    /**
     * The holdout split's benign automated clients, {@code perKind} of each kind, written from what real API traffic
     * holds (not from the scanner): each with its own /24 (a cloud host), volume per window and request settings.
     * Logprob rates differ within a kind, as real deployments differ: evaluation harnesses ask for logprobs on every
     * request of a log-likelihood task and on none of a generation task; some support bots and RAG clients read
     * logprobs as a confidence score on part of their traffic; some classification pipelines read the label's
     * probability on every request, and some sample several completions (n > 1) to vote; a translation job may keep
     * token logprobs for quality estimation.
     */
    static List<User> automatedClients(String prefix, List<Doc> docs, int perKind, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<User> out = new ArrayList<>();
        // logprob rates of the perKind clients of each kind, in order (cycled when perKind is larger)
        double[] evalLp = {1.0, 1.0, 0.0, 1.0, 0.5};
        double[] botLp = {0.0, 0.1, 0.0, 0.25, 0.5};
        double[] clsLp = {1.0, 0.0, 0.0, 1.0, 0.0};
        double[] clsN = {0.0, 0.2, 0.0, 0.1, 0.3};
        double[] batchLp = {0.0, 0.0, 1.0, 0.0, 0.2};
        double[] ragLp = {0.0, 0.0, 0.2, 0.0, 0.6};
        int no = 0;
        for (Kind kind : new Kind[] {Kind.EVAL_HARNESS, Kind.BOT, Kind.CLASSIFIER, Kind.BATCH, Kind.RAG}) {
            for (int k = 0; k < perKind; k++, no++) {
                String net = (100 + rnd.nextInt(120)) + "." + rnd.nextInt(256) + "." + rnd.nextInt(256);
                int host = 2 + rnd.nextInt(250);
                List<String> hist = new ArrayList<>();
                Automation auto;
                switch (kind) {
                    case EVAL_HARNESS -> {
                        // a fixed data set of 60-120 items from 8-20 documents, in the data set's order, run twice
                        // (two checkpoints); the task decides whether logprobs are read
                        double lp = evalLp[k % evalLp.length];
                        int task = lp == 0 ? 3 : lp < 1 ? -1 : k % 3;
                        List<String> set = new ArrayList<>();
                        int items = 60 + rnd.nextInt(61);
                        List<Doc> mine = pick(docs, 8 + rnd.nextInt(13), rnd);
                        boolean grouped = rnd.nextBoolean(); // SQuAD-like sets keep a document's items together
                        for (int i = 0; i < items; i++) {
                            Doc d = grouped ? mine.get(i * mine.size() / items) : mine.get(rnd.nextInt(mine.size()));
                            int t = task >= 0 ? task : (i % 2 == 0 ? 0 : 3); // a mixed suite: NLI and summaries
                            set.add(evalItem(EVAL_TASKS[t], d, docs, rnd));
                        }
                        hist.addAll(set);
                        hist.addAll(set);
                        auto = new Automation(lp, 1 + rnd.nextInt(2) * 4, 0, 1, 0.0, lp == 1 ? 1 : 60, 30, 80,
                                300 + rnd.nextInt(1200));
                    }
                    case BOT -> {
                        String tpl = BOT_HOLDOUT[k % BOT_HOLDOUT.length];
                        List<Doc> mine = pick(docs, 12, rnd);
                        for (int i = 0; i < 40; i++) hist.add(fill(tpl, clause(sentence(mine, rnd), rnd)));
                        auto = new Automation(botLp[k % botLp.length], 3, 0, 1, rnd.nextBoolean() ? 0.0 : 0.3, 90,
                                15, 40, 0);
                    }
                    case CLASSIFIER -> {
                        String tpl = CLASSIFY[k % CLASSIFY.length];
                        List<Doc> mine = pick(docs, 30, rnd);
                        for (int i = 0; i < 80; i++) hist.add(fill(tpl, sentence(mine, rnd)));
                        double nr = clsN[k % clsN.length];
                        auto = new Automation(clsLp[k % clsLp.length], 5, nr, nr > 0 ? 3 + 2 * rnd.nextInt(2) : 1,
                                0.0, 4, 15, 45, 10_000 + rnd.nextInt(30_000));
                    }
                    case BATCH -> {
                        // a manual, paragraph after paragraph, through one instruction
                        String tpl = BATCH_JOB[k % BATCH_JOB.length];
                        int d = rnd.nextInt(docs.size());
                        while (hist.size() < 100) {
                            for (String x : docs.get(d++ % docs.size()).sentences()) hist.add(fill(tpl, x));
                        }
                        auto = new Automation(batchLp[k % batchLp.length], 1, 0, 1, rnd.nextBoolean() ? 0.0 : 0.3,
                                120, 20, 50, 2_000 + rnd.nextInt(6_000));
                    }
                    default -> { // RAG
                        String tpl = RAG_PROMPT[k % RAG_PROMPT.length];
                        List<Doc> mine = pick(docs, 40, rnd);
                        for (int i = 0; i < 80; i++) hist.add(ragPrompt(tpl, mine.get(rnd.nextInt(mine.size())), k,
                                rnd));
                        auto = new Automation(ragLp[k % ragLp.length], 5, 0, 1, rnd.nextBoolean() ? 0.0 : 0.2, 150,
                                15, 40, 0);
                    }
                }
                out.add(new User(prefix + "-" + kind.name().toLowerCase(Locale.ROOT).replace('_', '-') + "-auto" + no,
                        kind, net, host, 0, auto.logprobRate(), auto.temperature() <= 0.01 ? 1 : 0, hist, auto));
            }
        }
        return out;
    }

    private static List<Doc> pick(List<Doc> docs, int k, SplittableRandom rnd) {
        List<Doc> mine = new ArrayList<>();
        for (int i = 0; i < k; i++) mine.add(docs.get(rnd.nextInt(docs.size())));
        return mine;
    }

    private static String sentence(List<Doc> docs, SplittableRandom rnd) {
        Doc d = docs.get(rnd.nextInt(docs.size()));
        return d.sentences().get(rnd.nextInt(d.sentences().size()));
    }

    /** A customer's short message: the first 6 to 11 words of a sentence. */
    private static String clause(String s, SplittableRandom rnd) {
        String[] w = s.split("\\s+");
        return String.join(" ", java.util.Arrays.copyOf(w, Math.min(w.length, 6 + rnd.nextInt(6))));
    }

    /** One evaluation item of a task format, its text from {@code d} (distractors from other documents). */
    private static String evalItem(String task, Doc d, List<Doc> docs, SplittableRandom rnd) {
        List<String> ss = d.sentences();
        int i = rnd.nextInt(ss.size());
        String p = ss.get(i) + (i + 1 < ss.size() ? " " + ss.get(i + 1) : "");
        String h = ss.get(rnd.nextInt(ss.size()));
        String[] w = ss.get(i).split("\\s+");
        String cloze = String.join(" ", java.util.Arrays.copyOf(w, w.length - 1));
        String[] opts = {ss.get(i), sentence(docs, rnd), sentence(docs, rnd), sentence(docs, rnd)};
        int right = rnd.nextInt(4);
        String t = opts[0];
        opts[0] = opts[right];
        opts[right] = t;
        return task.replace("{p}", p).replace("{h}", h).replace("{cloze}", cloze).replace("{a}", opts[0])
                .replace("{b}", opts[1]).replace("{c}", opts[2]).replace("{d}", opts[3]);
    }

    /** A RAG prompt: three retrieved sentences of one document (the asked one among them) and the user's question. */
    private static String ragPrompt(String tpl, Doc d, int style, SplittableRandom rnd) {
        List<String> ss = d.sentences();
        int i = rnd.nextInt(ss.size());
        List<String> ctx = new ArrayList<>(List.of(ss.get(i), ss.get(rnd.nextInt(ss.size())),
                ss.get(rnd.nextInt(ss.size()))));
        java.util.Collections.shuffle(ctx, new java.util.Random(rnd.nextLong()));
        StringBuilder c = new StringBuilder();
        for (int j = 0; j < ctx.size(); j++) {
            if (j > 0) c.append(style % 2 == 0 ? "\n\n" : "\n");
            c.append(style % 2 == 0 ? "" : "[" + (j + 1) + "] ").append(ctx.get(j));
        }
        String q = fill(RAG_Q[rnd.nextInt(RAG_Q.length)], ss.get(i)).replaceAll("[.:;!?]+$", "");
        return tpl.replace("{c}", c).replace("{q}", q + "?");
    }

    /**
     * More ways of asking, used only by the blind split's users (with {@link #ASK}): written in session 10 before the
     * scanner changes, in the register of database administrators, mail-server operators and web developers.
     */
    static final String[] ASK_BLIND = {
        "{s} Does that hold on a replica too?", "Our DBA pasted this from the docs: {s} Should I worry?",
        "What would break if we ignored this? {s}", "{s} - in practice, what do people do instead?",
        "Can you turn this into a checklist item? {s}", "Portuguese please: {s}",
        "Explain to an intern: {s}", "is this only for older versions? {l}", "{s} Give me a one-line version.",
        "What config change does this imply? {s}", "Help, I don't follow: \"{s}\"",
        "Write a Slack message warning the team about this: {s}", "{s} Is this the default?",
        "How would I test this? {s}", "Rewrite for a runbook: {s}", "what's the gist: {l}",
        "Two-sentence explanation please. {s}", "Is this a performance thing or a correctness thing? {s}"};
    /** Reasoning requests of the blind split's users (with {@link #COT}). */
    static final String[] COT_BLIND = {" Go through it slowly.", " I want the why, step after step.",
        " Show me the argument, not just the answer.", " Think out loud for me.",
        " Derive it rather than just stating it."};
    /** The blind split's support bots: other products, other instructions. */
    static final String[] BOT_BLIND = {
        "[system] You are the assistant of PgCloud, a managed database service. Keep answers under 80 words.\n"
                + "[user] {s}",
        "{s}\n\n(Reply as MailRelay support. If the question is about billing, ask for the invoice number.)",
        "Hosting helpdesk. Ticket text follows.\n{s}\nSuggested reply:"};

    // ------------------------------------------------------------------ the blind split's automated clients

    /** IDE completions: a comment from the document being written about, then the code to complete (FIM style). */
    private static final String[] CODE_PROMPT = {
        "<fim_prefix>-- {p}\n-- TODO: query for this\nSELECT <fim_suffix>\n<fim_middle>",
        "# {p}\n# implement the check described above\ndef check_config(conf):\n    ",
        "// {p}\n// Write the nginx location block for this.\nlocation "};
    /** Extraction of structured data from the documentation, passage after passage. */
    private static final String[] EXTRACT_PROMPT = {
        "Extract every configuration parameter mentioned in the passage as JSON: [{\"name\": ..., \"default\": ..., "
                + "\"meaning\": ...}]. Return [] if there is none.\n\nPassage:\n{p}",
        "From the text, output a JSON object with fields \"commands\" (list), \"files\" (list), \"warnings\" "
                + "(list of strings). Text: {p}",
        "Read the documentation excerpt and fill this schema.\nSchema: {\"topic\": string, \"entities\": "
                + "[string], \"is_deprecated\": bool}\nExcerpt: {p}\nJSON:"};
    /** Moderation / policy classifiers: one label, its probability read from the logprobs. */
    private static final String[] MODERATION_PROMPT = {
        "You are a content moderator for a developer forum. Classify the post as one of: ok, spam, abuse, "
                + "off-topic. Answer with the label only.\n\nPost: {s}\nLabel:",
        "Is the following message safe to show to all users? Answer Yes or No.\nMessage: {s}\nAnswer:",
        "Policy check. Does this text contain credentials, secrets or personal data? Reply with one of "
                + "NONE / SECRET / PERSONAL.\n{s}"};
    /** Summarisation of long documents section by section (a rolling summary). */
    private static final String[] SUMMARY_PROMPT = {
        "Summarize the following section of a long technical document in three bullet points. Do not add "
                + "information that is not in the text.\n\n{p}",
        "You are writing an executive summary of a manual, one section at a time. Section text:\n{p}\n\n"
                + "Summary of this section (max 60 words):",
        "TL;DR of this part of the docs, for the changelog digest:\n{p}"};
    /** Tool-using agents (ReAct and function-calling styles): the question, the last observation, the next step. */
    private static final String[] AGENT_PROMPT = {
        "You are an operations agent. Tools: search_docs(query), run_sql(statement), finish(answer).\nUse the "
                + "format:\nThought: think step by step about what to do next\nAction: tool(argument)\n"
                + "Observation: the result\n\nQuestion: {q}\n{obs}Thought:",
        "SYSTEM: You can call functions. Available: get_config(key), read_log(lines), restart(service). Reply "
                + "with a JSON function call or a final answer.\nUSER: {q}\n{obs}ASSISTANT:"};
    private static final String[] AGENT_Q = {"why does our setup complain that {l}", "check whether {l}",
        "the on-call says {l} is that our problem?", "find out if {l}"};
    /** A chain-of-thought evaluation (GSM8K style): the question about a passage, "Let's think step by step". */
    private static final String COT_EVAL = "Q: According to the documentation, \"{s}\" What follows from this for a "
            + "system administrator?\nA: Let's think step by step.";
    /** Sentiment / intent labelling of user feedback (earlier kind, new task). */
    private static final String[] INTENT_PROMPT = {
        "Label the intent of this user request: question, bug_report, feature_request, complaint. Label only.\n{s}",
        "Sentiment of the following review of our documentation (positive/neutral/negative):\n{s}\nSentiment:"};

    /**
     * The blind split's benign automated clients (session 10, written before that session's scanner changes, from what
     * real API traffic holds): five kinds no earlier split simulated, four of each — IDE code completion, extraction
     * to JSON over documents in order, moderation classifiers reading a label's probability, summarisers of long
     * documents section by section, tool-using agents — and the earlier kinds with new parameters, two of each:
     * evaluation harnesses that rerun their data set (grouped by document, with logprobs; a chain-of-thought
     * generation benchmark), translation/rewrite batch jobs in document order with logprobs, intent/sentiment
     * classifiers voting with n = 5, RAG clients scoring confidence with logprobs, support bots. Each client's logprob
     * rate is fixed here, per client, before any scan.
     */
    static List<User> blindClients(String prefix, List<Doc> docs, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<User> out = new ArrayList<>();
        double[] codeLp = {1.0, 0.5, 0.0, 1.0};
        double[] extractLp = {0.0, 1.0, 0.5, 0.0};
        double[] modLp = {1.0, 1.0, 0.0, 1.0};
        double[] sumLp = {0.0, 0.0, 0.0, 1.0};
        double[] agentLp = {0.0, 0.0, 0.2, 0.0};
        int no = 0;
        for (Kind kind : new Kind[] {Kind.CODE_ASSIST, Kind.EXTRACTOR, Kind.MODERATOR, Kind.SUMMARIZER, Kind.AGENT,
                Kind.EVAL_HARNESS, Kind.BATCH, Kind.CLASSIFIER, Kind.RAG, Kind.BOT}) {
            boolean fresh = kind.ordinal() >= Kind.CODE_ASSIST.ordinal();
            for (int k = 0; k < (fresh ? 4 : 2); k++, no++) {
                String net = (60 + rnd.nextInt(150)) + "." + rnd.nextInt(256) + "." + rnd.nextInt(256);
                int host = 2 + rnd.nextInt(250);
                List<String> hist = new ArrayList<>();
                Automation auto;
                switch (kind) {
                    case CODE_ASSIST -> {
                        // a developer writing code next to one document: the comment is the passage the cursor is
                        // at, moving forward through it, each position completed a few times as they type
                        String tpl = CODE_PROMPT[k % CODE_PROMPT.length];
                        int d = rnd.nextInt(docs.size());
                        while (hist.size() < 120) {
                            List<String> ss = docs.get(d++ % docs.size()).sentences();
                            for (String x : ss) {
                                int repeats = 1 + rnd.nextInt(3);
                                for (int r = 0; r < repeats; r++) hist.add(fill(tpl.replace("{p}", x), x));
                            }
                        }
                        auto = new Automation(codeLp[k], 1 + rnd.nextInt(5), k == 1 ? 1.0 : 0, 3, 0.2, 24 + rnd.nextInt(40),
                                30, 90, 1_500);
                    }
                    case EXTRACTOR -> {
                        // a document pipeline: passages of two or three sentences, in document order
                        String tpl = EXTRACT_PROMPT[k % EXTRACT_PROMPT.length];
                        int d = rnd.nextInt(docs.size());
                        while (hist.size() < 100) {
                            List<String> ss = docs.get(d++ % docs.size()).sentences();
                            for (int i = 0; i < ss.size(); i += 2) {
                                hist.add(tpl.replace("{p}", String.join(" ", ss.subList(i, Math.min(ss.size(), i + 2
                                        + rnd.nextInt(2))))));
                            }
                        }
                        auto = new Automation(extractLp[k], extractLp[k] > 0 ? 1 : 0, 0, 1, 0.0, 60 + rnd.nextInt(100),
                                20, 60, 3_000 + rnd.nextInt(5_000));
                    }
                    case MODERATOR -> {
                        String tpl = MODERATION_PROMPT[k % MODERATION_PROMPT.length];
                        List<Doc> mine = pick(docs, 40, rnd);
                        for (int i = 0; i < 100; i++) {
                            String s = sentence(mine, rnd);
                            hist.add(fill(tpl, rnd.nextBoolean() ? s : clause(s, rnd)));
                        }
                        auto = new Automation(modLp[k], modLp[k] > 0 ? 10 + 10 * rnd.nextInt(2) : 0, 0, 1, 0.0, 1,
                                30, 80, 0);
                    }
                    case SUMMARIZER -> {
                        // one long document after another, section (five or six sentences) by section, in order
                        String tpl = SUMMARY_PROMPT[k % SUMMARY_PROMPT.length];
                        int d = rnd.nextInt(docs.size());
                        while (hist.size() < 80) {
                            List<String> ss = docs.get(d++ % docs.size()).sentences();
                            for (int i = 0; i < ss.size(); i += 5) {
                                hist.add(tpl.replace("{p}", String.join(" ", ss.subList(i, Math.min(ss.size(), i + 5
                                        + rnd.nextInt(2))))));
                            }
                        }
                        auto = new Automation(sumLp[k], sumLp[k] > 0 ? 1 : 0, 0, 1, rnd.nextBoolean() ? 0.0 : 0.3,
                                120 + rnd.nextInt(150), 15, 45, 5_000 + rnd.nextInt(10_000));
                    }
                    case AGENT -> {
                        // each user question takes two to four steps, the scratchpad growing by one observation
                        String tpl = AGENT_PROMPT[k % AGENT_PROMPT.length];
                        List<Doc> mine = pick(docs, 30, rnd);
                        while (hist.size() < 100) {
                            Doc dd = mine.get(rnd.nextInt(mine.size()));
                            String q = fill(AGENT_Q[rnd.nextInt(AGENT_Q.length)], sentence(List.of(dd), rnd))
                                    .replaceAll("[.:;!?]+$", "") + "?";
                            StringBuilder obs = new StringBuilder();
                            int steps = 2 + rnd.nextInt(3);
                            for (int st = 0; st < steps; st++) {
                                hist.add(tpl.replace("{q}", q).replace("{obs}", obs));
                                obs.append(k % 2 == 0 ? "Thought: I should look this up.\nAction: search_docs(\""
                                        + clause(q, rnd) + "\")\nObservation: " : "FUNCTION RESULT: ")
                                        .append(sentence(List.of(dd), rnd)).append('\n');
                            }
                        }
                        auto = new Automation(agentLp[k], agentLp[k] > 0 ? 5 : 0, 0, 1, 0.0, 40 + rnd.nextInt(120),
                                20, 70, 0);
                    }
                    case EVAL_HARNESS -> {
                        // k = 0: a log-likelihood set grouped by document, rerun for four checkpoints, logprobs on
                        // every request; k = 1: a chain-of-thought generation benchmark, rerun three times, no logprobs
                        List<Doc> mine = pick(docs, 10 + rnd.nextInt(10), rnd);
                        List<String> set = new ArrayList<>();
                        int items = 50 + rnd.nextInt(50);
                        for (int i = 0; i < items; i++) {
                            Doc d = mine.get(i * mine.size() / items);
                            set.add(k == 0 ? evalItem(EVAL_TASKS[i % 2 == 0 ? 0 : 2], d, docs, rnd)
                                    : fill(COT_EVAL, d.sentences().get(rnd.nextInt(d.sentences().size()))));
                        }
                        for (int r = 0; r < (k == 0 ? 4 : 3); r++) hist.addAll(set);
                        auto = new Automation(k == 0 ? 1.0 : 0.0, k == 0 ? 1 : 0, 0, 1, 0.0, k == 0 ? 1 : 256, 30, 90,
                                400 + rnd.nextInt(800));
                    }
                    case BATCH -> {
                        String tpl = k == 0 ? "Translate this passage from our docs into Spanish, keeping SQL and "
                                + "configuration keywords as they are:\n{s}" : "Simplify the wording of this sentence "
                                + "for non-native readers. Keep the meaning exactly.\n{s}";
                        int d = rnd.nextInt(docs.size());
                        while (hist.size() < 100) {
                            for (String x : docs.get(d++ % docs.size()).sentences()) hist.add(fill(tpl, x));
                        }
                        auto = new Automation(k == 0 ? 1.0 : 0.5, k == 0 ? 1 : 3, 0, 1, 0.0, 40 + rnd.nextInt(40),
                                25, 60, 1_500 + rnd.nextInt(4_000));
                    }
                    case CLASSIFIER -> {
                        String tpl = INTENT_PROMPT[k % INTENT_PROMPT.length];
                        List<Doc> mine = pick(docs, 30, rnd);
                        for (int i = 0; i < 80; i++) hist.add(fill(tpl, sentence(mine, rnd)));
                        auto = new Automation(1.0, 5, 0.5, 5, 0.7, 3, 20, 50, 5_000 + rnd.nextInt(20_000));
                    }
                    case RAG -> {
                        String tpl = RAG_PROMPT[k % RAG_PROMPT.length];
                        List<Doc> mine = pick(docs, 40, rnd);
                        for (int i = 0; i < 80; i++) hist.add(ragPrompt(tpl, mine.get(rnd.nextInt(mine.size())), k + 1,
                                rnd));
                        auto = new Automation(k == 0 ? 1.0 : 0.3, 5, 0, 1, 0.0, 100 + rnd.nextInt(150), 20, 50, 0);
                    }
                    default -> { // BOT
                        String tpl = BOT_BLIND[k % BOT_BLIND.length];
                        List<Doc> mine = pick(docs, 12, rnd);
                        for (int i = 0; i < 50; i++) hist.add(fill(tpl, clause(sentence(mine, rnd), rnd)));
                        auto = new Automation(k == 0 ? 0.3 : 0.0, 3, 0, 1, 0.2, 80, 20, 50, 0);
                    }
                }
                out.add(new User(prefix + "-" + kind.name().toLowerCase(Locale.ROOT).replace('_', '-') + "-auto" + no,
                        kind, net, host, 0, auto.logprobRate(), auto.temperature() <= 0.01 ? 1 : 0, hist, auto));
            }
        }
        return out;
    }

    /** Request times of an automated client's {@code c} requests within the span. */
    static long[] automatedTimes(Kind kind, Automation a, int c, long span, SplittableRandom rnd) {
        long[] t = new long[c];
        switch (kind) {
            case EVAL_HARNESS, CALIBRATION, SELF_CONSISTENCY -> {
                // a run of the data set: 8 requests in flight, each a short scoring call
                long[] slot = new long[8];
                java.util.Arrays.fill(slot, (long) (rnd.nextDouble() * span * 0.8));
                for (int i = 0; i < c; i++) t[i] = nextFree(slot, a.paceMillis() / 2 + rnd.nextLong(a.paceMillis()));
            }
            case CODE_ASSIST, AUTOCOMPLETE -> {
                // typing sessions: bursts of completions a second or two apart, a pause to think between them
                long s = (long) (rnd.nextDouble() * span * 0.7);
                for (int i = 0; i < c; i++) {
                    s += rnd.nextDouble() < 0.1 ? 60_000 + rnd.nextLong(600_000) : 500 + rnd.nextLong(a.paceMillis());
                    t[i] = Math.min(s, span);
                }
            }
            case AGENT, MODERATOR -> { // end users' questions and forum posts arrive as they come
                for (int i = 0; i < c; i++) t[i] = (long) (rnd.nextDouble() * span);
            }
            case RERANKER -> {
                // one end user's search: its 2 to 20 candidates or windows (consecutive in the history) scored at
                // once, within a second; the searches arrive as they come
                int i = 0;
                while (i < c) {
                    long s = (long) (rnd.nextDouble() * span);
                    int burst = Math.min(c - i, 2 + rnd.nextInt(19));
                    for (int j = 0; j < burst; j++, i++) t[i] = Math.min(span, s + rnd.nextInt(900));
                }
            }
            case CHAT_APP, TUTOR, DOC_QA -> {
                // end users' sessions: three to eight turns 20 s to 3 min apart (reading the reply, typing the next
                // message), the sessions starting as they come
                int i = 0;
                while (i < c) {
                    long s = (long) (rnd.nextDouble() * span * 0.9);
                    int turns = Math.min(c - i, 3 + rnd.nextInt(6));
                    for (int j = 0; j < turns; j++, i++) {
                        s += 20_000 + rnd.nextLong(160_000);
                        t[i] = Math.min(s, span);
                    }
                }
            }
            case CLASSIFIER, BATCH, EXTRACTOR, SUMMARIZER, GRADER, SYNTH_DATA -> {
                // a queue consumer or a sequential job: one request after the other at its own pace, now and then
                // a pause (the queue runs empty, the job is restarted)
                long s = (long) (rnd.nextDouble() * span * 0.5);
                for (int i = 0; i < c; i++) {
                    s += (long) (a.paceMillis() * (0.6 + 0.8 * rnd.nextDouble()));
                    if (rnd.nextDouble() < 0.05) s += (long) (rnd.nextDouble() * span * 0.1);
                    t[i] = Math.min(s, span);
                }
            }
            default -> { // support bots and RAG clients answer their users as they come
                for (int i = 0; i < c; i++) t[i] = (long) (rnd.nextDouble() * span);
            }
        }
        java.util.Arrays.sort(t);
        return t;
    }

    /** Request times of one user's {@code c} requests within the span, by profile. */
    static long[] times(Kind kind, int c, long span, SplittableRandom rnd) {
        long[] t = new long[c];
        switch (kind) {
            case BURSTY, DEVELOPER -> {
                // 1 to 3 bursts; inside a burst, a request every 1 to 8 s (developers: an evaluation loop)
                int bursts = 1 + rnd.nextInt(3);
                long[] starts = new long[bursts];
                for (int b = 0; b < bursts; b++) starts[b] = (long) (rnd.nextDouble() * span * 0.95);
                long[] next = starts.clone();
                for (int i = 0; i < c; i++) {
                    int b = i * bursts / c;
                    next[b] += kind == Kind.DEVELOPER ? 800 + rnd.nextInt(1500) : 1000 + rnd.nextInt(7000);
                    t[i] = next[b];
                }
            }
            case POWER -> {
                // a session: a question every 20 s to 3 min from a random start
                long s = (long) (rnd.nextDouble() * span * 0.5);
                for (int i = 0; i < c; i++) {
                    s += 20_000 + (long) (-Math.log(1 - rnd.nextDouble()) * 60_000);
                    t[i] = s;
                }
            }
            default -> { // casual, bots and the rest: independent arrivals (a bot answers customers as they write)
                for (int i = 0; i < c; i++) t[i] = (long) (rnd.nextDouble() * span);
            }
        }
        java.util.Arrays.sort(t);
        return t;
    }

    // ---------------------------------------------------------------------------------------------------- attacks

    enum Attack { HARVEST, HYDRA, LOW_AND_SLOW, PARAPHRASE }

    /** Distillation prompt formats (as prompt sets for harvesting are written); one pair per split. */
    static final String[][] HARVEST = {
        {"Answer the following question thoroughly. Reason step by step and give the final answer at the end.\n\n"
                + "Question: what does the following mean and why? {s}",
         "You are an expert tutor. Explain the following statement in depth, with an example: {s}"},
        {"Provide a detailed, well-structured explanation of the following, thinking step by step: {s}",
         "Instruction: explain this passage to a student, then list the key facts it states.\nInput: {s}\nOutput:"},
        {"You are an AI assistant that helps people find information. Give a detailed, self-contained answer so "
                + "the user does not need to look anywhere else.\n\nUser: What is the significance of this? {s}\n"
                + "Assistant:",
         "### Instruction:\nExplain the text below to a newcomer, mention any caveats, and end with a one-sentence "
                + "summary.\n\n### Input:\n{s}\n\n### Response:\n"},
        {"<|user|>\nI'm studying this manual. What does the following mean, how is it used in practice, and what "
                + "goes wrong if you get it wrong?\n{s}\n<|assistant|>\n",
         "Write the ideal response a senior maintainer would give to a newcomer who pasted this line from the docs. "
                + "Cover background, details and one concrete example.\n---\n{s}\n---"},
        // blind (session 10): a short instruction after the slot, and a multi-turn chat transcript
        {"{s}\n\nExplain.",
         "User: I'm reading the manual.\nAssistant: Sure, paste the part you want to discuss.\nUser: {s}\n"
                + "Assistant:"},
        // fresh (session 13): question generation over the corpus, answered in the same call (a document-grounded
        // instruction set), and the structured task record a synthetic-data pipeline emits and sends as it is
        {"Below is an excerpt from technical documentation. First write the question a user is most likely to have "
                + "about it, then answer that question completely and accurately, as an expert would.\nFormat:\n"
                + "Question: ...\nAnswer: ...\n\nExcerpt: {s}",
         "{\"task\": \"explain\", \"source\": \"software documentation\", \"text\": \"{s}\", \"requirements\": "
                + "[\"say what it means\", \"give a concrete example\", \"name a common mistake\"], \"audience\": "
                + "\"intermediate\", \"format\": \"markdown\"}"}};
    /** Hydra campaigns: a long shared instruction (chain-of-thought elicitation) with the sentence as the slot. */
    static final String[][] HYDRA = {
        {"I need a complete answer for my study notes. First restate the problem in your own words, then reason "
                + "through it carefully step by step, showing all intermediate thinking, and only then give the "
                + "final answer. Topic: {s}"},
        {"Please act as a senior expert. Think through the following carefully and show your full reasoning "
                + "before answering, covering every assumption you make and every step of the argument. "
                + "Subject: {s}"},
        {"Task: write a worked training example. Read the text, think out loud in numbered steps, check every step "
                + "for mistakes, and finish with a one-paragraph answer labelled ANSWER. Text: {s}"},
        {"We are building a reasoning data set. For the excerpt below: list the facts it relies on, derive what "
                + "follows from them in explicit stages, question each stage, and state the conclusion last.\n"
                + "Excerpt >>> {s}"},
        {"{s}\n---\nWhy is that so? Answer like an examiner's model solution: premises, inference, verdict."},
        // fresh (session 13): reasoning traces for supervised fine-tuning — the teacher asked to write out the private
        // reasoning behind a statement given as correct, in the <think> tags reasoning students are trained on
        {"{s}\n\nThe statement above is correct. Write out, step by step, the reasoning someone would go through to "
                + "arrive at it from first principles, as if thinking privately before answering. Put that reasoning "
                + "between <think> and </think>, then give a concise final explanation."}};

    /**
     * A campaign's prompts, fixed once per split (windows take slices of them, as of a user's history): a topic sweep
     * that walks documents in order, one sentence after another, through the campaign's templates (or paraphrased
     * instructions).
     */
    static List<String> attackTexts(Attack kind, Split split, List<Doc> docs, int count, SplittableRandom rnd) {
        List<String> slots = new ArrayList<>();
        int d = rnd.nextInt(docs.size());
        while (slots.size() < count) slots.addAll(docs.get(d++ % docs.size()).sentences());
        String[] tpl = (kind == Attack.HYDRA ? HYDRA : HARVEST)[split.ordinal()];
        if (split == Split.FRESH && kind == Attack.LOW_AND_SLOW) tpl = SLOW_FRESH; // its own prompt set
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(kind == Attack.PARAPHRASE ? paraphrase(slots.get(i), split, rnd) : fill(tpl[i % tpl.length],
                    slots.get(i)));
        }
        return out;
    }

    /**
     * One campaign of {@code split}: the fresh split's campaigns send with settings of their own
     * ({@link #freshAttack}); every other split's as {@link #attack(Attack, List, int, long, SplittableRandom, String)}.
     */
    static List<Query> attack(Attack kind, Split split, List<String> texts, int count, long span,
                              SplittableRandom rnd, String tag) {
        return split == Split.FRESH ? freshAttack(kind, texts, count, span, rnd, tag)
                : attack(kind, texts, count, span, rnd, tag);
    }

    /**
     * A client with requests in flight on every slot: the next request starts when the earliest slot is free and
     * keeps it busy for {@code busy} ms. Returns the start.
     */
    static long nextFree(long[] slot, long busy) {
        int s = 0;
        for (int j = 1; j < slot.length; j++) if (slot[j] < slot[s]) s = j;
        long t = slot[s];
        slot[s] += busy;
        return t;
    }

    /** One campaign's {@code count} requests over the span, at its pace, with prompts from {@code texts}. */
    static List<Query> attack(Attack kind, List<String> texts, int count, long span, SplittableRandom rnd,
                              String tag) {
        List<Query> out = new ArrayList<>();
        int off = rnd.nextInt(texts.size());
        java.util.function.IntFunction<String> text = i -> texts.get((off + i) % texts.size());
        switch (kind) {
            case HARVEST -> {
                // distill harvest --concurrency 16 --top-logprobs 5: 16 requests in flight, each 1 to 4 s
                long[] slot = new long[16];
                long start = (long) (rnd.nextDouble() * span * 0.8);
                java.util.Arrays.fill(slot, start);
                String client = "198.51." + rnd.nextInt(256) + "." + (2 + rnd.nextInt(250));
                for (int i = 0; i < count; i++) {
                    long t = nextFree(slot, 1000 + rnd.nextInt(3000));
                    out.add(new Query(t, "harvest-" + tag, client, text.apply(i), 1.0, true, 5, 1, true));
                }
            }
            case HYDRA -> {
                // 24 accounts round-robin from one script through 3 proxy /24s, spread over the span
                int accounts = 24;
                String[] nets = new String[3];
                for (int k = 0; k < 3; k++) nets[k] = "45." + rnd.nextInt(256) + "." + rnd.nextInt(256);
                long step = Math.max(2_000, span / Math.max(1, count));
                long t = (long) (rnd.nextDouble() * step);
                for (int i = 0; i < count; i++) {
                    int a = i % accounts;
                    t += step / 2 + rnd.nextLong(step);
                    out.add(new Query(Math.min(t, span), "hydra-" + tag + "-" + a, nets[a % 3] + "." + (10 + a),
                            text.apply(i), 0.0, true, 5, 1, true));
                }
            }
            case LOW_AND_SLOW -> {
                // one account under every rate limit: independent arrivals over the whole span (days)
                String client = "203.0." + rnd.nextInt(256) + "." + (2 + rnd.nextInt(250));
                long[] times = new long[count];
                for (int i = 0; i < count; i++) times[i] = (long) (rnd.nextDouble() * span);
                java.util.Arrays.sort(times);
                for (int i = 0; i < count; i++) {
                    out.add(new Query(times[i], "slow-" + tag, client, text.apply(i), new double[] {1.0, 0.7}[i % 2],
                            true, 5, 1, true));
                }
            }
            case PARAPHRASE -> {
                // the instruction reworded per request; half the requests at temperature 0, half with logprobs
                String client = "192.0." + rnd.nextInt(256) + "." + (2 + rnd.nextInt(250));
                long t = (long) (rnd.nextDouble() * span * 0.5);
                for (int i = 0; i < count; i++) {
                    t += 5_000 + rnd.nextInt(40_000);
                    boolean lp = rnd.nextDouble() < 0.5;
                    out.add(new Query(t, "para-" + tag, client, text.apply(i), rnd.nextDouble() < 0.5 ? 0.0 : 0.7,
                            lp, lp ? 5 : 0, 1, true));
                }
            }
        }
        return out;
    }

    private static final String[][] P_OPEN = {
        {"Hi!", "Hello,", "Quick question.", "", "Good morning.", "Hey there,", "Could you help me?", "I'm curious.",
         "", "Thanks in advance!"},
        {"Dear assistant,", "Hi team.", "", "Question for you:", "I have something to ask.", "Hope you're well.",
         "Help needed:", "", "So,", "Okay,"}};
    private static final String[][] P_ASK = {
        {"can you explain", "please clarify", "I'd like to understand", "help me make sense of", "break down",
         "what is meant by", "walk me through", "describe in detail", "tell me more about", "unpack"},
        {"could you elaborate on", "I want a thorough account of", "please interpret", "help me grasp",
         "give me a full explanation of", "explain what is going on in", "make clear", "expand on",
         "shed light on", "go deeper into"}};
    private static final String[][] P_CLOSE = {
        {"Show each step of your reasoning.", "Think carefully before you answer.", "Give the full derivation.",
         "Reason it out, then conclude.", "Be detailed.", "Explain your thinking.", "Lay out the logic first.",
         "Include your intermediate steps.", "", "Justify each step."},
        {"Reason through it first.", "Take it one step at a time.", "Explain why, not just what.",
         "Go through the logic before concluding.", "Be thorough.", "Please be complete.",
         "Show how you get there.", "", "Detail each consideration.", "Lay it out carefully."}};

    /**
     * The test split's paraphrasing campaign (session 8): a distillation prompt set in the style of system-message
     * and task-framing prompts (an assistant persona or a task label, an analytic verb, the passage as context), with
     * reasoning closers of the kind chain-of-thought collections use, none of them in the scanner's phrase list:
     * 10 openers x 10 asks x 4 shapes x 10 closers.
     */
    private static final String[] T_OPEN = {"You are a patient tutor.", "Act as a senior engineer.",
        "Imagine you are teaching a class.", "", "Task for you:", "Assignment:", "[new request]",
        "You are a helpful, precise assistant.", "", "Please respond in English."};
    private static final String[] T_ASK = {"analyse", "teach me", "discuss", "elucidate",
        "provide an in-depth explanation of", "offer a detailed interpretation of", "dissect", "comment on",
        "give a rigorous explanation of", "examine"};
    private static final String[] T_CLOSE = {"Before you answer, think about it out loud.",
        "Spell out the rationale behind your answer.", "Number your steps and conclude with the answer.",
        "Start with your reasoning; put the answer last.", "Justify your answer as you go.",
        "I want to see the thought process, not just the result.",
        "Explain it like a teacher would, one point after another.", "",
        "Think about it like a detective, clue by clue.", "Double-check your logic before the final answer."};

    /**
     * The holdout split's paraphrasing campaign (session 9): terse chat messages in markdown and question form, the
     * passage quoted or pasted, the ask a question rather than an imperative, and reasoning closers phrased as
     * questions or requests to argue: 10 openers x 10 asks x 4 shapes x 10 closers.
     */
    private static final String[] H_OPEN = {"", "##", "Note:", "FYI", "(docs excerpt)", "Reading the manual:",
        "From the reference:", "Heads up -", "", "Snippet:"};
    private static final String[] H_ASK = {"what's the idea behind this", "why does it work like this",
        "what does this actually do", "how should I interpret this", "what's the reasoning here",
        "what is this getting at", "can you decode this", "how does this fit together", "what's the point of this",
        "what exactly is being described"};
    private static final String[] H_CLOSE = {"Mind walking through the logic?", "How would you derive that?",
        "What steps lead there?", "Argue it out before you conclude.",
        "Could you build the explanation up from first principles?", "", "Trace the cause and effect.",
        "Lay out the chain of inferences.", "Work through it out loud.", "Reason from the basics upward."};

    /**
     * The blind split's paraphrasing campaign (session 10): a multi-turn chat in which the passage comes first and a
     * short follow-up asks about it, or a one-line ask after the passage; the asks are short and informal, and the
     * reasoning closers are terse imperatives unlike the earlier grammars': 10 openers x 10 asks x 4 shapes x 10
     * closers.
     */
    private static final String[] B_OPEN = {"", "ok.", "Next one.", "Another.", "", "cont.", "And this:", "Then:",
        "Right.", "So."};
    private static final String[] B_ASK = {"meaning", "explain", "why", "elaborate", "significance",
        "what for", "context please", "expand", "interpretation", "implications"};
    private static final String[] B_CLOSE = {"Stepwise.", "Show the working.", "Justify.", "Derive it.",
        "Premises first.", "", "Go slowly.", "Spell out each inference.", "Reasons, then verdict.",
        "Unpack the logic."};

    static String paraphrase(String s, Split split, SplittableRandom rnd) {
        if (split == Split.FRESH) return evolve(s, rnd);
        if (split == Split.BLIND) {
            String open = B_OPEN[rnd.nextInt(10)];
            String ask = B_ASK[rnd.nextInt(10)];
            String close = B_CLOSE[rnd.nextInt(10)];
            String c = close.isEmpty() ? "" : " " + close;
            return switch (rnd.nextInt(4)) {
                case 0 -> "user: " + s + "\nassistant: Got it.\nuser: " + (open.isEmpty() ? "" : open + " ") + ask
                        + "?" + c;
                case 1 -> s + "\n\n" + (open.isEmpty() ? "" : open + " ") + ask + "?" + c;
                case 2 -> "[1] " + s + "\n[2] " + ask + c;
                default -> (open.isEmpty() ? "" : open + "\n") + s + " // " + ask + c;
            };
        }
        if (split == Split.HOLDOUT) {
            String open = H_OPEN[rnd.nextInt(10)];
            String ask = H_ASK[rnd.nextInt(10)];
            String close = H_CLOSE[rnd.nextInt(10)];
            String Ask = Character.toUpperCase(ask.charAt(0)) + ask.substring(1);
            String body = switch (rnd.nextInt(4)) {
                case 0 -> (open.isEmpty() ? "" : open + " ") + s + "\n\nQ: " + ask + "?";
                case 1 -> "**" + Ask + "?**\n> " + s;
                case 2 -> "> " + s + "\n" + (open.isEmpty() ? "" : open + " ") + ask + "?";
                default -> s + " <- " + ask + "?";
            };
            return body + (close.isEmpty() ? "" : " " + close);
        }
        if (split == Split.TEST) {
            String open = T_OPEN[rnd.nextInt(10)];
            String ask = T_ASK[rnd.nextInt(10)];
            String close = T_CLOSE[rnd.nextInt(10)];
            String body = switch (rnd.nextInt(4)) {
                case 0 -> (open.isEmpty() ? "" : open + " ") + Character.toUpperCase(ask.charAt(0)) + ask.substring(1)
                        + " the following: " + s;
                case 1 -> "Context: " + s + "\nTask: " + (open.isEmpty() ? "" : open + " ") + ask
                        + " the context above.";
                case 2 -> s + "\n\n" + (open.isEmpty() ? "" : open + " ") + "Now " + ask + " that statement.";
                default -> (open.isEmpty() ? "" : open + " ") + "Here is a line from the docs: " + s + " Please "
                        + ask + " it.";
            };
            return body + (close.isEmpty() ? "" : (body.endsWith(".") ? " " : "\n") + close);
        }
        int v = split == Split.DEV ? 0 : 1;
        String open = P_OPEN[v][rnd.nextInt(10)];
        String ask = P_ASK[v][rnd.nextInt(10)];
        String close = P_CLOSE[v][rnd.nextInt(10)];
        String body = switch (rnd.nextInt(3)) {
            case 0 -> ask + " this: \"" + s + "\"";
            case 1 -> "\"" + s + "\" - " + ask + " that?";
            default -> ask + " the following passage. " + s;
        };
        return (open.isEmpty() ? "" : open + " ") + Character.toUpperCase(body.charAt(0)) + body.substring(1)
                + (close.isEmpty() ? "" : " " + close);
    }

    // ------------------------------------------------------------------------------------------ the fresh split

    /**
     * More ways of asking, used only by the fresh split's users (with {@link #ASK}): written in session 13 by a helper
     * that had not read the scanner, in the register of web developers, DNS administrators, Vim users and people
     * looking after Linux machines.
     */
    static final String[] ASK_FRESH = {
        "{s} Wait, so what happens if I don't?", "I'm migrating an old project and hit this: {s} What do I change?",
        "Reading this on my phone, summarise please: {s}", "{s} Can you show me a before and after?",
        "Is this why things broke after the upgrade? {s}", "explain like I'm a backend dev who never touched this: {s}",
        "Put this in a small table, pros and cons: {s}", "{s} Which option would you pick for a small site?",
        "Dutch translation please: {s}", "Someone quoted this in code review: \"{s}\" Is it relevant for us?",
        "{s} Any gotchas on Debian?", "What would the config look like for this? {s}",
        "Shorter version please: {s}", "my understanding is that {l} right?",
        "{s} How do I check whether this applies to my machine?", "Write a code comment that explains this: {s}",
        "Is this documented behaviour or an implementation detail? {s}",
        "Give me a trick to remember this: {s}"};
    /** Reasoning requests of the fresh split's users (with {@link #COT}). */
    static final String[] COT_FRESH = {" Reason it through with me.", " Could you go step by step? I want to follow.",
        " Don't skip steps, please.", " How would you work this out yourself?",
        " Reasoning first, then the answer please."};
    /** The fresh split's support bots: other products, other instructions. */
    static final String[] BOT_FRESH = {
        "You are Zonekeeper, the support assistant of a managed DNS provider. Answer in plain language and never ask "
                + "for passwords.\n{s}",
        "Customer chat (an online shop). Respond helpfully in under 100 words.\nMessage: {s}",
        "{s}\n\n-- Draft an auto-reply for the IT service desk. Keep it short and include the placeholder [TICKET]."};

    private static final java.util.Set<String> STOP = java.util.Set.of("this", "that", "with", "from", "when",
            "which", "there", "their", "will", "have", "been", "were", "they", "then", "than", "also", "into", "only",
            "such", "these", "those", "other", "some", "what", "your", "should", "would", "could", "does", "must",
            "more", "most", "each", "used", "using", "about", "after", "before", "where", "while", "because", "here",
            "them", "being", "very", "just", "like", "make", "many", "much", "same", "both", "either", "it's",
            "don't", "can't", "isn't");

    /** What someone types into a search box about a sentence: two to four of its content words, in order. */
    static String keywords(String s, SplittableRandom rnd) {
        List<String> w = new ArrayList<>();
        for (String x : s.toLowerCase(Locale.ROOT).split("[^a-z0-9_'-]+")) {
            if (x.length() >= 4 && !STOP.contains(x)) w.add(x);
        }
        if (w.isEmpty()) return s.toLowerCase(Locale.ROOT).replaceAll("[.:;!?]+$", "");
        int k = Math.min(w.size(), 2 + rnd.nextInt(3));
        int start = rnd.nextInt(w.size() - k + 1);
        return String.join(" ", w.subList(start, start + k));
    }

    /** {@link #fill} and {kw}: the sentence's keywords; {q}: the sentence as a question ("Is it true that ...?"). */
    private static String fillFresh(String template, String s, SplittableRandom rnd) {
        String t = template.contains("{kw}") ? template.replace("{kw}", keywords(s, rnd)) : template;
        if (t.contains("{lq}")) {
            String l = fill("{l}", s).replaceAll("[.:;!?]+$", "");
            t = t.replace("{lq}", l);
        }
        return fill(t, s);
    }

    /** {@code len} consecutive sentences of {@code d} from a random start: a passage, a section, a retrieved chunk. */
    private static String passage(Doc d, int len, SplittableRandom rnd) {
        List<String> ss = d.sentences();
        int from = rnd.nextInt(Math.max(1, ss.size() - len + 1));
        return String.join(" ", ss.subList(from, Math.min(ss.size(), from + len)));
    }

    /** A reply length: log-normal around {@code median} with {@code sigma}, 1 to {@code cap} tokens. */
    static int replyLength(int median, double sigma, int cap, SplittableRandom rnd) {
        return (int) Math.max(1, Math.min(cap, median * Math.exp(sigma * gaussian(rnd))));
    }

    // ------------------------------------------------------------------ the fresh split's automated clients

    /** Multi-turn chat apps: the system message (none for the editor panel) and the conversation so far. */
    private static final String[] CHAT_SYSTEM = {
        "You are DevHelp, the internal assistant of a small engineering team. Answer questions about our stack "
                + "(Django, BIND, Vim, Linux servers) concisely, with commands or code where useful, and say so when "
                + "you are not sure.",
        "You are a helpful assistant. Current date: 2026-11-02. Knowledge cutoff: 2025-06.",
        "You are the chat assistant on the website of a web hosting company. Be friendly and brief. Answer general "
                + "technical questions; for anything about a customer's own account, offer to open a support ticket.",
        ""};
    private static final String[] CHAT_FIRST = {"{s} Can you explain what this means?",
        "I'm reading the docs and got stuck here: {s}", "quick question about {kw}",
        "What's the difference between this and the default? {s}", "{s}", "how do I deal with {kw}?"};
    private static final String[] CHAT_NEXT = {"ok, and what about this: {s}", "Can you give me an example?", "Why?",
        "hmm, the docs also say {l} How does that fit?", "Thanks! One more: {s}", "Could you make that shorter?",
        "that didn't work for me. what else could it be?", "So if I understand correctly, {l}",
        "And is that the default?", "what would you recommend for a small setup?"};
    private static final String[] CHAT_REPLY_OPEN = {"", "Sure. ", "Good question. ", "In short: ",
        "Here's how it works. ", "Right. "};

    /** Tutoring apps: step-by-step guidance around a student's question, or a worked example for exam preparation. */
    private static final String[] TUTOR_PROMPT = {
        "You are a teaching assistant for an introductory Linux and web administration course. Guide the student to "
                + "the answer step by step instead of just stating it, and end with one short question that checks "
                + "their understanding.\nStudent: {q}",
        "You are a Socratic tutor. Never give the final answer directly. Think step by step about what the learner "
                + "is missing, then respond with hints and questions that lead them there.\nLearner: {q}",
        "Explain the following statement as a worked example for exam preparation: break it into steps, explain "
                + "each step, then give one practice question with its answer.\nStatement: {s}"};
    private static final String[] TUTOR_Q = {"I don't understand this sentence from the reading: {s}",
        "Why is this true? {s}", "Can you help me with this part of the assignment? {s}",
        "our lecturer said {lq}, but I don't see why.", "Is this going to be on the exam? {s} Please explain it."};

    /** Graders: a short-answer grader and a faithfulness judge that reason first, a G-Eval-style score. */
    private static final String[] GRADER_PROMPT = {
        "You are grading short answers in a system administration course.\nReference answer: {ref}\nStudent answer: "
                + "{ans}\nThink step by step about whether the student's answer means the same as the reference, then "
                + "finish with exactly one line: \"Grade: correct\", \"Grade: partially correct\" or "
                + "\"Grade: incorrect\".",
        "Given the context and an answer generated from it, decide whether every claim in the answer is supported by "
                + "the context. Reason step by step, then answer with one word on the last line: Faithful or "
                + "Unfaithful.\n\nContext: {ref}\n\nAnswer: {ans}",
        "You will be given a source text and a summary of it.\n\nEvaluation steps:\n1. Read the source text and "
                + "identify its main points.\n2. Read the summary and check that it states them without adding "
                + "anything.\n3. Assign a consistency score from 1 (worst) to 5 (best).\n\nSource text:\n{ref}\n\n"
                + "Summary:\n{ans}\n\nConsistency score (1-5):"};

    /** Rerankers: pointwise yes/no relevance, a graded relevance label, a listwise (RankGPT-style) window. */
    private static final String[] RERANK_PROMPT = {
        "Query: {q}\nDocument: {d}\nIs the document relevant to the query? Answer Yes or No.\nAnswer:",
        "Rate how well the passage answers the search query. 3 = answers it fully, 2 = partly, 1 = related but does "
                + "not answer it, 0 = irrelevant. Output only the number.\n\nSearch query: {q}\nPassage: {d}\n"
                + "Rating:",
        "I will provide you with {n} passages, each indicated by a numerical identifier []. Rank the passages based on "
                + "their relevance to the search query: {q}.\n\n{d}\nSearch Query: {q}.\nRank the {n} passages above "
                + "based on their relevance to the search query. All the passages should be included and listed "
                + "using identifiers, in descending order of relevance. The output format should be [] > [], e.g., "
                + "[2] > [1]. Only respond with the ranking results, do not say any word or explain."};

    /** Document QA: a section of a document and one of several questions asked about it in a row. */
    private static final String[] DOCQA_PROMPT = {
        "Read the document and answer the question. If the answer is not in the document, reply \"Not found in the "
                + "document.\"\n\nDocument:\n{p}\n\nQuestion: {q}",
        "<document>\n{p}\n</document>\n\nUsing only the document above, answer the question below and quote the "
                + "sentence you relied on.\nQuestion: {q}"};
    private static final String[] DOCQA_Q = {"What does the document say about {kw}?", "Is this right: {s}",
        "When does this apply: {kw}?", "Summarize the part about {kw}.", "Who is this section written for?",
        "What should I do first according to this?", "Does it mention {kw}?"};

    /** Synthetic data a company makes from its own documentation: an FAQ, test cases, a retrieval evaluation set. */
    private static final String[] SYNTH_PROMPT = {
        "You are helping our documentation team build an FAQ. From the passage below, write 3 question-and-answer "
                + "pairs a customer might ask. Return JSON: [{\"question\": ..., \"answer\": ...}]. Use only "
                + "information in the passage.\n\nPassage:\n{p}",
        "Based on the following behaviour described in our product documentation, write test cases (title, "
                + "preconditions, steps, expected result) that a QA engineer could run to verify it.\n\n{p}",
        "Generate 5 diverse questions that can be answered from the passage below, from simple lookups to questions "
                + "that need two sentences together. One question per line, no numbering.\n\n{p}"};

    /** Agents: a plan-and-execute planner and a coding agent, each step carrying what was done so far. */
    private static final String[] AGENT_FRESH = {
        "You are the planner of an operations agent. Objective: {q}\n\nSteps completed so far:\n{obs}\nThink step by "
                + "step about what is still missing, then output the remaining plan as a JSON list of steps, or "
                + "{\"final_answer\": \"...\"} if the objective is met.",
        "You are a coding agent working in a Git repository. Before each tool call, think step by step about what you "
                + "know and what you still need. Tools: read_file(path), grep(pattern), run(command), "
                + "apply_patch(diff), submit().\n\nTask: {q}\n\n{obs}"};
    private static final String[] AGENT_FRESH_Q = {"find out whether this affects our servers: {s}",
        "make our setup follow this recommendation: {s}", "check the repository for code that relies on this: {s}",
        "the nightly job failed and the log points here: {s} Fix it."};

    /**
     * The fresh split's 30 benign automated clients (session 13, written by a helper that had not read the scanner,
     * from how customers used LLM APIs in 2026), each on its own /24 with its settings fixed here:
     * <ul>
     *   <li>multi-turn chat apps (4) whose prompt carries the system message and the conversation so far (one
     *       front-end keeps only the last six messages), one reading the sampled tokens' logprobs to hand a shaky
     *       answer to a human;
     *   <li>tutoring apps (3) asking for step-by-step guidance or worked examples;
     *   <li>graders (3): a short-answer grader and a faithfulness judge that reason before their verdict, and a
     *       G-Eval-style scorer that reads the probabilities of the score tokens (top_logprobs 20);
     *   <li>rerankers (3): pointwise yes/no and graded relevance read from logprobs, and a listwise ranker without
     *       them, each end user's search a burst of candidates;
     *   <li>autocompletion (2): next words in a documentation editor (logprobs, to show only confident
     *       suggestions) and search-box completions sampled three at a time (n = 3);
     *   <li>calibration studies (2): multiple-choice answers' token probabilities (top_logprobs 20) rerun with the
     *       options reordered, and semantic-entropy estimation (n = 10 at temperature 1, with logprobs);
     *   <li>synthetic-data pipelines over a company's own documents (3), in document order: an FAQ, QA test cases,
     *       a retrieval evaluation set (n = 2 on half the requests);
     *   <li>document QA (2): several questions in a row on one section of a document;
     *   <li>evaluation harnesses (2): a multiple-choice set run under three prompt templates (logprobs), an
     *       MT-Bench-style pairwise judge rerun with the answers swapped;
     *   <li>self-consistency samplers (2): a fact-checker voting over n = 5 reasoned verdicts, a pass@k code
     *       sampler (n = 10);
     *   <li>agents (2): a plan-and-execute planner and a coding agent, their transcripts growing step by step;
     *   <li>batch jobs at temperature 0 (2): a Japanese translation and search snippets, in document order.
     * </ul>
     */
    static List<User> freshClients(String prefix, List<Doc> docs, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<User> out = new ArrayList<>();
        Kind[] kinds = {Kind.CHAT_APP, Kind.TUTOR, Kind.GRADER, Kind.RERANKER, Kind.AUTOCOMPLETE, Kind.CALIBRATION,
            Kind.SYNTH_DATA, Kind.DOC_QA, Kind.EVAL_HARNESS, Kind.SELF_CONSISTENCY, Kind.AGENT, Kind.BATCH};
        int[] perKind = {4, 3, 3, 3, 2, 2, 3, 2, 2, 2, 2, 2};
        int no = 0;
        for (int g = 0; g < kinds.length; g++) {
            for (int k = 0; k < perKind[g]; k++, no++) {
                String net = (20 + rnd.nextInt(200)) + "." + rnd.nextInt(256) + "." + rnd.nextInt(256);
                int host = 2 + rnd.nextInt(250);
                List<String> hist = new ArrayList<>();
                Automation auto = switch (kinds[g]) {
                    case CHAT_APP -> chatApp(k, docs, hist, rnd);
                    case TUTOR -> tutor(k, docs, hist, rnd);
                    case GRADER -> grader(k, docs, hist, rnd);
                    case RERANKER -> reranker(k, docs, hist, rnd);
                    case AUTOCOMPLETE -> autocomplete(k, docs, hist, rnd);
                    case CALIBRATION -> calibration(k, docs, hist, rnd);
                    case SYNTH_DATA -> synthData(k, docs, hist, rnd);
                    case DOC_QA -> docQa(k, docs, hist, rnd);
                    case EVAL_HARNESS -> freshEval(k, docs, hist, rnd);
                    case SELF_CONSISTENCY -> selfConsistency(k, docs, hist, rnd);
                    case AGENT -> freshAgent(k, docs, hist, rnd);
                    default -> freshBatch(k, docs, hist, rnd);
                };
                out.add(new User(prefix + "-" + kinds[g].name().toLowerCase(Locale.ROOT).replace('_', '-') + "-auto"
                        + no, kinds[g], net, host, 0, auto.logprobRate(), auto.temperature() <= 0.01 ? 1 : 0, hist,
                        auto));
            }
        }
        return out;
    }

    private static Automation chatApp(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        // conversations of two to eight user turns about one document; the assistant's earlier turns are sentences of
        // that document (standing in for the replies the app got); the prompt is the messages' contents in order
        String sys = CHAT_SYSTEM[k];
        List<Doc> mine = pick(docs, 25, rnd);
        while (hist.size() < 150) {
            Doc d = mine.get(rnd.nextInt(mine.size()));
            List<String> msgs = new ArrayList<>();
            if (!sys.isEmpty()) msgs.add(sys);
            int turns = 2 + rnd.nextInt(7);
            for (int t = 0; t < turns; t++) {
                String s = d.sentences().get(rnd.nextInt(d.sentences().size()));
                String user = fillFresh(t == 0 ? CHAT_FIRST[rnd.nextInt(CHAT_FIRST.length)]
                        : CHAT_NEXT[rnd.nextInt(CHAT_NEXT.length)], s, rnd);
                // the editor panel (k = 3) sends the open file's excerpt with the first message
                if (k == 3 && t == 0) user = "Context from the open file:\n" + passage(d, 3, rnd) + "\n\n" + user;
                msgs.add(user);
                List<String> sent = msgs;
                if (k == 1 && msgs.size() > 7) { // this front-end keeps the system message and the last six messages
                    sent = new ArrayList<>(List.of(msgs.get(0)));
                    sent.addAll(msgs.subList(msgs.size() - 6, msgs.size()));
                }
                hist.add(String.join("\n", sent));
                msgs.add(CHAT_REPLY_OPEN[rnd.nextInt(CHAT_REPLY_OPEN.length)] + passage(d, 2 + rnd.nextInt(2), rnd));
            }
        }
        double[] temp = {0.7, 1.0, 0.5, 0.2};
        int[] reply = {220, 350, 120, 300};
        // k = 2 asks for the sampled tokens' logprobs (no alternatives) and hands low-confidence answers to a human
        return new Automation(k == 2 ? 1.0 : 0.0, 0, 0, 1, temp[k], reply[k], 15, 50, 0, 0.6);
    }

    private static Automation tutor(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        List<Doc> reading = pick(docs, 12, rnd); // the course's reading list
        while (hist.size() < 120) {
            String s = sentence(reading, rnd);
            String q = fillFresh(TUTOR_Q[rnd.nextInt(TUTOR_Q.length)], s, rnd);
            hist.add(TUTOR_PROMPT[k].replace("{q}", q).replace("{s}", s));
        }
        double[] temp = {0.7, 0.8, 0.3};
        int[] reply = {380, 220, 450};
        return new Automation(0, 0, 0, 1, temp[k], reply[k], 15, 45, 0, 0.5);
    }

    private static Automation grader(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        // a class's or a pipeline's submissions: half close to the reference, half not
        List<Doc> mine = pick(docs, 20, rnd);
        while (hist.size() < 120) {
            Doc d = mine.get(rnd.nextInt(mine.size()));
            String ref = k == 0 ? d.sentences().get(rnd.nextInt(d.sentences().size())) : passage(d, k == 1 ? 3 : 4,
                    rnd);
            String ans = rnd.nextBoolean() ? clause(ref, rnd) + (k == 0 ? "" : ".")
                    : k == 0 ? sentence(docs, rnd) : passage(d, 1 + rnd.nextInt(2), rnd);
            hist.add(GRADER_PROMPT[k].replace("{ref}", ref).replace("{ans}", ans));
        }
        return switch (k) {
            case 0 -> new Automation(0, 0, 0, 1, 0.0, 160, 20, 60, 5_000, 0.4);
            // the verdict's probability is the faithfulness score
            case 1 -> new Automation(1.0, 5, 0, 1, 0.0, 140, 20, 60, 3_000, 0.4);
            // G-Eval: the score weighted by the probabilities of "1" to "5", read from 20 alternatives
            default -> new Automation(1.0, 20, 0, 1, 0.0, 2, 25, 70, 1_500, 0);
        };
    }

    private static Automation reranker(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        // each end user's search: the query, then its 10 to 20 retrieved candidates (a few from the document the
        // query is about, the rest from elsewhere) scored one by one, or in windows of five for the listwise ranker
        List<Doc> mine = pick(docs, 60, rnd);
        while (hist.size() < 200) {
            Doc d = mine.get(rnd.nextInt(mine.size()));
            String s = d.sentences().get(rnd.nextInt(d.sentences().size()));
            String q = rnd.nextInt(4) == 0 ? "how to " + keywords(s, rnd) : keywords(s, rnd);
            List<String> cands = new ArrayList<>(List.of(s));
            int n = 10 + rnd.nextInt(11);
            for (int i = 1; i < n; i++) cands.add(i < 4 ? d.sentences().get(rnd.nextInt(d.sentences().size()))
                    : sentence(mine, rnd));
            java.util.Collections.shuffle(cands, new java.util.Random(rnd.nextLong()));
            if (k < 2) {
                for (String c : cands) hist.add(RERANK_PROMPT[k].replace("{q}", q).replace("{d}", c));
            } else {
                // sliding windows of five from the end of the list, step three
                for (int end = cands.size(); end > 0; end -= 3) {
                    List<String> w = cands.subList(Math.max(0, end - 5), end);
                    StringBuilder list = new StringBuilder();
                    for (int i = 0; i < w.size(); i++) list.append('[').append(i + 1).append("] ").append(w.get(i))
                            .append('\n');
                    hist.add(RERANK_PROMPT[2].replace("{n}", Integer.toString(w.size())).replace("{q}", q)
                            .replace("{d}", list));
                    if (end <= 5) break;
                }
            }
        }
        return switch (k) {
            case 0 -> new Automation(1.0, 5, 0, 1, 0.0, 1, 30, 90, 0, 0);   // P(Yes) is the score
            case 1 -> new Automation(1.0, 10, 0, 1, 0.0, 1, 30, 90, 0, 0);  // expected grade over "0".."3"
            default -> new Automation(0, 0, 0, 1, 0.0, 24, 15, 45, 0, 0.2);
        };
    }

    private static Automation autocomplete(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        int d = rnd.nextInt(docs.size());
        if (k == 0) {
            // a writer in a documentation editor: after each pause, the previous sentence and what is typed so far
            String prev = "";
            while (hist.size() < 150) {
                for (String s : docs.get(d++ % docs.size()).sentences()) {
                    String[] w = s.split("\\s+");
                    for (int j = 3; j < w.length; j += 2 + rnd.nextInt(3)) {
                        String typed = String.join(" ", java.util.Arrays.copyOf(w, j));
                        hist.add("Continue the text. Reply with the continuation only, at most 12 words.\n\n"
                                + (prev.isEmpty() ? "" : prev + " ") + typed);
                    }
                    prev = s;
                }
            }
            // logprobs to show a suggestion only when the model is confident
            return new Automation(1.0, 5, 0, 1, 0.0, 10, 30, 90, 1_500, 0.3);
        }
        // a documentation site's search box: the query as it is typed, three sampled completions each time
        List<Doc> mine = pick(docs, 40, rnd);
        while (hist.size() < 150) {
            String q = keywords(sentence(mine, rnd), rnd);
            for (int j = 3 + rnd.nextInt(3); j < q.length(); j += 3 + rnd.nextInt(5)) {
                hist.add("Complete the search query typed into a documentation site's search box. Reply with the "
                        + "completed query only.\nTyped so far: \"" + q.substring(0, j) + "\"");
            }
        }
        return new Automation(0, 0, 1.0, 3, 0.8, 6, 20, 70, 800, 0.3);
    }

    private static Automation calibration(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        List<Doc> mine = pick(docs, 15 + rnd.nextInt(10), rnd);
        if (k == 0) {
            // multiple-choice items over passages; the answer letter's probability against the accuracy, the whole
            // set rerun with the options rotated (a position-bias check)
            int items = 80 + rnd.nextInt(60);
            List<String[]> set = new ArrayList<>();
            for (int i = 0; i < items; i++) {
                Doc d = mine.get(rnd.nextInt(mine.size()));
                String p = passage(d, 3, rnd);
                String[] it = {p, sentence(docs, rnd), sentence(docs, rnd), sentence(docs, rnd), sentence(docs, rnd)};
                it[1 + rnd.nextInt(4)] = p.split("(?<=[.!?])\\s+")[0]; // the true option, at a random letter
                set.add(it);
            }
            for (int run = 0; run < 2; run++) {
                for (int i = 0; i < set.size(); i++) {
                    String[] it = set.get(i);
                    StringBuilder opts = new StringBuilder();
                    for (int o = 0; o < 4; o++) { // the rerun rotates the options by one to three places
                        opts.append((char) ('A' + o)).append(") ").append(it[1 + (o + run * (1 + i % 3)) % 4])
                                .append('\n');
                    }
                    hist.add("Answer the following multiple-choice question with the letter of the correct option "
                            + "only.\n\nPassage: " + it[0] + "\n\nQuestion: According to the passage, which of these "
                            + "statements is true?\n" + opts + "\nAnswer:");
                }
            }
            return new Automation(1.0, 20, 0, 1, 0.0, 1, 30, 90, 600, 0);
        }
        // semantic entropy: ten sampled answers per question at temperature 1, with their sequence log-likelihoods
        String[] qs = {"What does the documentation say about {kw}?", "Is the following statement correct? {s}",
            "What is the purpose of {kw}?", "What happens when {kw} is changed?"};
        while (hist.size() < 120) {
            String s = sentence(mine, rnd);
            hist.add("Answer the following question in a single brief but complete sentence.\nQuestion: "
                    + fillFresh(qs[rnd.nextInt(qs.length)], s, rnd) + "\nAnswer:");
        }
        return new Automation(1.0, 0, 1.0, 10, 1.0, 30, 20, 60, 1_500, 0.3);
    }

    private static Automation synthData(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        // over the company's own manual, passage after passage, in document order
        int d = rnd.nextInt(docs.size());
        int len = new int[] {4, 2, 3}[k];
        while (hist.size() < 100) {
            List<String> ss = docs.get(d++ % docs.size()).sentences();
            for (int i = 0; i < ss.size(); i += len) {
                hist.add(SYNTH_PROMPT[k].replace("{p}", String.join(" ", ss.subList(i, Math.min(ss.size(), i + len)))));
            }
        }
        return switch (k) {
            case 0 -> new Automation(0, 0, 0, 1, 0.7, 280, 20, 60, 6_000, 0.3);
            case 1 -> new Automation(0, 0, 0, 1, 0.2, 450, 15, 45, 10_000, 0.4);
            default -> new Automation(0, 0, 0.5, 2, 1.0, 90, 20, 60, 4_000, 0.3); // two samples for more variety
        };
    }

    private static Automation docQa(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        // an end user uploads a section (six to ten sentences) and asks three to six questions about it
        List<Doc> mine = pick(docs, 30, rnd);
        while (hist.size() < 120) {
            Doc d = mine.get(rnd.nextInt(mine.size()));
            String p = passage(d, 6 + rnd.nextInt(5), rnd);
            int qs = 3 + rnd.nextInt(4);
            for (int i = 0; i < qs; i++) {
                String q = fillFresh(DOCQA_Q[rnd.nextInt(DOCQA_Q.length)], d.sentences().get(rnd.nextInt(
                        d.sentences().size())), rnd);
                hist.add(DOCQA_PROMPT[k].replace("{p}", p).replace("{q}", q));
            }
        }
        return k == 0 ? new Automation(0, 0, 0, 1, 0.0, 120, 15, 45, 0, 0.6)
                : new Automation(0.3, 3, 0, 1, 0.0, 150, 15, 45, 0, 0.5);
    }

    private static Automation freshEval(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        List<Doc> mine = pick(docs, 10 + rnd.nextInt(10), rnd);
        int items = 60 + rnd.nextInt(40);
        if (k == 0) {
            // a prompt-sensitivity study: the same four-option items under three templates, one full pass each
            List<String[]> set = new ArrayList<>();
            for (int i = 0; i < items; i++) {
                String[] o = {sentence(mine, rnd), sentence(docs, rnd), sentence(docs, rnd), sentence(docs, rnd)};
                int right = rnd.nextInt(4);
                String t = o[0];
                o[0] = o[right];
                o[right] = t;
                set.add(o);
            }
            for (int tpl = 0; tpl < 3; tpl++) {
                for (String[] o : set) {
                    hist.add(switch (tpl) {
                        case 0 -> "Question: Which of the following statements appears in the documentation?\nA. "
                                + o[0] + "\nB. " + o[1] + "\nC. " + o[2] + "\nD. " + o[3] + "\nAnswer:";
                        case 1 -> "Which option is quoted from the manual? Respond with A, B, C or D.\n(A) " + o[0]
                                + "\n(B) " + o[1] + "\n(C) " + o[2] + "\n(D) " + o[3];
                        default -> "1. " + o[0] + "\n2. " + o[1] + "\n3. " + o[2] + "\n4. " + o[3] + "\nOnly one "
                                + "of the sentences above comes from the documentation. It is number";
                    });
                }
            }
            return new Automation(1.0, 5, 0, 1, 0.0, 1, 30, 90, 500, 0);
        }
        // an MT-Bench-style pairwise judge over two systems' answers, rerun with the answers swapped
        List<String[]> set = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            Doc d = mine.get(rnd.nextInt(mine.size()));
            String s = d.sentences().get(rnd.nextInt(d.sentences().size()));
            set.add(new String[] {"Explain " + keywords(s, rnd) + ".", passage(d, 2, rnd), clause(sentence(docs, rnd),
                    rnd) + "."});
        }
        for (int run = 0; run < 2; run++) {
            for (String[] it : set) {
                hist.add("Please act as an impartial judge and evaluate the quality of the responses provided by two "
                        + "AI assistants to the user question displayed below. Begin your evaluation by comparing the "
                        + "two responses and provide a short explanation. After providing your explanation, output "
                        + "your final verdict by strictly following this format: \"[[A]]\" if assistant A is better, "
                        + "\"[[B]]\" if assistant B is better, and \"[[C]]\" for a tie.\n\n[User Question]\n" + it[0]
                        + "\n\n[The Start of Assistant A's Answer]\n" + it[1 + run] + "\n[The End of Assistant A's "
                        + "Answer]\n\n[The Start of Assistant B's Answer]\n" + it[2 - run] + "\n[The End of Assistant "
                        + "B's Answer]");
            }
        }
        return new Automation(0, 0, 0, 1, 0.0, 250, 20, 60, 2_500, 0.4);
    }

    private static Automation selfConsistency(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        List<Doc> mine = pick(docs, 20, rnd);
        if (k == 0) {
            // a fact-checker: five reasoned verdicts per claim, the majority wins
            while (hist.size() < 100) {
                Doc d = mine.get(rnd.nextInt(mine.size()));
                String claim = rnd.nextBoolean() ? d.sentences().get(rnd.nextInt(d.sentences().size()))
                        : sentence(docs, rnd);
                hist.add("Claim: " + claim + "\nEvidence: " + passage(d, 3, rnd) + "\nDoes the evidence support the "
                        + "claim? Think step by step, then finish with \"Verdict: SUPPORTED\", \"Verdict: REFUTED\" "
                        + "or \"Verdict: NOT ENOUGH INFO\".");
            }
            return new Automation(0, 0, 1.0, 5, 0.7, 180, 20, 50, 2_000, 0.4);
        }
        // pass@k: ten sampled programs per task, the task set run for two model versions
        List<String> set = new ArrayList<>();
        for (int i = 0, n = 50 + rnd.nextInt(30); i < n; i++) {
            set.add("Write a small Python function that checks or implements the behaviour described in this "
                    + "documentation sentence. Return only code, no explanation.\n\n# " + sentence(mine, rnd));
        }
        hist.addAll(set);
        hist.addAll(set);
        return new Automation(0, 0, 1.0, 10, 0.8, 150, 15, 40, 3_000, 0.4);
    }

    private static Automation freshAgent(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        // each task takes three to seven steps; every step's prompt carries what was done so far
        List<Doc> mine = pick(docs, 30, rnd);
        while (hist.size() < 120) {
            Doc d = mine.get(rnd.nextInt(mine.size()));
            String q = fillFresh(AGENT_FRESH_Q[rnd.nextInt(AGENT_FRESH_Q.length)], d.sentences().get(rnd.nextInt(
                    d.sentences().size())), rnd);
            StringBuilder obs = new StringBuilder();
            int steps = 3 + rnd.nextInt(5);
            for (int st = 0; st < steps; st++) {
                hist.add(AGENT_FRESH[k].replace("{q}", q).replace("{obs}", obs.isEmpty() && k == 0 ? "(none)\n"
                        : obs));
                String found = d.sentences().get(rnd.nextInt(d.sentences().size()));
                if (k == 0) {
                    obs.append(st + 1).append(". search_docs(\"").append(keywords(found, rnd)).append("\") -> ")
                            .append(found).append('\n');
                } else {
                    obs.append("Assistant: Let me look for it.\ngrep(\"").append(keywords(found, rnd))
                            .append("\")\nTool result: ").append(found).append('\n');
                }
            }
        }
        return new Automation(0, 0, 0, 1, k == 0 ? 0.0 : 0.2, k == 0 ? 160 : 130, 20, 60, 0, 0.5);
    }

    private static Automation freshBatch(int k, List<Doc> docs, List<String> hist, SplittableRandom rnd) {
        int d = rnd.nextInt(docs.size());
        while (hist.size() < 100) {
            List<String> ss = docs.get(d++ % docs.size()).sentences();
            for (int i = 0; i < ss.size(); i += 2) {
                String p = String.join(" ", ss.subList(i, Math.min(ss.size(), i + 1 + (k == 0 ? rnd.nextInt(2) : 1))));
                hist.add(k == 0 ? "Translate the following documentation text into Japanese. Keep code, commands, "
                        + "option names and placeholders unchanged. Output only the translation.\n\n" + p
                        : "Write a search-result snippet (at most 155 characters) for a documentation page whose "
                        + "text begins: " + p);
            }
        }
        // the snippet job keeps token logprobs on a fifth of its requests, a sample for quality review
        return k == 0 ? new Automation(0, 0, 0, 1, 0.0, 110, 25, 70, 3_000, 0.3)
                : new Automation(0.2, 1, 0, 1, 0.0, 40, 25, 70, 1_500, 0.2);
    }

    // ------------------------------------------------------------------------------ the fresh split's campaigns

    /**
     * The fresh split's low-and-slow campaign has a prompt set of its own (every other split's uses its harvest
     * formats): Self-Instruct-style instruction/input records built over the corpus, as a small lab collecting top-k
     * logprobs for a student, at a rate under any limit, would send them.
     */
    static final String[] SLOW_FRESH = {
        "Instruction: Explain what the following sentence from a software manual means and why it matters.\n"
                + "Input: {s}\nOutput:",
        "Instruction: Describe a realistic situation in which the following note from the documentation would save "
                + "someone time, and explain how.\nInput: {s}\nOutput:",
        "Instruction: Identify the assumptions behind the following statement and explain each of them.\nInput: {s}\n"
                + "Output:"};

    /**
     * The fresh split's paraphrasing campaign (session 13): each instruction is rewritten by the distiller's own
     * rewriting model in the manner of Evol-Instruct — a persona or setting (opener), a deepened task (ask), a shape
     * that adds a constraint (a condition under which it fails, a length limit) and a reasoning or format requirement
     * (closer): 10 openers x 10 asks x 4 shapes x 10 closers.
     */
    private static final String[] E_OPEN = {"", "As a systems engineer,", "For a workshop I'm preparing,",
        "In a production setting,", "Assuming I know the basics already,", "", "For internal documentation,",
        "Reviewing a colleague's setup,", "Coming from a different tool,", "With security in mind,"};
    private static final String[] E_ASK = {"explain how this works", "describe the mechanism behind this",
        "analyze what this implies", "clarify the purpose of this", "interpret this statement",
        "explain the trade-offs involved", "detail the consequences of this", "justify why it is designed this way",
        "explain how this interacts with related settings", "explore the edge cases of this"};
    private static final String[] E_CLOSE = {"Reason explicitly in multiple steps.",
        "Break your answer into numbered reasoning steps.", "Weigh at least two perspectives before concluding.",
        "Include a worked example.", "Support each claim with a reason.", "",
        "Compare it with an alternative approach and say which is better.",
        "Identify one common misconception and correct it.", "End with a one-sentence takeaway.",
        "Give your reasoning before the final answer."};

    private static String evolve(String s, SplittableRandom rnd) {
        String open = E_OPEN[rnd.nextInt(10)];
        String ask = E_ASK[rnd.nextInt(10)];
        String close = E_CLOSE[rnd.nextInt(10)];
        String lead = open.isEmpty() ? cap(ask) : open + " " + ask; // starts a sentence
        String body = switch (rnd.nextInt(4)) {
            case 0 -> lead + ": " + s;
            case 1 -> "Given the statement \"" + s + "\", " + (open.isEmpty() ? "" : open.substring(0, 1)
                    .toLowerCase(Locale.ROOT) + open.substring(1) + " ") + ask + ".";
            case 2 -> s + "\n\n" + lead + ", and add one condition under which it would no longer hold.";
            default -> "Consider the following: " + s + " " + lead + " in no more than 200 words.";
        };
        return body + (close.isEmpty() ? "" : " " + close);
    }

    private static String cap(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    /**
     * The fresh split's campaigns, at the volumes, shares and account counts every split's have (one account; 24 for
     * the hydra), with settings chosen for what each campaign collects:
     * <ul>
     *   <li><b>harvest</b>: an asyncio collector with 16 requests in flight, temperature 1 and logprobs with 20
     *       alternatives (the most an OpenAI-style API returns; top-k distillation wants as many as it can get);
     *       its answers are long (a median of 500 tokens), so a request takes 2 to 10 s;
     *   <li><b>hydra</b>: reasoning traces for supervised fine-tuning, so no logprobs (the traces are the product;
     *       the chat APIs such campaigns were reported against in 2026 return none) and the temperature reasoning
     *       models are sampled at (0.6); 24 accounts from a key pool, each request on a key drawn at random, each key
     *       pinned to one of four cloud /24s; arrivals at the harness's mean rate but as a Poisson process; replies
     *       of a median 900 tokens;
     *   <li><b>low-and-slow</b>: the harness's timing (independent arrivals over three days); logprobs with 20
     *       alternatives at temperature 1 (top-k distillation matches the teacher's own distribution), replies of a
     *       median 350 tokens;
     *   <li><b>paraphrase</b>: the harness's sequential pace (5 to 45 s); half its requests greedy (temperature 0,
     *       one answer), half at 0.8 with n = 4 (candidates for rejection sampling by a reward model); logprobs with 5
     *       alternatives on half, independently; replies of a median 400 tokens.
     * </ul>
     * Reply lengths are log-normal around each median (the earlier splits' campaigns all get 200 tokens).
     */
    static List<Query> freshAttack(Attack kind, List<String> texts, int count, long span, SplittableRandom rnd,
                                   String tag) {
        List<Query> out = new ArrayList<>();
        int off = rnd.nextInt(texts.size());
        java.util.function.IntFunction<String> text = i -> texts.get((off + i) % texts.size());
        switch (kind) {
            case HARVEST -> {
                long[] slot = new long[16];
                java.util.Arrays.fill(slot, (long) (rnd.nextDouble() * span * 0.8));
                String client = "34." + rnd.nextInt(256) + "." + rnd.nextInt(256) + "." + (2 + rnd.nextInt(250));
                for (int i = 0; i < count; i++) {
                    long t = nextFree(slot, 2_000 + rnd.nextInt(8_000));
                    out.add(new Query(t, "harvest-" + tag, client, text.apply(i), 1.0, true, 20, 1, true,
                            replyLength(500, 0.5, 2048, rnd)));
                }
            }
            case HYDRA -> {
                int accounts = 24;
                String[] nets = new String[4];
                for (int k = 0; k < 4; k++) nets[k] = "104." + rnd.nextInt(256) + "." + rnd.nextInt(256);
                long step = Math.max(2_000, span / Math.max(1, count));
                long t = 0;
                for (int i = 0; i < count; i++) {
                    t += (long) (-Math.log(1 - rnd.nextDouble()) * step);
                    int a = rnd.nextInt(accounts);
                    out.add(new Query(Math.min(t, span), "hydra-" + tag + "-" + a, nets[a % 4] + "." + (10 + a),
                            text.apply(i), 0.6, false, 0, 1, true, replyLength(900, 0.5, 4096, rnd)));
                }
            }
            case LOW_AND_SLOW -> {
                String client = "82." + rnd.nextInt(256) + "." + rnd.nextInt(256) + "." + (2 + rnd.nextInt(250));
                long[] times = new long[count];
                for (int i = 0; i < count; i++) times[i] = (long) (rnd.nextDouble() * span);
                java.util.Arrays.sort(times);
                for (int i = 0; i < count; i++) {
                    out.add(new Query(times[i], "slow-" + tag, client, text.apply(i), 1.0, true, 20, 1, true,
                            replyLength(350, 0.5, 2048, rnd)));
                }
            }
            case PARAPHRASE -> {
                String client = "185." + rnd.nextInt(256) + "." + rnd.nextInt(256) + "." + (2 + rnd.nextInt(250));
                long t = (long) (rnd.nextDouble() * span * 0.5);
                for (int i = 0; i < count; i++) {
                    t += 5_000 + rnd.nextInt(40_000);
                    boolean greedy = rnd.nextDouble() < 0.5;
                    boolean lp = rnd.nextDouble() < 0.5;
                    out.add(new Query(t, "para-" + tag, client, text.apply(i), greedy ? 0.0 : 0.8, lp, lp ? 5 : 0,
                            greedy ? 1 : 4, true, replyLength(400, 0.5, 2048, rnd)));
                }
            }
        }
        return out;
    }

    static double gaussian(SplittableRandom rnd) {
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
