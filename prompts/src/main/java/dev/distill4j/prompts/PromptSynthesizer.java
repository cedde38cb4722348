package dev.distill4j.prompts;

import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.io.PromptReader;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.Budget;
import dev.distill4j.teacher.Harvester;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.Teacher;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Writes new prompts with a teacher, in rounds, until {@code target} are kept.
 *
 * <p>A round plans its teacher requests ({@link MetaPrompts}: Self-Instruct lists from a few examples and a topic,
 * Evol-Instruct rewrites of one prompt), writes them as an ordinary prompt file in the work folder and harvests it
 * with the {@link Harvester} into the work folder's run — so every request gets the harvest's concurrency, rate
 * limits, retries, budget and content-keyed storage. The replies are parsed, filtered by rule ({@link PromptFilter})
 * and by duplication against every kept prompt and seed ({@link PromptPool}, embedding cosine), and the kept ones are
 * appended to the output file (rewritten whole, atomically, after every round).
 *
 * <p><b>Resumable.</b> A round's requests depend only on the seeds, the options and what earlier rounds kept, and
 * the examples are drawn from a generator seeded by (seed, round); the kept prompts depend only on the stored
 * replies. So rerunning the same command replays the stored rounds without a request (their replies are found in
 * the work run by content key) and goes on where it stopped.
 */
public final class PromptSynthesizer {
    /**
     * @param target              synthetic prompts to keep
     * @param method              self-instruct, evol-instruct or mixed
     * @param topics              topics Self-Instruct requests cycle through (empty: no topic)
     * @param examplesPerRequest  example prompts shown per Self-Instruct request
     * @param promptsPerRequest   new prompts asked per Self-Instruct request
     * @param maxRequestsPerRound most teacher requests per round
     * @param maxRounds           rounds at most (also stops after three rounds that keep nothing)
     * @param seed                seeds the example and operation draws
     * @param concurrency         teacher requests in flight at most
     */
    public record Options(int target, SynthesisMethod method, List<String> topics, int examplesPerRequest,
                          int promptsPerRequest, int maxRequestsPerRound, int maxRounds, long seed, int concurrency) {
        public Options {
            if (target < 1) throw new InvalidInputException("--n must be ≥ 1, got " + target);
            if (examplesPerRequest < 1) throw new InvalidInputException("--examples must be ≥ 1");
            if (promptsPerRequest < 1 || promptsPerRequest > 50) {
                throw new InvalidInputException("--per-request must be in 1..50");
            }
            if (maxRequestsPerRound < 1) throw new InvalidInputException("--round-size must be ≥ 1");
            if (maxRounds < 1) throw new InvalidInputException("--max-rounds must be ≥ 1");
            topics = List.copyOf(topics);
        }
    }

    /** What one round did. */
    public record Round(int round, int requests, int answered, int candidates, int kept, int totalKept,
                        double spentUsd) {}

    /** Told about each round and the harvest inside it. */
    public interface Listener {
        default void harvesting(int round, Harvester harvester) {}

        default void roundDone(Round round) {}

        Listener NONE = new Listener() {};
    }

    /** Why the synthesis ended. */
    public enum Stop { TARGET_REACHED, BUDGET_REACHED, STALLED, MAX_ROUNDS, FATAL, INTERRUPTED }

    public record Result(Stop stop, List<SynthesizedPrompt> kept, Map<Rejection, Long> rejections, int rounds,
                         long requests, String fatalMessage) {}

    /** A teacher request planned for a round. */
    private record Request(String id, String text, SynthesisMethod method, EvolOperation operation, String topic,
                           List<String> parents) {}

    private final Teacher teacher;
    private final RunStore store;
    private final Path workDir;
    private final PromptPool pool;
    private final PromptFilter filter;
    private final Options options;
    private final RateLimiter limiter;
    private final Budget budget;
    private final Backoff backoff;
    private volatile Harvester current;
    private volatile boolean stopped;

