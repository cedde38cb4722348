package dev.distill4j.active;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.serve.OpenAiServer;
import dev.distill4j.serve.TinyModel;
import dev.distill4j.teacher.Backoff;
import dev.distill4j.teacher.RateLimiter;
import dev.distill4j.teacher.Teacher;
import dev.distill4j.teacher.TeacherConfig;
import dev.distill4j.teacher.TeacherException;
import dev.distill4j.teacher.TeacherRequest;
import dev.distill4j.teacher.TeacherResponse;
import dev.distill4j.teacher.TeacherSampling;
import dev.distill4j.teacher.Teachers;
import dev.distill4j.train.LossMode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The active loop end to end against a real {@code distill serve} teacher on loopback, a tiny student trained a few
 * steps per round: the budget is never passed, rounds are logged, a pilot picks a score, and a run killed in the
 * middle of a round resumes without buying any answer twice.
 */
class ActiveHarvesterTest {
    private static final double PRICE_IN = 1.0;
    private static final double PRICE_OUT = 2.0;

    @TempDir static Path shared;
    static OpenAiServer server;
    static URI base;
    static Path student;
    static Path pool;

    @BeforeAll
    static void serveTeacher() throws IOException {
        ai.djl.engine.Engine.getInstance();
        JniUtils.setNumThreads(1);
        Path teacher = TinyModel.write(shared.resolve("teacher"), 32, 2, 4, 2, 64, 512);
        student = TinyModel.write(shared.resolve("student"), 16, 1, 2, 1, 32, 512);
        server = OpenAiServer.builder().setModelDir(teacher).optServedModelName("teacher").optPort(0).build();
        base = URI.create("http://127.0.0.1:" + server.start() + "/v1");
        pool = shared.resolve("pool.jsonl");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 48; i++) {
            b.append(Json.write(Json.object().put("id", "q" + i).put("prompt", "what is " + i + " plus " + (i * 7 % 13)
                    + "?"))).append('\n');
        }
        Files.writeString(pool, b.toString());
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    private static ActiveConfig config(Path run, double budget, int rounds, ScoreKind select) {
        return config(run, budget, rounds, select, 4);
    }

    private static ActiveConfig config(Path run, double budget, int rounds, ScoreKind select, int concurrency) {
        return new ActiveConfig(run, pool, student, null, budget, PRICE_IN, PRICE_OUT, rounds, 0.25, select, 1.0, 0, 0,
                0, 200, 8, 3, ActiveConfig.Retrain.CONTINUE, LossMode.AUTO, 0.5, 3e-3, 0, 512, 64, concurrency, 11,
                List.of());
    }

    private static Teacher teacher() {
        return Teachers.create(TeacherConfig.of("openai", "teacher", base,
                new TeacherSampling(0.0, null, 8, false, 0L, List.of(), 5, null)));
    }

    /** Collects what the loop says, as the CLI would print it. */
    static final class Log implements ActiveHarvester.Listener {
        final List<String> lines = new ArrayList<>();
        final List<RoundRecord> rounds = new ArrayList<>();

        @Override public void stage(String title, Supplier<String> progress) { lines.add(title); }

        @Override public void stageDone(String summary) { lines.add(summary); }

        @Override public void round(RoundRecord record) { rounds.add(record); }
    }

    private static double storedSpend(Path run) throws IOException {
        double[] usd = {0};
        try (RunStore s = RunStore.openExisting(run)) {
            s.forEachSample(null, (p, x) -> usd[0] += x.costUsd());
        }
        return usd[0];
    }

