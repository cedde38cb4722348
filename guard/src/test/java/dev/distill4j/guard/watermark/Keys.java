package dev.distill4j.guard.watermark;

import dev.distill4j.model.tokenizer.TextTokenizer;
import java.util.Map;
import java.util.SplittableRandom;

/** Keys with secrets drawn from a seed, so tests are repeatable. */
public final class Keys {
    private Keys() {}

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
