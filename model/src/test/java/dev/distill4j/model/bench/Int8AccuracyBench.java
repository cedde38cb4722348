package dev.distill4j.model.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.model.engine.DecodeEngine;
import dev.distill4j.model.engine.Quantization;
import dev.distill4j.model.generate.StepDecoder;
import dev.distill4j.model.local.LocalModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The accuracy cost of int8 weights (not a test; bench/decode/int8-accuracy.sh runs it, docs/benchmarks.md has the
 * figures). For each model folder, teacher-forced over held-out sequences, at every scored position it compares the
 * int8 engine with the F32 engine of the same weights:
 * <ul>
 *   <li>NLL (nats/token) of the actual next token under each, and their difference;</li>
 *   <li>top-1 agreement: how often int8's most likely next token is F32's;</li>
 *   <li>the largest |Δlogit| seen.</li>
 * </ul>
 * Sequences: gold replies of held-out tasks ({@code {"prompt", "rationale"}} JSONL: the chat-rendered prompt, then the
 * reply, only reply tokens scored) and chunks of plain-text files (every token scored).
 *
 * <p>Usage: {@code Int8AccuracyBench --model DIR [--model DIR]... [--tasks FILE --limit N] [--text FILE]...}
 */
public final class Int8AccuracyBench {
    static final int TEXT_CHUNK_CHARS = 600;
    static final int MAX_TOKENS = 256;

    public static void main(String[] args) throws Exception {
        List<Path> models = new ArrayList<>();
        List<Path> texts = new ArrayList<>();
        Path tasks = null;
        int limit = 100;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--model" -> models.add(Path.of(args[i + 1]));
                case "--tasks" -> tasks = Path.of(args[i + 1]);
                case "--limit" -> limit = Integer.parseInt(args[i + 1]);
                case "--text" -> texts.add(Path.of(args[i + 1]));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        for (Path dir : models) {
            try (LocalModel m = LocalModel.load(dir)) {
                DecodeEngine f32 = DecodeEngine.of(m.model(), Quantization.F32);
                DecodeEngine int8 = DecodeEngine.of(m.model(), Quantization.INT8);
                System.out.printf("%s: %,d parameters, weights read per token %.2f MB (F32) / %.2f MB (int8)%n", dir,
                        m.parameterCount(), f32.streamedBytes() / 1e6, int8.streamedBytes() / 1e6);
                if (tasks != null) {
                    List<int[]> seqs = new ArrayList<>();
                    List<Integer> from = new ArrayList<>();
                    for (String line : Files.readAllLines(tasks)) {
                        if (line.isBlank() || seqs.size() >= limit) continue;
                        JsonNode t = Json.MAPPER.readTree(line);
                        int[] prompt = m.hasChatTemplate() ? m.encodeChat(List.of(Message.user(t.get("prompt").asText())))
                                : m.encodeText(t.get("prompt").asText());
                        int[] reply = m.tokenizer().encode(t.get("rationale").asText(), false);
                        seqs.add(concat(prompt, reply));
                        from.add(prompt.length);
                    }
                    report("held-out tasks " + tasks.getFileName() + " (" + seqs.size() + ", reply tokens)",
                            compare(f32, int8, seqs, from));
                }
                for (Path text : texts) {
                    String s = Files.readString(text);
                    List<int[]> seqs = new ArrayList<>();
                    List<Integer> from = new ArrayList<>();
                    for (int at = 0; at + TEXT_CHUNK_CHARS <= s.length() && seqs.size() < limit; at += TEXT_CHUNK_CHARS) {
                        seqs.add(m.encodeText(s.substring(at, at + TEXT_CHUNK_CHARS)));
                        from.add(1);
                    }
                    report("text " + text + " (" + seqs.size() + " chunks of " + TEXT_CHUNK_CHARS + " chars)",
                            compare(f32, int8, seqs, from));
                }
            }
        }
    }

    record Result(long positions, double nllF32, double nllInt8, long agree, double maxDelta) {}

    /** Scores positions [from, length) of each sequence (the token at p given the tokens before it). */
    static Result compare(StepDecoder a, StepDecoder b, List<int[]> seqs, List<Integer> from) {
        long n = 0, agree = 0;
        double nllA = 0, nllB = 0, maxDelta = 0;
        for (int s = 0; s < seqs.size(); s++) {
            int[] ids = Arrays.copyOf(seqs.get(s), Math.min(MAX_TOKENS, seqs.get(s).length));
            int start = Math.max(1, from.get(s));
            if (start >= ids.length) continue;
            try (StepDecoder.State sa = a.newState(); StepDecoder.State sb = b.newState()) {
                float[] la = a.prefill(sa, Arrays.copyOf(ids, start));
                float[] lb = b.prefill(sb, Arrays.copyOf(ids, start));
                for (int p = start; ; p++) {
                    nllA -= logSoftmaxAt(la, ids[p]);
                    nllB -= logSoftmaxAt(lb, ids[p]);
                    if (argmax(la) == argmax(lb)) agree++;
                    for (int v = 0; v < la.length; v++) maxDelta = Math.max(maxDelta, Math.abs(la[v] - lb[v]));
                    n++;
                    if (p + 1 == ids.length) break;
                    la = a.step(List.of(sa), new int[] {ids[p]})[0];
                    lb = b.step(List.of(sb), new int[] {ids[p]})[0];
                }
            }
        }
        return new Result(n, nllA / n, nllB / n, agree, maxDelta);
    }

    static void report(String what, Result r) {
        System.out.printf("  %s: %,d positions; NLL F32 %.4f, int8 %.4f (Δ %+.4f nats/token, %+.2f %%); "
                        + "top-1 agreement %.2f %%; max |Δlogit| %.3f%n", what, r.positions(), r.nllF32(), r.nllInt8(),
                r.nllInt8() - r.nllF32(), 100 * (r.nllInt8() - r.nllF32()) / r.nllF32(),
                100.0 * r.agree() / r.positions(), r.maxDelta());
    }

    static double logSoftmaxAt(float[] logits, int id) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) max = Math.max(max, x);
        double sum = 0;
        for (float x : logits) sum += Math.exp(x - max);
        return logits[id] - max - Math.log(sum);
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
