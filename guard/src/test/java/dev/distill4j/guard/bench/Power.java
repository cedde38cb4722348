package dev.distill4j.guard.bench;

import dev.distill4j.eval.AnswerExtractor;
import dev.distill4j.guard.detect.Detector;
import dev.distill4j.guard.detect.TokenScores;
import dev.distill4j.guard.detect.TupleSet;
import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.local.LocalModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Power and quality cost of each scheme on the house teacher's watermarked answers ({@link TeacherSamples}).
 *
 * <pre>  Power TEACHER_DIR OUT_DIR [NLL_ANSWERS=400]     (reads OUT_DIR/samples-{none,SCHEME}.jsonl)</pre>
 * {@code -DkeyIndex=N}: the samples were made with key N ({@link TeacherSamples}).
 *
 * <ul>
 *   <li>per answer: its p-value, scored after its prompt (the detector's {@code --prompt} use);</li>
 *   <li>tokens needed for p &lt; 10⁻⁶: the answers in a shuffled order are read as one stream with one tape
 *       (what detection over a user's traffic does); at the token where the pooled p first drops below 10⁻⁶ the
 *       count of generated tokens read is recorded, and a new stream starts at the next answer. The distribution
 *       of those counts is the figure;</li>
 *   <li>quality: accuracy of the sampled answers against the task's answer (eval's {@link AnswerExtractor}), with
 *       a 95 % interval, and the mean NLL per token of the answers under the unwatermarked teacher, against the
 *       same for unwatermarked samples of the same prompts.</li>
 * </ul>
 */
public final class Power {
    static final double THRESHOLD_LN = Math.log(1e-6);

    public static void main(String[] a) throws Exception {
        Path dir = Path.of(a[1]);
        int nllSamples = a.length > 2 ? Integer.parseInt(a[2]) : 400;
        try (LocalModel m = LocalModel.load(Path.of(a[0]))) {
            List<Bench.Sample> none = Bench.readSamples(dir.resolve("samples-none.jsonl"));
            for (Map.Entry<String, WatermarkKey> e : Bench.schemes(m.tokenizer()).entrySet()) {
                Path f = dir.resolve("samples-" + e.getKey() + ".jsonl");
                if (!Files.exists(f)) continue;
                List<Bench.Sample> samples = Bench.readSamples(f);
                Watermark wm = Bench.watermark(e.getValue(), e.getKey().hashCode(), Long.getLong("keyIndex", 0));
                report(e.getKey(), wm, samples, none, m, nllSamples);
            }
        }
    }

    static void report(String name, Watermark wm, List<Bench.Sample> samples, List<Bench.Sample> none, LocalModel m,
                       int nllSamples) {
        long tokens = samples.stream().mapToLong(s -> s.ids().length).sum();
        System.out.printf(Locale.ROOT, "%n== %s: %d answers, %d tokens (%.1f per answer)%n", name, samples.size(),
                tokens, tokens / (double) samples.size());
        // one answer alone
        double[] lnP = new double[samples.size()];
        int alone = 0;
        double sum = 0;
        long scored = 0;
        for (int i = 0; i < samples.size(); i++) {
            Bench.Sample s = samples.get(i);
            TokenScores sc = Detector.score(wm, join(s), s.promptIds().length, new TupleSet());
            lnP[i] = sc.pValue(wm).ln();
            if (lnP[i] < THRESHOLD_LN) alone++;
            sum += sc.total();
            scored += sc.scored();
        }
        System.out.printf(Locale.ROOT, "  %s %.3f per scored token (H0: %.3f); %.1f %% of the answer tokens scored "
                + "(the rest repeat a tuple of the same answer or its prompt)%n", wm.scoreName(), sum / scored,
                wm.nullMean(), 100.0 * scored / tokens);
        double[] sorted = lnP.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "  one answer: median p %s, p < 1e-6 for %d/%d%n",
                new PValue(sorted[sorted.length / 2]), alone, samples.size());
        // streams of answers until p < 1e-6
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) order.add(i);
        Collections.shuffle(order, new Random(1));
        List<Integer> needed = new ArrayList<>(), neededScored = new ArrayList<>(), answers = new ArrayList<>();
        TupleSet tape = new TupleSet();
        double total = 0;
        long n = 0, read = 0;
        int used = 0;
        for (int idx : order) {
            Bench.Sample s = samples.get(idx);
            TokenScores sc = Detector.score(wm, join(s), s.promptIds().length, tape);
            used++;
            int last = s.promptIds().length;
            boolean hit = false;
            for (int k = 0; k < sc.scored(); k++) {
                total += sc.scores()[k];
                n++;
                if (wm.pValue(total, n).ln() < THRESHOLD_LN) {
                    read += sc.positions()[k] - s.promptIds().length + 1;
                    needed.add((int) read);
                    neededScored.add((int) n);
                    answers.add(used);
                    hit = true;
                    break;
                }
            }
            if (hit) {
                tape = new TupleSet();
                total = 0;
                n = 0;
                read = 0;
                used = 0;
            } else {
                read += s.ids().length;
            }
        }
        System.out.printf(Locale.ROOT, "  tokens needed for p < 1e-6 (%d streams, %d tokens left over): generated "
                        + "tokens median %s [quartiles %s, %s; min %s, max %s]; scored tokens median %s; answers median %s%n",
                needed.size(), read, q(needed, 0.5), q(needed, 0.25), q(needed, 0.75), q(needed, 0), q(needed, 1),
                q(neededScored, 0.5), q(answers, 0.5));
        // quality
        Set<String> ids = new HashSet<>();
        for (Bench.Sample s : samples) ids.add(s.id());
        List<Bench.Sample> base = none.stream().filter(s -> ids.contains(s.id())).toList();
        System.out.printf(Locale.ROOT, "  accuracy: watermarked %s vs unwatermarked %s (same %d prompts, T=1)%n",
                accuracy(samples), accuracy(base), base.size());
        System.out.printf(Locale.ROOT, "  NLL/token under the clean teacher: watermarked %.3f vs unwatermarked %.3f "
                + "(first %d answers each)%n", nll(m, samples, nllSamples), nll(m, base, nllSamples), nllSamples);
    }

    static int[] join(Bench.Sample s) {
        int[] ids = Arrays.copyOf(s.promptIds(), s.promptIds().length + s.ids().length);
        System.arraycopy(s.ids(), 0, ids, s.promptIds().length, s.ids().length);
        return ids;
    }

    static String q(List<Integer> v, double q) {
        if (v.isEmpty()) return "-";
        List<Integer> s = new ArrayList<>(v);
        Collections.sort(s);
        return String.valueOf(s.get((int) Math.min(s.size() - 1, Math.floor(q * s.size()))));
    }

    static String accuracy(List<Bench.Sample> samples) {
        long ok = samples.stream().filter(s -> AnswerExtractor.isCorrect(s.text(), s.gold())).count();
        double[] ci = NullStats.clopperPearson(ok, samples.size());
        return String.format(Locale.ROOT, "%d/%d = %.1f %% [%.1f, %.1f]", ok, samples.size(),
                100.0 * ok / samples.size(), 100 * ci[0], 100 * ci[1]);
    }

    static double nll(LocalModel m, List<Bench.Sample> samples, int max) {
        double sum = 0;
        long n = 0;
        for (Bench.Sample s : samples.subList(0, Math.min(max, samples.size()))) {
            if (s.ids().length == 0) continue;
            sum -= m.scorer().score(s.promptIds(), s.ids(), 0).total();
            n += s.ids().length;
        }
        return sum / n;
    }
}
