package dev.distill4j.guard.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.serve.AccountGuard.Action;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Policy files: a good one is read with its defaults, every malformed one is a clear error naming the file. */
class GuardPolicyTest {
    @TempDir Path tmp;

    private GuardPolicy read(String json) throws Exception {
        Path f = tmp.resolve("policy.json");
        Files.writeString(f, json);
        return GuardPolicy.read(f);
    }

    private void rejects(String json, String message) {
        assertThatThrownBy(() -> read(json)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("guard policy " + tmp.resolve("policy.json")).hasMessageContaining(message);
    }

    @Test
    void aPolicyIsReadWithItsLevelsAndSummarised() throws Exception {
        GuardPolicy p = read("""
                {"features": {"logprobs_share": 0.5, "timing_cv": 0.2, "rpm": 60},
                 "levels": [{"fired": 1, "action": "flag"}, {"fired": 2, "action": "throttle", "rpm": 10},
                            {"fired": 3, "action": "block"}]}
                """);
        assertThat(p.window()).isEqualTo(200);
        assertThat(p.minRequests()).isEqualTo(20);
        assertThat(p.levelFor(0)).isNull();
        assertThat(p.levelFor(2).action()).isEqualTo(Action.THROTTLE);
        assertThat(p.levelFor(2).rpm()).isEqualTo(10);
        assertThat(p.levelFor(3).action()).isEqualTo(Action.BLOCK);
        assertThat(p.summary()).contains("the last 200 requests of each account, from 20 on")
                .contains("logprobs_share >= 0.5").contains("timing_cv <= 0.2").contains("rpm >= 60")
                .contains("2+ fired -> throttle (10 rpm)");
    }

    @Test
    void malformedPoliciesAreClearErrors() {
        rejects("{\"features\": {", "is not valid JSON");
        rejects("[1]", "must be a JSON object");
        rejects("{\"features\": {\"logprob_share\": 0.5}, \"levels\": [{\"fired\": 1, \"action\": \"flag\"}]}",
                "unknown feature \"logprob_share\" (known: logprobs_share");
        rejects("{\"features\": {\"logprobs_share\": 1.5}, \"levels\": [{\"fired\": 1, \"action\": \"flag\"}]}",
                "is a share");
        rejects("{\"features\": {\"logprobs_share\": 0.5}}", "\"levels\" must be a non-empty array");
        rejects("{\"features\": {\"logprobs_share\": 0.5}, \"levels\": [{\"fired\": 1, \"action\": \"ban\"}]}",
                "levels[0].action must be \"flag\", \"throttle\" or \"block\"");
        rejects("{\"features\": {\"logprobs_share\": 0.5}, \"levels\": [{\"fired\": 1, \"action\": \"throttle\"}]}",
                "\"rpm\" is required");
        rejects("{\"features\": {\"logprobs_share\": 0.5}, \"levels\": [{\"fired\": 2, \"action\": \"flag\"}]}",
                "levels[0].fired must be 1..1");
        rejects("{\"features\": {\"logprobs_share\": 0.5, \"cot_share\": 0.3}, \"levels\": [{\"fired\": 2, "
                + "\"action\": \"block\"}, {\"fired\": 2, \"action\": \"flag\"}]}", "levels[1] must need more");
        rejects("{\"window\": 1, \"features\": {\"logprobs_share\": 0.5}, \"levels\": [{\"fired\": 1, "
                + "\"action\": \"flag\"}]}", "\"window\" must be 2..");
        rejects("{\"windows\": 10}", "unknown field \"windows\"");
    }
}