    public PromptSynthesizer(Teacher teacher, RunStore store, Path workDir, PromptPool pool, PromptFilter filter,
                             Options options, RateLimiter limiter, Budget budget, Backoff backoff) {
        this.teacher = teacher;
        this.store = store;
        this.workDir = workDir;
        this.pool = pool;
        this.filter = filter;
        this.options = options;
        this.limiter = limiter;
        this.budget = budget;
        this.backoff = backoff;
    }

    /** Stops after the requests in flight (Ctrl-C); what was kept is in the output file. */
    public void stop() {
        stopped = true;
        Harvester h = current;
        if (h != null) h.stop();
    }

    /**
     * Runs rounds until {@code target} prompts are kept or something stops it; {@code out} holds the kept prompts
     * after every round.
     */
    public Result run(List<Prompt> seeds, Path out, Listener listener) throws IOException, InterruptedException {
        if (seeds.isEmpty()) throw new InvalidInputException("no seed prompts: give at least one");
        List<String> ids = new ArrayList<>();        // pool order: seeds, then kept synthetic prompts
        List<String> topicOf = new ArrayList<>();
        List<String> seedTexts = new ArrayList<>();
        for (Prompt p : seeds) {
            String t = textOf(p);
            if (t.isBlank()) continue;
            seedTexts.add(t);
        }
        pool.addSeeds(seedTexts);
        // the pool keeps each distinct seed once; ids follow the pool's texts
        Map<String, String> idByText = new HashMap<>();
        for (Prompt p : seeds) idByText.putIfAbsent(textOf(p), p.id());
        for (String t : pool.texts()) {
            ids.add(idByText.get(t));
            topicOf.add(null);
        }
        List<SynthesizedPrompt> kept = new ArrayList<>(readOutput(out));
        pool.addKept(kept.stream().map(SynthesizedPrompt::text).toList());
        for (SynthesizedPrompt p : kept) {
            ids.add(p.id());
            topicOf.add(p.topic());
        }
        Map<Rejection, Long> rejections = new EnumMap<>(Rejection.class);
        Files.createDirectories(workDir);
        double yield = options.method() == SynthesisMethod.EVOL_INSTRUCT ? 0.5 : 0.5 * options.promptsPerRequest();
        int stalled = 0;
        long requests = 0;
        int round = kept.isEmpty() ? 0 : kept.getLast().round();
        int maxRound = options.maxRounds() + round;
        Stop stop = null;
        String fatal = null;
        while (stop == null) {
            if (kept.size() >= options.target()) {
                stop = Stop.TARGET_REACHED;
                break;
            }
            if (round >= maxRound) {
                stop = Stop.MAX_ROUNDS;
                break;
            }
            round++;
            int need = options.target() - kept.size();
            int n = (int) Math.min(options.maxRequestsPerRound(), Math.max(1, Math.ceil(1.2 * need / Math.max(yield, 0.05))));
            List<Request> plan = plan(round, n, ids, topicOf, kept.size());
            Path file = workDir.resolve(String.format("round-%03d.jsonl", round));
            writeRequests(file, plan);
            Harvester h = new Harvester(teacher, store, new Harvester.Options(file, 1, options.concurrency(), false,
                    true), limiter, budget, backoff);
            current = h;
            if (stopped) h.stop();
            listener.harvesting(round, h);
            Harvester.Result hr = h.run();
            current = null;
            requests += plan.size();

            Map<String, String> replies = replies(plan);
            List<String> pooled = pool.texts();   // the pool before this round: every parent is in it
            List<String> candidates = new ArrayList<>();
            List<Request> from = new ArrayList<>();
            List<Integer> exempt = new ArrayList<>();
            for (Request r : plan) {
                String reply = replies.get(r.id());
                if (reply == null) continue;   // failed or not asked (stopped): nothing to parse
                List<String> parsed = r.method() == SynthesisMethod.SELF_INSTRUCT ? MetaPrompts.parseList(reply)
                        : parsedSingle(reply);
                if (parsed.isEmpty()) rejections.merge(Rejection.UNPARSABLE, 1L, Long::sum);
                int parentAt = r.method() == SynthesisMethod.EVOL_INSTRUCT ? ids.indexOf(r.parents().getFirst()) : -1;
                String parent = parentAt < 0 ? null : pooled.get(parentAt);
                for (String c : parsed) {
                    Optional<Rejection> why = filter.check(c, parent);
                    if (why.isPresent()) {
                        rejections.merge(why.get(), 1L, Long::sum);
                    } else {
                        candidates.add(c);
                        from.add(r);
                        exempt.add(parentAt);
                    }
                }
            }
            List<Optional<Rejection>> verdicts = pool.offer(candidates, exempt, options.target() - kept.size());
            int keptNow = 0;
            for (int i = 0; i < verdicts.size(); i++) {
                if (verdicts.get(i).isPresent()) {
                    rejections.merge(verdicts.get(i).get(), 1L, Long::sum);
                    continue;
                }
                Request r = from.get(i);
                String id = String.format("syn-%06d", kept.size() + 1);
                String topic = r.topic() != null ? r.topic() : inheritedTopic(r, ids, topicOf);
                kept.add(new SynthesizedPrompt(id, candidates.get(i), r.method(), r.operation(), topic, r.parents(),
                        round, r.id()));
                ids.add(id);
                topicOf.add(topic);
                keptNow++;
            }
            writeOutput(out, kept);
            yield = replies.isEmpty() ? yield : Math.max(0.05, (double) keptNow / replies.size());
            listener.roundDone(new Round(round, plan.size(), replies.size(), candidates.size(), keptNow, kept.size(),
                    budget.spentUsd()));
            switch (hr.outcome()) {
                case COMPLETE -> { }
                case BUDGET_REACHED -> stop = Stop.BUDGET_REACHED;
                case INTERRUPTED -> stop = Stop.INTERRUPTED;
                case FATAL -> {
                    stop = Stop.FATAL;
                    fatal = hr.fatal() == null ? "the teacher failed" : hr.fatal().getMessage();
                }
            }
            if (stop == null && stopped) stop = Stop.INTERRUPTED;
            stalled = keptNow == 0 ? stalled + 1 : 0;
            if (stop == null && stalled >= 3 && kept.size() < options.target()) stop = Stop.STALLED;
        }
        return new Result(stop, kept, rejections, round, requests, fatal);
    }

