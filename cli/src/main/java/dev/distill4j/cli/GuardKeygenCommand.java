package dev.distill4j.cli;

import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "keygen", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Make a watermark key file: the scheme, its parameters, the tokenizer's fingerprint and a "
                + "fresh 32-byte secret.",
                "",
                "The file is written readable by its owner only. It prints the key's public id, never the secret: "
                        + "whoever holds the file can detect the watermark, and also forge or strip it. Keep the "
                        + "key as long as you want to detect text served with it."},
        footer = {
                "",
                "Schemes and defaults (docs/guard.md):",
                "  kgw      green list: --gamma 0.25 --delta 2 --hash left --context 1 (--hash self: --context 4)",
                "  gumbel   exp-min sampling, deterministic per prompt: --context 4",
                "  synthid  tournament sampling: --layers 30 --context 4",
                "",
                "Example:",
                "  distill guard keygen --scheme kgw --tokenizer runs/math/teacher \\",
                "      --out teacher.wmkey"})
final class GuardKeygenCommand implements Callable<Integer> {
    @Option(names = "--scheme", required = true, paramLabel = "kgw|gumbel|synthid", description = "Watermark scheme.")
    String scheme;

    @Option(names = "--tokenizer", required = true, paramLabel = "DIR",
            description = "Model folder (tokenizer.json) of the model that will write the text; the key is bound to "
                    + "its tokenizer and records the folder for 'guard detect'.")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "KEY", description = "Key file to write.")
    Path out;

    @Option(names = "--force", description = "Overwrite an existing key file (text served with the old key can then "
            + "no longer be detected).")
    boolean force;

    @Option(names = "--gamma", paramLabel = "G", description = "kgw: green share of the vocabulary, in (0, 1).")
    Double gamma;

    @Option(names = "--delta", paramLabel = "D", description = "kgw: logit bias of green tokens, > 0.")
    Double delta;

    @Option(names = "--hash", paramLabel = "left|self", description = "kgw: LeftHash (the previous h tokens seed "
            + "the green list) or SelfHash (min-hash over the window and the candidate itself).")
    String hash;

    @Option(names = "--context", paramLabel = "H", description = "Tokens before the next one that key the PRF "
            + "(all schemes), 1..64.")
    Integer context;

    @Option(names = "--layers", paramLabel = "M", description = "synthid: tournament layers (g-values per token), "
            + "1..64.")
    Integer layers;

    @Override
    public Integer call() throws Exception {
        WatermarkKey.Scheme s;
        try {
            s = WatermarkKey.Scheme.parse(scheme);
        } catch (RuntimeException e) {
            throw new UserError("--scheme: " + e.getMessage(), Errors.USAGE);
        }
        Map<String, Object> params = new LinkedHashMap<>();
        only(s, WatermarkKey.Scheme.KGW, "--gamma", gamma, "gamma", params);
        only(s, WatermarkKey.Scheme.KGW, "--delta", delta, "delta", params);
        only(s, WatermarkKey.Scheme.KGW, "--hash", hash, "hash", params);
        only(s, WatermarkKey.Scheme.SYNTHID, "--layers", layers, "layers", params);
        if (context != null) params.put("context", context);
        if (Files.exists(out) && !force) {
            throw new UserError(out + " already exists; a new key cannot detect text served with the old one. Give "
                    + "another --out, or --force to replace it");
        }
        if (Files.isDirectory(out)) throw new UserError("--out " + out + " is a folder; give a file name");
        if (!Files.isDirectory(tokenizer) && !Files.isRegularFile(tokenizer)) {
            throw new UserError("--tokenizer " + tokenizer + " does not exist; give the model folder (with "
                    + "tokenizer.json) of the model that will write the text");
        }
        HfTokenizer tok = HfTokenizer.load(tokenizer);
        WatermarkKey key = WatermarkKey.generate(s, params, tok);
        key.write(out, Files.isDirectory(tokenizer) ? tokenizer : tokenizer.toAbsolutePath().getParent());
        System.out.println("wrote " + out + ": " + WatermarkOption.describe(Watermark.of(key)));
        System.out.println("  tokenizer " + key.tokenizer().shortId() + " (" + key.tokenizer().vocabSize()
                + " tokens) of " + tokenizer);
        System.out.println("  the file holds the secret (owner-only permissions): keep it, and keep it private");
        return 0;
    }

    /** A scheme parameter, refused for the schemes that have no such parameter. */
    private static void only(WatermarkKey.Scheme s, WatermarkKey.Scheme owner, String flag, Object value, String name,
                             Map<String, Object> params) {
        if (value == null) return;
        if (s != owner) {
            throw new UserError(flag + " is a parameter of " + owner.id + ", not of " + s.id, Errors.USAGE);
        }
        params.put(name, value);
    }
}
