package dev.distill4j.cli;

import dev.distill4j.guard.watermark.Gumbel;
import dev.distill4j.guard.watermark.Kgw;
import dev.distill4j.guard.watermark.SynthId;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code --watermark KEY} of {@code distill serve} and {@code distill generate}: the key file's scheme becomes the
 * generator's token chooser. The key must have been made for the model's tokenizer (its PRF hashes token ids).
 */
final class WatermarkOption {
    @Option(names = "--watermark", paramLabel = "KEY",
            description = "Watermark every generated token with this key file (from 'distill guard keygen'); it must "
                    + "be made for this model's tokenizer. See docs/guard.md.")
    Path key;

    /** The scheme of the key, checked against {@code tokenizer}; null without {@code --watermark}. */
    Watermark load(TextTokenizer tokenizer, String what) throws IOException {
        if (key == null) return null;
        WatermarkKey k = WatermarkKey.read(key);
        k.requireTokenizer(tokenizer, what);
        return Watermark.of(k);
    }

    /**
     * "kgw (LeftHash, γ = 0.25, δ = 2, h = 1), key id 3f0a…": the scheme, its parameters and the key's public id.
     * Safe to print and log: never the secret.
     */
    static String describe(Watermark wm) {
        WatermarkKey k = wm.key();
        String params = switch (wm) {
            case Kgw kgw -> String.format(Locale.ROOT, "%s, γ = %s, δ = %s, h = %d", kgw.selfHash() ? "SelfHash"
                    : "LeftHash", num(kgw.gamma()), num(kgw.delta()), kgw.contextWidth());
            case Gumbel g -> "exp-min, h = " + g.contextWidth();
            case SynthId s -> String.format(Locale.ROOT, "tournament, m = %d layers, h = %d", s.layers(),
                    s.contextWidth());
        };
        return k.scheme().id + " (" + params + "), key id " + k.keyId();
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
