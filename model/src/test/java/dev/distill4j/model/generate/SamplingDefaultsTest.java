package dev.distill4j.model.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.distill4j.model.config.GenerationConfig;
import org.junit.jupiter.api.Test;

class SamplingDefaultsTest {
    private static GenerationConfig config(Double t, Double p, Integer k, Boolean doSample, Integer maxNew) {
        return new GenerationConfig(null, null, null, t, p, k, doSample, maxNew, null);
    }

    private static final GenerationConfig NONE = config(null, null, null, null, null);

    @Test
    void theRequestWinsThenGenerationConfigThenOpenAisDefaults() {
        var c = SamplingDefaults.resolve(NONE, null, null, null, 3L, false);
        assertThat(c).isEqualTo(new SamplingDefaults.Choice(1.0, 0, 1.0, 3, false));
        var qwen = config(0.7, 0.8, 20, true, 512);
        assertThat(SamplingDefaults.resolve(qwen, null, null, null, 3L, false))
                .isEqualTo(new SamplingDefaults.Choice(0.7, 20, 0.8, 3, false));
        assertThat(SamplingDefaults.resolve(qwen, 0.2, 0.5, 4, 3L, false))
                .isEqualTo(new SamplingDefaults.Choice(0.2, 4, 0.5, 3, false));
        // sampling values without do_sample are used (vLLM); do_sample false is greedy unless a temperature is given
        assertThat(SamplingDefaults.resolve(config(0.6, null, null, null, null), null, null, null, 3L, false)
                .temperature()).isEqualTo(0.6);
        assertThat(SamplingDefaults.resolve(config(0.6, null, null, false, null), null, null, null, 3L, false)
                .isGreedy()).isTrue();
        assertThat(SamplingDefaults.resolve(config(0.6, null, null, false, null), 0.9, null, null, 3L, false)
                .temperature()).isEqualTo(0.9);
        assertThat(SamplingDefaults.maxNewTokens(null, qwen, 256)).isEqualTo(512);
        assertThat(SamplingDefaults.maxNewTokens(7, qwen, 256)).isEqualTo(7);
        assertThat(SamplingDefaults.maxNewTokens(null, NONE, 256)).isEqualTo(256);
    }

    @Test
    void greedyIsOneNormalForm() {
        var greedy = new SamplingDefaults.Choice(0, 0, 1, 3, false);
        assertThat(SamplingDefaults.resolve(NONE, 0.0, 0.9, 5, 3L, false)).isEqualTo(greedy);
        assertThat(SamplingDefaults.resolve(NONE, 0.7, null, 1, 3L, false)).isEqualTo(greedy);
        assertThat(SamplingDefaults.resolve(NONE, 0.7, 0.0, null, 3L, false)).isEqualTo(greedy);
        assertThat(SamplingDefaults.resolve(NONE, 0.7, 0.9, 5, 3L, true)).isEqualTo(greedy);
        assertThat(SamplingDefaults.resolve(config(null, null, -1, null, null), null, null, null, 3L, false).topK())
                .as("top_k -1 is off").isZero();
    }

    @Test
    void anUnsetSeedIsDrawnAtRandomAndSaysSo() {
        var a = SamplingDefaults.resolve(NONE, 1.0, null, null, null, false);
        var b = SamplingDefaults.resolve(NONE, 1.0, null, null, null, false);
        assertThat(a.seedDrawn()).isTrue();
        assertThat(a.seed()).isNotEqualTo(b.seed());
        assertThat(SamplingDefaults.resolve(NONE, 1.0, null, null, 0L, false).seedDrawn()).isFalse();
    }
}