    /**
     * The round's requests. Self-Instruct shows {@code examplesPerRequest} prompts — seeds, plus one synthetic prompt
     * once there are some (Self-Instruct mixes 6 human with 2 machine examples) — and cycles through the topics;
     * Evol-Instruct rewrites one prompt of the whole pool by an operation drawn uniformly. Mixed alternates.
     */
    private List<Request> plan(int round, int n, List<String> ids, List<String> topicOf, int synthetic) {
        SplittableRandom rng = new SplittableRandom(options.seed() * 1_000_003L + round);
        int seedCount = pool.seedCount();
        List<String> texts = pool.texts();
        List<Request> plan = new ArrayList<>(n);
        EvolOperation[] ops = EvolOperation.values();
        for (int i = 0; i < n; i++) {
            SynthesisMethod m = switch (options.method()) {
                case MIXED -> i % 2 == 0 ? SynthesisMethod.SELF_INSTRUCT : SynthesisMethod.EVOL_INSTRUCT;
                default -> options.method();
            };
            String id = String.format("r%03d-%04d", round, i + 1);
            if (m == SynthesisMethod.SELF_INSTRUCT) {
                int k = Math.min(options.examplesPerRequest(), texts.size());
                List<Integer> picked = new ArrayList<>();
                if (synthetic > 0 && k > 1) picked.add(seedCount + rng.nextInt(synthetic));
                while (picked.size() < k) {
                    int j = picked.size() < Math.min(k, seedCount) ? rng.nextInt(seedCount) : rng.nextInt(texts.size());
                    if (!picked.contains(j) || picked.size() >= texts.size()) picked.add(j);
                }
                java.util.Collections.shuffle(picked, new java.util.Random(rng.nextLong()));
                String topic = options.topics().isEmpty() ? null
                        : options.topics().get((int) ((round * 7919L + i) % options.topics().size()));
                List<String> examples = picked.stream().map(texts::get).toList();
                plan.add(new Request(id, MetaPrompts.selfInstruct(examples, topic, options.promptsPerRequest()), m,
                        null, topic, picked.stream().map(ids::get).toList()));
            } else {
                int j = rng.nextInt(texts.size());
                EvolOperation op = ops[rng.nextInt(ops.length)];
                plan.add(new Request(id, MetaPrompts.evol(texts.get(j), op), m, op, null, List.of(ids.get(j))));
            }
        }
        return plan;
    }

