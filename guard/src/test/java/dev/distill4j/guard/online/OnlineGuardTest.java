package dev.distill4j.guard.online;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.core.Json;
import dev.distill4j.guard.online.GuardPolicy.Feature;
import dev.distill4j.serve.AccountGuard.Action;
import dev.distill4j.serve.AccountGuard.Admission;
import dev.distill4j.serve.AccountGuard.Request;
import org.junit.jupiter.api.Test;

/** The guard's features and state changes on requests fed directly (the HTTP path is OnlineGuardServeTest). */
class OnlineGuardTest {
    private static GuardPolicy policy(String json) throws Exception {
        return GuardPolicy.parse(Json.MAPPER.readTree(json), "test");
    }

    private static Request req(String account, long t, double temperature, int n, boolean logprobs, String q) {
        return new Request(t, account, "10.0.0.1", "/v1/chat/completions", 200, temperature, n, logprobs,
                logprobs ? 5 : 0, q, 10, 5);
    }

    @Test
    void aScriptOnATimerIsRegularAndFastAndAPersonIsNot() throws Exception {
        OnlineGuard g = new OnlineGuard(policy("""
                {"window": 100, "min_requests": 20, "features": {"timing_cv": 0.2, "rpm": 30, "mean_n": 4},
                 "levels": [{"fired": 2, "action": "flag"}, {"fired": 3, "action": "block"}]}"""));
        java.util.Random rnd = new java.util.Random(7);
        long t = 1_000_000;
        for (int i = 0; i < 40; i++) {
            g.observe(req("bot", 1_000_000 + i * 1000L, 1, 8, false, "question " + i));
            t += (long) (-Math.log(1 - rnd.nextDouble()) * 20_000);      // Poisson arrivals, one per 20 s
            g.observe(req("person", t, 1, 1, false, "question " + i));
        }
        var bot = g.evidence("bot");
        assertThat(bot.values().get(Feature.TIMING_CV)).isEqualTo(0.0);
        assertThat(bot.values().get(Feature.RPM)).isEqualTo(40.0);
        assertThat(bot.values().get(Feature.MEAN_N)).isEqualTo(8.0);
        assertThat(g.action("bot")).isEqualTo(Action.BLOCK);
        assertThat(g.admit("bot", 2_000_000).refused()).isTrue();
        var person = g.evidence("person");
        assertThat(person.values().get(Feature.TIMING_CV)).isBetween(0.6, 1.5);
        assertThat(person.fired()).isEmpty();
        assertThat(g.action("person")).isEqualTo(Action.ALLOW);
        assertThat(g.admit("person", t)).isEqualTo(Admission.PASS);
        assertThat(g.admit("never-seen", t)).isEqualTo(Admission.PASS);
    }

    @Test
    void aThrottledAccountGoesBackToAllowWhenItsWindowNoLongerShowsTheBehaviour() throws Exception {
        OnlineGuard g = new OnlineGuard(policy("""
                {"window": 10, "min_requests": 5, "features": {"logprobs_share": 0.5, "temperature0_share": 0.5},
                 "levels": [{"fired": 2, "action": "throttle", "rpm": 3}]}"""));
        long t = 0;
        for (int i = 0; i < 5; i++) g.observe(req("a", t += 1000, 0, 1, true, "q" + i));
        assertThat(g.action("a")).isEqualTo(Action.THROTTLE);
        // three admissions in a minute pass, the fourth waits until the first is a minute old
        assertThat(g.admit("a", 100_000).retryAfterMs()).isEqualTo(-1);
        assertThat(g.admit("a", 101_000).retryAfterMs()).isEqualTo(-1);
        assertThat(g.admit("a", 102_000).retryAfterMs()).isEqualTo(-1);
        Admission full = g.admit("a", 110_000);
        assertThat(full.refused()).isTrue();
        assertThat(full.rpm()).isEqualTo(3);
        assertThat(full.retryAfterMs()).isEqualTo(50_000);
        assertThat(g.admit("a", 160_000).refused()).isFalse();
        Action last = null;
        for (int i = 0; i < 10; i++) {
            Action changed = g.observe(req("a", t += 1000, 0.7, 1, false, "q" + i));
            if (changed != null) last = changed;
        }
        assertThat(last).isEqualTo(Action.ALLOW);
        assertThat(g.admit("a", 200_000)).isEqualTo(Admission.PASS);
    }

    @Test
    void templateReuseCountsSlotFilledQueriesAndNotVariedOnes() throws Exception {
        OnlineGuard g = new OnlineGuard(policy("""
                {"window": 50, "min_requests": 1, "features": {"template_share": 0.5, "cot_share": 0.5},
                 "levels": [{"fired": 2, "action": "flag"}]}"""));
        String[] cities = {"Paris", "Lima", "Oslo", "Cairo", "Hanoi", "Quito", "Accra", "Perth"};
        String[] varied = {"How do I bake bread?", "Who wrote Dracula?", "Is Pluto a planet?",
            "Name a red fruit.", "What time zone is Chile in?", "Why do cats purr?", "Define entropy.",
            "Best way to learn piano?"};
        for (int i = 0; i < cities.length; i++) {
            g.observe(req("t", i, 1, 1, false, "Walk me through the history of " + cities[i] + " in 300 words."));
            g.observe(req("v", i, 1, 1, false, varied[i]));
        }
        assertThat(g.evidence("t").values().get(Feature.TEMPLATE_SHARE)).isEqualTo(7 / 8.0);
        assertThat(g.evidence("t").values().get(Feature.COT_SHARE)).isEqualTo(1.0);
        assertThat(g.action("t")).isEqualTo(Action.FLAG);
        assertThat(g.evidence("v").values().get(Feature.TEMPLATE_SHARE)).isEqualTo(0.0);
        assertThat(g.action("v")).isEqualTo(Action.ALLOW);
    }

    @Test
    void idleAllowedAccountsAreForgottenAndFlaggedOnesKept() throws Exception {
        OnlineGuard g = new OnlineGuard(policy("""
                {"window": 10, "min_requests": 2, "features": {"logprobs_share": 0.5},
                 "levels": [{"fired": 1, "action": "flag"}]}"""));
        g.observe(req("flagged", 0, 1, 1, true, "a"));
        g.observe(req("flagged", 1, 1, 1, true, "b"));
        for (int i = 0; i < 100; i++) g.observe(req("idle-" + i, i, 1, 1, false, "q"));
        assertThat(g.accounts()).isEqualTo(101);
        long later = OnlineGuard.FORGET_IDLE_MS + 1000;
        for (int i = 0; i < 4096; i++) g.observe(req("active", later + i, 1, 1, false, "q" + i));
        assertThat(g.accounts()).isEqualTo(2);
        assertThat(g.action("flagged")).isEqualTo(Action.FLAG);
    }
}
