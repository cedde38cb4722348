package dev.distill4j.train.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EvalSplitTest {
    @Test
    void theBucketIsSha256OfTheIdModTenThousand() {
        // SHA-256("abc") = ba7816bf8f01cfea..., 0xba7816bf8f01cfea mod 10000 = 74 (Python)
        assertThat(EvalSplit.hash("abc")).isEqualTo(0xba7816bf8f01cfeaL);
        assertThat(new EvalSplit(0.0075).isHeldOut("abc")).isTrue();   // 74 < 75
        assertThat(new EvalSplit(0.0074).isHeldOut("abc")).isFalse();  // 74 < 74 is false
        assertThat(new EvalSplit(0.5).isHeldOut("prompt-1")).isFalse(); // bucket 5773
        assertThat(new EvalSplit(0.6).isHeldOut("prompt-1")).isTrue();
    }

    @Test
    void aboutTheFractionIsHeldOutAndAddingPromptsMovesNone() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) ids.add("p" + i);
        EvalSplit split = new EvalSplit(0.05);
        Set<String> held = split.heldOut(ids);
        assertThat(held.size()).isBetween(400, 600);
        List<String> more = new ArrayList<>(ids);
        for (int i = 0; i < 5_000; i++) more.add("q" + i);
        Set<String> heldMore = split.heldOut(more);
        for (String id : ids) assertThat(heldMore.contains(id)).isEqualTo(held.contains(id));
    }

    @Test
    void smallRunsHoldOutOneAndTrainOnOne() {
        EvalSplit split = new EvalSplit(0.05);
        List<String> two = List.of("a", "b");
        assertThat(two).noneMatch(split::isHeldOut);
        Set<String> held = split.heldOut(two);
        assertThat(held).hasSize(1);
        // the one with the lower hash, whatever the order the prompts come in
        String low = Long.compareUnsigned(EvalSplit.hash("a"), EvalSplit.hash("b")) < 0 ? "a" : "b";
        assertThat(held).containsExactly(low);
        assertThat(split.heldOut(List.of("b", "a", "b"))).containsExactly(low);

        assertThat(split.heldOut(List.of("only"))).isEmpty();
        assertThat(new EvalSplit(0).heldOut(two)).isEmpty();
        // nearly everything held out by hash: one prompt still trains
        assertThat(new EvalSplit(0.9999).heldOut(List.of("abc", "prompt-1"))).hasSize(1);
    }

    @Test
    void fractionsOutsideTheRangeAreRefused() {
        assertThatThrownBy(() -> new EvalSplit(1)).hasMessageContaining("--eval-fraction");
        assertThatThrownBy(() -> new EvalSplit(-0.1)).hasMessageContaining("--eval-fraction");
        assertThatThrownBy(() -> new EvalSplit(Double.NaN)).hasMessageContaining("--eval-fraction");
    }
}