    private static String inheritedTopic(Request r, List<String> ids, List<String> topicOf) {
        if (r.method() != SynthesisMethod.EVOL_INSTRUCT) return null;
        int at = ids.indexOf(r.parents().getFirst());
        return at < 0 ? null : topicOf.get(at);
    }

    private static List<String> parsedSingle(String reply) {
        String s = MetaPrompts.parseSingle(reply);
        return s.isEmpty() ? List.of() : List.of(s);
    }

    /** The stored reply of each request of the plan that has one, found by the key the harvester stored it under. */
    private Map<String, String> replies(List<Request> plan) {
        Map<String, String> keyToId = new HashMap<>();
        for (Sample s : Harvester.candidates(teacher, plan.stream().map(PromptSynthesizer::asPrompt).toList(), 1,
                Instant.now())) {
            keyToId.put(s.key(), s.promptId());
        }
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<String, Sample> e : store.find(keyToId.keySet()).entrySet()) {
            Sample s = e.getValue();
            if (s.status() == SampleStatus.DONE && s.text() != null) out.put(keyToId.get(e.getKey()), s.text());
        }
        return out;
    }

    private static Prompt asPrompt(Request r) {
        return new Prompt(r.id(), r.text(), null, null, null, 0);
    }

    private static void writeRequests(Path file, List<Request> plan) throws IOException {
        StringBuilder b = new StringBuilder();
        for (Request r : plan) {
            ObjectNode n = Json.object();
            n.put("id", r.id());
            n.put("prompt", r.text());
            ObjectNode m = n.putObject("metadata");
            m.put("method", r.method().label());
            if (r.operation() != null) m.put("operation", r.operation().label());
            if (r.topic() != null) m.put("topic", r.topic());
            var parents = m.putArray("parents");
            r.parents().forEach(parents::add);
            b.append(Json.write(n)).append('\n');
        }
        AtomicFiles.writeString(file, b.toString());
    }

    /**
     * The prompts an earlier run of the same command kept, so that a rerun (or a larger {@code --n}) continues the
     * file instead of starting over. A file that is not such an output is refused rather than overwritten.
     */
    static List<SynthesizedPrompt> readOutput(Path out) throws IOException {
        if (!Files.exists(out)) return List.of();
        List<SynthesizedPrompt> kept = new ArrayList<>();
        try (PromptReader r = PromptReader.open(out)) {
            while (r.hasNext()) {
                PromptReader.Entry e = r.next();
                if (!(e instanceof PromptReader.Ok ok) || !ok.prompt().metadata().has("synthetic")) {
                    throw new InvalidInputException(out + " exists and is not the output of 'distill prompts "
                            + "generate' (line " + (kept.size() + 1) + "); choose another --out, or remove it");
                }
                kept.add(SynthesizedPrompt.fromPrompt(ok.prompt()));
            }
        }
        return kept;
    }

    static void writeOutput(Path out, List<SynthesizedPrompt> kept) throws IOException {
        StringBuilder b = new StringBuilder();
        for (SynthesizedPrompt p : kept) b.append(p.toJsonLine()).append('\n');
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        AtomicFiles.writeString(out, b.toString());
    }

    /** A seed's text: raw text, or the last user message of a chat prompt. */
    static String textOf(Prompt p) {
        if (!p.isChat()) return p.text();
        for (int i = p.messages().size() - 1; i >= 0; i--) {
            if (p.messages().get(i).role().equals("user")) return p.messages().get(i).content();
        }
        return "";
    }
}
