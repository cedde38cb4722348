package dev.distill4j.cli;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Message;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.local.LocalModel;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import dev.distill4j.guard.watermark.Watermark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate text with a local model folder (a student, or any supported Hugging Face model).",
                "",
                "Streams the generated text to stdout as it is generated; finish reason, speed and seed on stderr. "
                        + "What you leave open comes from the model's generation_config.json, then the OpenAI "
                        + "defaults (temperature 1, top-p 1), exactly as 'distill serve' fills a request (vLLM's "
                        + "rule): do_sample false there means greedy. --greedy always picks the most likely token. "
                        + "Generation stops at the model's EOS tokens, a --stop string, or --max-new-tokens."},
        footer = {"", "Examples:",
                "  distill generate --model student/ --prompt \"What is 12 times 7?\" --chat",
                "  distill generate --model models/SmolLM2-135M --prompt \"Once upon a time\" \\",
                "      --temperature 0.8 --top-p 0.95 --seed 1",
                "  distill generate --model student/ --prompt \"The capital of France is\" \\",
                "      --greedy --max-new-tokens 5 --top-logprobs 5",
                "  distill generate --model student/ --prompt \"Hello\" --quantize int8",
                "  echo \"Summarise: ...\" | distill generate --model student/ --prompt - --chat"})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder.")
    Path model;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "Prompt text; - reads stdin.")
    String prompt;

    @Option(names = "--chat", description = "Wrap the prompt as a user turn in the model's chat template (with the "
            + "assistant turn opened), as instruct models expect. Default: raw text.")
    boolean chat;

    @Option(names = "--system", paramLabel = "TEXT", description = "System prompt (with --chat).")
    String system;

    @Option(names = "--max-new-tokens", paramLabel = "N",
            description = "Most tokens to generate (default: generation_config.json's, else "
                    + LocalModel.DEFAULT_MAX_NEW_TOKENS + ").")
    Integer maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", description = "Sample at temperature T (0 = greedy). "
            + "Default: generation_config.json's, else 1.")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling: keep the most likely tokens up to mass P.")
    Double topP;

    @Option(names = "--top-k", paramLabel = "K", description = "Sample from the K most likely tokens only.")
    Integer topK;

    @Option(names = "--seed", paramLabel = "S",
            description = "Sampling seed: the same seed gives the same text. Default: a random one, printed on "
                    + "stderr so the run can be repeated.")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop before this text (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--greedy", description = "Always pick the most likely token (overrides sampling flags).")
    boolean greedy;

    @Option(names = "--top-logprobs", paramLabel = "K", defaultValue = "0",
            description = "After the text, list each generated token with its logprob and the K most likely "
                    + "alternatives.")
    int topLogprobs;

    @Mixin
    WatermarkOption watermark;

    @Mixin
    QuantizeOption quantize;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(model)) throw new UserError("no model folder at " + model);
        if (system != null && !chat) throw new UserError("--system needs --chat", Errors.USAGE);
        if (topLogprobs < 0) throw new UserError("--top-logprobs must be >= 0", Errors.USAGE);
        if (maxNewTokens != null && maxNewTokens < 1) throw new UserError("--max-new-tokens must be >= 1", Errors.USAGE);
        String text = prompt.equals("-") ? stripFinalNewline(new String(System.in.readAllBytes(), StandardCharsets.UTF_8))
                : prompt;
        PrintStream err = System.err;
        long t0 = System.nanoTime();
        try (LocalModel m = LocalModel.load(model, null, quantize.value())) {
            double loadSecs = (System.nanoTime() - t0) / 1e9;
            Watermark wm = watermark.load(m.tokenizer(), "--model " + model);
            if (wm != null) m.setTokenChooser(wm);
            SamplingParams params;
            try {
                params = m.sampling(new LocalModel.SamplingRequest(maxNewTokens, temperature, topP, topK, seed, stop,
                        topLogprobs, greedy));
            } catch (InvalidInputException e) {
                throw new UserError(e.getMessage(), Errors.USAGE);
            }
            int[] ids;
            if (chat) {
                List<Message> msgs = new ArrayList<>();
                if (system != null) msgs.add(Message.system(system));
                msgs.add(Message.user(text));
                ids = m.encodeChat(msgs);
            } else {
                ids = m.encodeText(text);
            }
            if (ids.length == 0) throw new UserError("the prompt is empty: give some text with --prompt");
            long t1 = System.nanoTime();
            PrintStream out = System.out;
            // each delta is whole characters and never the start of a stop string, so it can be shown at once
            Generation g = m.generate(ids, params, (seq, token, delta, position) -> {
                if (!delta.isEmpty()) {
                    out.print(delta);
                    out.flush();
                }
            });
            double secs = Math.max(1e-9, (System.nanoTime() - t1) / 1e9);
            out.println();
            if (topLogprobs > 0) printLogprobs(g);
            System.out.flush();
            err.printf(Locale.ROOT, "finish: %s · %d prompt + %d generated tokens in %.2f s (%.1f tokens/s) · %s · "
                            + "model loaded in %.1f s · engine: %s%n", g.finishReason().openAiName(), g.usage().promptTokens(),
                    g.usage().completionTokens(), secs, g.usage().completionTokens() / secs,
                    params.isGreedy() ? "greedy" : String.format(Locale.ROOT, "T=%.2f top-p=%.2f top-k=%d seed=%d%s",
                            params.temperature(), params.topP(), params.topK(), params.seed(),
                            seed == null ? " (--seed " + params.seed() + " repeats this text)" : ""), loadSecs,
                    m.engineDescription());
            if (wm != null) {
                err.println("watermark: " + WatermarkOption.describe(wm) + (wm.marks(params) ? ""
                        : " — not applied to a greedy pick: this scheme needs sampling to hide in"));
            }
        }
        return 0;
    }

    /** {@code echo} and editors end input with a newline the user did not mean as part of the prompt. */
    private static String stripFinalNewline(String s) {
        if (s.endsWith("\r\n")) return s.substring(0, s.length() - 2);
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    private static void printLogprobs(Generation g) {
        PrintStream out = System.out;
        out.println();
        out.printf(Locale.ROOT, "%-4s %-16s %9s   %s%n", "#", "token", "logprob", "alternatives");
        int i = 0;
        for (TokenPosition p : g.distribution().positions()) {
            StringBuilder alts = new StringBuilder();
            for (TokenLogprob a : p.alternatives()) {
                if (!alts.isEmpty()) alts.append("  ");
                alts.append(show(a)).append(String.format(Locale.ROOT, " %.3f", a.logprob()));
            }
            out.printf(Locale.ROOT, "%-4d %-16s %9.4f   %s%n", i++, show(p.chosen()), p.chosen().logprob(), alts);
        }
    }

    /**
     * The token's text as a quoted, escaped literal, so spaces, newlines and special tokens are visible; a token
     * that is part of a multi-byte character shows its bytes ("\xe2\x80").
     */
    private static String show(TokenLogprob t) {
        String s;
        if (t.bytes().length == 0) {
            s = t.token();
        } else {
            try {
                s = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(t.bytes())).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                StringBuilder hex = new StringBuilder("\"");
                for (byte x : t.bytes()) hex.append(String.format("\\x%02x", x & 0xff));
                return hex.append('"').toString();
            }
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> b.append(c < 0x20 ? String.format("\\x%02x", (int) c) : String.valueOf(c));
            }
        }
        return b.append('"').toString();
    }
}
