package dev.distill4j.guard.watermark;

import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** Keys with secrets drawn from a seed, so tests are repeatable. */
public final class Keys {
    private Keys() {}

    /** The four schemes with their default parameters, for parameterized tests: KGW LeftHash and SelfHash, Gumbel, SynthID. */
    public static Stream<Arguments> schemes() {
        return Stream.of(
                Arguments.of(WatermarkKey.Scheme.KGW, Map.of()),
                Arguments.of(WatermarkKey.Scheme.KGW, Map.of("hash", "self")),
                Arguments.of(WatermarkKey.Scheme.GUMBEL, Map.of()),
                Arguments.of(WatermarkKey.Scheme.SYNTHID, Map.of()));
    }

    public static WatermarkKey of(WatermarkKey.Scheme scheme, Map<String, Object> params, TextTokenizer tokenizer,
                                  long seed) {
        return of(scheme, params, TokenizerFingerprint.of(tokenizer), seed);
    }

    public static WatermarkKey of(WatermarkKey.Scheme scheme, Map<String, Object> params,
                                  TokenizerFingerprint tokenizer, long seed) {
        byte[] secret = new byte[WatermarkKey.SECRET_BYTES];
        new SplittableRandom(seed).nextBytes(secret);
        return new WatermarkKey(scheme, WatermarkKey.withDefaults(scheme, params), tokenizer, secret);
    }
}