    @Test
    void calibratedRoundsWithinTheBudget() throws Exception {
        Path run = shared.resolve("auto");
        double budget = 0.0015;
        Log log = new Log();
        ActiveHarvester.Result r;
        try (Teacher t = teacher()) {
            r = new ActiveHarvester(config(run, budget, 3, ScoreKind.AUTO), t, RateLimiter.unlimited(),
                    new Backoff(), log).run();
        }
        // the budget is a hard cap on everything bought, the held-out set included
        double spent = storedSpend(run);
        assertThat(spent).isLessThanOrEqualTo(budget);
        assertThat(r.heldOutPrompts()).isGreaterThan(0);
        assertThat(r.rounds()).hasSize(3);
        // every round ranked the scores on held-out answers, and selected by the best one when it predicted divergence
        for (RoundRecord x : r.rounds()) {
            assertThat(x.calibration()).containsKeys("entropy", "margin", "least-confidence");
            String best = x.calibration().entrySet().stream().max(java.util.Map.Entry.comparingByValue())
                    .orElseThrow().getKey();
            if (x.calibration().get(best) >= ActiveHarvester.MIN_SPEARMAN) {
                assertThat(x.select()).isEqualTo(best + " (auto)");
                // a scored round buys above the pool's mean uncertainty (diversity 1: the top of the ranking)
                assertThat(x.candidates()).isGreaterThan(x.bought());
                assertThat(x.meanScoreBought()).isGreaterThanOrEqualTo(x.meanScorePool());
            } else {
                assertThat(x.select()).isEqualTo("uniform (auto)");
            }
        }
        double roundSum = 0;
        for (RoundRecord x : r.rounds()) {
            assertThat(x.bought()).isPositive();
            assertThat(x.heldOutAgreement()).isBetween(0.0, 1.0);
            roundSum += x.roundUsd();
        }
        assertThat(roundSum + r.heldOutUsd()).isCloseTo(spent, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(r.totalUsd()).isCloseTo(spent, org.assertj.core.api.Assertions.within(1e-12));
        // the log: one line per round, the same records as the listener saw
        List<String> lines = Files.readAllLines(run.resolve("active").resolve(ActiveHarvester.ROUNDS));
        assertThat(lines).hasSize(3);
        JsonNode last = Json.parse(lines.getLast());
        assertThat(last.path("round").asInt()).isEqualTo(3);
        assertThat(last.path("total_usd").asDouble()).isCloseTo(spent, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(last.has("heldout_agreement")).isTrue();
        assertThat(log.rounds).extracting(RoundRecord::round).containsExactly(1, 2, 3);
        // only the newest student is kept; it is a model folder
        assertThat(r.student().resolve("config.json")).isRegularFile();
        assertThat(run.resolve("active/round-001/train/student")).doesNotExist();
        // held-out prompts were never a round's purchase
        Set<String> bought = new HashSet<>();
        for (int i = 1; i <= 3; i++) {
            for (String l : Files.readAllLines(run.resolve("active/round-00" + i + "/selected.jsonl"))) {
                bought.add(Json.parse(l).path("id").asText());
            }
        }
        var split = new dev.distill4j.train.data.EvalSplit(0.25);
        assertThat(bought).noneMatch(split::isHeldOut);

        // a finished run rerun with the same flags buys nothing and trains nothing more
        Log again = new Log();
        try (Teacher t = teacher()) {
            var r2 = new ActiveHarvester(config(run, budget, 3, ScoreKind.AUTO), t, RateLimiter.unlimited(),
                    new Backoff(), again).run();
            assertThat(r2.rounds()).hasSize(3);
        }
        assertThat(again.rounds).isEmpty();
        assertThat(storedSpend(run)).isCloseTo(spent, org.assertj.core.api.Assertions.within(1e-12));
        // other settings on the same run are refused, not mixed in
        try (Teacher t = teacher()) {
            assertThatThrownBy(() -> new ActiveHarvester(config(run, budget, 3, ScoreKind.MARGIN), t,
                    RateLimiter.unlimited(), new Backoff(), new Log()).run())
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("other settings");
        }
    }

    @Test
    void gainRoundsDrawFromPredictedGainsWithinTheBudget() throws Exception {
        Path run = shared.resolve("gain");
        double budget = 0.0015;
        Log log = new Log();
        ActiveHarvester.Result r;
        try (Teacher t = teacher()) {
            r = new ActiveHarvester(config(run, budget, 2, ScoreKind.GAIN), t, RateLimiter.unlimited(),
                    new Backoff(), log).run();
        }
        assertThat(storedSpend(run)).isLessThanOrEqualTo(budget);
        assertThat(r.rounds()).hasSize(2);
        for (RoundRecord x : r.rounds()) {
            assertThat(x.select()).isEqualTo("gain");
            assertThat(x.bought()).isPositive();
            // every unbought training prompt had its gain predicted; the leave-one-out check ran on held-out answers
            assertThat(x.candidates()).isGreaterThan(x.bought());
            assertThat(x.calibration()).containsKey("gain (leave-one-out)");
            assertThat(x.meanScorePool()).isPositive();
        }
        assertThat(log.lines).anyMatch(l -> l.contains("held-out answers: mean excess divergence"));
        // what a round bought is logged with its predicted gain before anything is bought
        List<String> scores = Files.readAllLines(run.resolve("active/round-001/scores.jsonl"));
        assertThat(Json.parse(scores.getFirst()).path("select").asText()).isEqualTo("gain");
        assertThat(scores.subList(1, scores.size())).allMatch(l -> Json.parse(l).path("gain").asDouble() >= 0
                && Json.parse(l).has("gain"));
    }

    @Test
    void replayedRunsAreTrainedOnBesideTheRoundsAnswers() throws Exception {
        Path earlier = shared.resolve("replay-earlier");
        Path run = shared.resolve("replay");
        double budget = 0.0015;
        try (Teacher t = teacher()) {
            new ActiveHarvester(config(earlier, budget, 1, ScoreKind.UNIFORM), t, RateLimiter.unlimited(),
                    new Backoff(), new Log()).run();
        }
        ActiveConfig plain = config(run, budget, 2, ScoreKind.GAIN);
        ActiveConfig withReplay = new ActiveConfig(run, pool, student, null, budget, PRICE_IN, PRICE_OUT, 2, 0.25,
                ScoreKind.GAIN, 1.0, 0.5, 0, 0, 200, 8, 3, ActiveConfig.Retrain.CONTINUE, LossMode.AUTO, 0.5, 3e-3,
                0, 512, 64, 4, 11, List.of(new dev.distill4j.train.RunShare(earlier, 2.0)));
        ActiveHarvester.Result r;
        try (Teacher t = teacher()) {
            r = new ActiveHarvester(withReplay, t, RateLimiter.unlimited(), new Backoff(), new Log()).run();
        }
        assertThat(r.rounds()).hasSize(2);
        assertThat(r.rounds()).allMatch(x -> x.select().equals("gain + 50 % uniform"));
        assertThat(storedSpend(run)).isLessThanOrEqualTo(budget);
        // each round's training mixed both runs, by the weights given, and says so in the student's record
        String record = Files.readString(r.student().resolve("distill_training.json"));
        assertThat(record).containsPattern("replay:1\\.0\\(\\d+\\),replay-earlier:2\\.0\\(\\d+\\)");
        // the replayed run is read, never written: its store holds what it held
        assertThat(storedSpend(earlier)).isLessThanOrEqualTo(budget);
        // the same run resumed without the replay (or with another) is refused, not mixed up
        try (Teacher t = teacher()) {
            assertThatThrownBy(() -> new ActiveHarvester(plain, t, RateLimiter.unlimited(), new Backoff(), new Log())
                    .run()).isInstanceOf(InvalidInputException.class).hasMessageContaining("other settings");
        }
        // a folder that is not a run, or this run itself, is refused before anything is bought
        ActiveConfig notARun = new ActiveConfig(shared.resolve("fresh"), pool, student, null, budget, PRICE_IN,
                PRICE_OUT, 2, 0.25, ScoreKind.GAIN, 1.0, 0, 0, 0, 200, 8, 3, ActiveConfig.Retrain.CONTINUE,
                LossMode.AUTO, 0.5, 3e-3, 0, 512, 64, 4, 11, List.of(new dev.distill4j.train.RunShare(shared, 1.0)));
        try (Teacher t = teacher()) {
            assertThatThrownBy(() -> new ActiveHarvester(notARun, t, RateLimiter.unlimited(), new Backoff(),
                    new Log()).run()).isInstanceOf(InvalidInputException.class).hasMessageContaining("is not a run");
        }
        assertThat(shared.resolve("fresh/samples.db")).doesNotExist();
        assertThatThrownBy(() -> new ActiveConfig(run, pool, student, null, budget, PRICE_IN, PRICE_OUT, 2, 0.25,
                ScoreKind.GAIN, 1.0, 0, 0, 0, 200, 8, 3, ActiveConfig.Retrain.CONTINUE, LossMode.AUTO, 0.5, 3e-3, 0,
                512, 64, 4, 11, List.of(new dev.distill4j.train.RunShare(run, 1.0))))
                .hasMessageContaining("is this run");
    }

    @Test
    void aRunKilledInARoundResumesWithoutBuyingTwice() throws Exception {
        Path run = shared.resolve("killed");
        double budget = 0.0015;
        AtomicInteger answered = new AtomicInteger();
        // the first attempt dies (a fatal 401) after 20 answers: the held-out set and part of round 1 (one request
        // at a time, so no answer is in flight when it dies)
        try (Teacher t = new Counting(teacher(), answered, 20)) {
            assertThatThrownBy(() -> new ActiveHarvester(config(run, budget, 2, ScoreKind.ENTROPY, 1), t,
                    RateLimiter.unlimited(), new Backoff(2), new Log()).run())
                    .isInstanceOf(ActiveHarvester.TeacherFailure.class);
        }
        assertThat(answered.get()).isEqualTo(20);
        List<String> chosen = Files.readAllLines(run.resolve("active/round-001/selected.jsonl"));
        Log log = new Log();
        ActiveHarvester.Result r;
        try (Teacher t = new Counting(teacher(), answered, Integer.MAX_VALUE)) {
            r = new ActiveHarvester(config(run, budget, 2, ScoreKind.ENTROPY), t, RateLimiter.unlimited(),
                    new Backoff(), log).run();
        }
        assertThat(log.lines).anyMatch(l -> l.contains("resuming with the"));
        assertThat(Files.readAllLines(run.resolve("active/round-001/selected.jsonl"))).isEqualTo(chosen);
        assertThat(r.rounds()).hasSize(2);
        for (RoundRecord x : r.rounds()) {
            // selected by entropy with diversity 1: what was bought is the top of the pool's ranking
            assertThat(x.select()).isEqualTo("entropy");
            assertThat(x.meanScoreBought()).isGreaterThanOrEqualTo(x.meanScorePool());
            assertThat(x.calibration()).isEmpty();
        }
        try (RunStore s = RunStore.openExisting(run)) {
            // every answer the teacher gave is stored once: nothing was bought twice
            assertThat(s.count(SampleStatus.DONE)).isEqualTo(answered.get());
        }
        assertThat(storedSpend(run)).isLessThanOrEqualTo(budget);
    }

    @Test
    void aBudgetTooSmallForTheHeldOutSetSaysSo() throws Exception {
        Path run = shared.resolve("poor");
        try (Teacher t = teacher()) {
            assertThatThrownBy(() -> new ActiveHarvester(config(run, 0.0001, 2, ScoreKind.ENTROPY), t,
                    RateLimiter.unlimited(), new Backoff(), new Log()).run())
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("held-out set")
                    .hasMessageContaining("raise --budget-usd");
        }
        assertThat(storedSpend(run)).isLessThanOrEqualTo(0.0001);
        assertThatThrownBy(() -> config(run, 1, 2, ScoreKind.DISAGREEMENT))
                .hasMessageContaining("--student-samples");
        assertThatThrownBy(() -> new ActiveConfig(run, pool, student, null, 1, PRICE_IN, PRICE_OUT, 2, 0.25,
                ScoreKind.GAIN, 1.0, 1.5, 0, 0, 200, 8, 3, ActiveConfig.Retrain.CONTINUE, LossMode.AUTO, 0.5, 3e-3, 0,
                512, 64, 4, 11, List.of())).hasMessageContaining("--uniform-share must be in [0, 1]");
    }

    /** The real client, counting answers; after {@code limit} of them it answers 401 (a fatal error). */
    static final class Counting implements Teacher {
        private final Teacher inner;
        private final AtomicInteger answered;
        private final int limit;
        private final AtomicInteger mine = new AtomicInteger();

        Counting(Teacher inner, AtomicInteger answered, int limit) {
            this.inner = inner;
            this.answered = answered;
            this.limit = limit;
        }

        @Override public String provider() { return inner.provider(); }
        @Override public String model() { return inner.model(); }
        @Override public String baseUrl() { return inner.baseUrl(); }
        @Override public String endpoint() { return inner.endpoint(); }
        @Override public TeacherSampling sampling() { return inner.sampling(); }
        @Override public Capability capability() { return inner.capability(); }
        @Override public void validate(Prompt p) { inner.validate(p); }

        @Override
        public TeacherResponse complete(TeacherRequest request) throws TeacherException {
            if (mine.incrementAndGet() > limit) {
                throw new TeacherException(TeacherException.Kind.AUTH, 401, "invalid api key", null, null, null,
                        null, null);
            }
            TeacherResponse r = inner.complete(request);
            answered.incrementAndGet();
            return r;
        }

        @Override public void close() { inner.close(); }
    }
}
