package dev.distill4j.guard.bench;

import dev.distill4j.guard.detect.Detector;
import dev.distill4j.guard.detect.TokenScores;
import dev.distill4j.guard.detect.TupleSet;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Null calibration of the detectors (docs/benchmarks.md, "guard"): unwatermarked text, many random keys, and the
 * share of p-values at or below α.
 *
 * <pre>
 *   Calibration corpus  TOKENIZER_DIR CORPUS.txt  TESTS [SEGMENT_TOKENS=200] [POOLED_KEYS=10]
 *   Calibration teacher TOKENIZER_DIR SAMPLES.jsonl TESTS [ignored] [POOLED_KEYS=10]
 * </pre>
 *
 * <p>Units: {@code corpus} tokenizes the paragraphs of a text file (one per line) into one stream and cuts it into
 * segments of SEGMENT_TOKENS tokens (scored without a prompt: the first h tokens of each are not scored);
 * {@code teacher} takes generated answers (bench file of {@link TeacherSamples}), each scored after its prompt.
 * Test i scores unit i mod U under its own key i: the null's randomness is the key, and since every test has an
 * independent key the tests are independent given the text (even two tests of the same unit), so the number of
 * rejections is a sum of independent Bernoullis with P ≤ α each and the Clopper–Pearson interval applies. What
 * the tests share is the text: the result is conditional on this corpus, which is the claim (any fixed text).
 *
 * <p>Per scheme it prints the FPR at α = 1e-2, 1e-3, 1e-4 of the detector's exact p, the KS test of the exact p,
 * of the randomized p̃ ({@link NullStats}) and of a naive p that scores every token without de-duplication, and
 * a pooled test: POOLED_KEYS keys, each scoring all units as one sample (one tape), with and without
 * de-duplication. {@code -Dschemes=a,b} runs only those schemes; {@code -DkeySeed=N} draws another set of keys
 * (a replication).
 */
public final class Calibration {
    public static void main(String[] a) throws Exception {
        String mode = a[0];
        HfTokenizer tok = HfTokenizer.load(Path.of(a[1]));
        int tests = Integer.parseInt(a[3]);
        int segment = a.length > 4 ? Integer.parseInt(a[4]) : 200;
        int pooledKeys = a.length > 5 ? Integer.parseInt(a[5]) : 10;
        long t0 = System.nanoTime();
        List<int[]> units = new ArrayList<>();
        List<Integer> scoreFrom = new ArrayList<>();
        long unitTokens = 0;
        if (mode.equals("corpus")) {
            List<String> paras = Files.readAllLines(Path.of(a[2]));
            int[] nl = tok.encode("\n", false);
            int[] stream = new int[1 << 20];
            int n = 0;
            for (String p : paras) {
                int[] ids = tok.encode(p, false);
                while (n + ids.length + nl.length > stream.length) stream = java.util.Arrays.copyOf(stream, 2 * stream.length);
                System.arraycopy(ids, 0, stream, n, ids.length);
                n += ids.length;
                System.arraycopy(nl, 0, stream, n, nl.length);
                n += nl.length;
            }
            for (int s = 0; s + segment <= n; s += segment) {
                units.add(java.util.Arrays.copyOfRange(stream, s, s + segment));
                scoreFrom.add(0);
            }
            unitTokens = (long) units.size() * segment;
            System.out.printf(Locale.ROOT, "corpus %s: %d paragraphs, %d characters, %d tokens (%.2f chars/token); "
                            + "%d segments of %d tokens; tokenized in %.0f s%n", a[2], paras.size(),
                    paras.stream().mapToLong(String::length).sum(), n,
                    paras.stream().mapToLong(String::length).sum() / (double) n, units.size(), segment,
                    (System.nanoTime() - t0) / 1e9);
        } else if (mode.equals("teacher")) {
            for (Bench.Sample s : Bench.readSamples(Path.of(a[2]))) {
                if (s.ids().length == 0) continue;
                int[] ids = java.util.Arrays.copyOf(s.promptIds(), s.promptIds().length + s.ids().length);
                System.arraycopy(s.ids(), 0, ids, s.promptIds().length, s.ids().length);
                units.add(ids);
                scoreFrom.add(s.promptIds().length);
                unitTokens += s.ids().length;
            }
            System.out.printf(Locale.ROOT, "teacher samples %s: %d answers, %d answer tokens (prompts excluded)%n",
                    a[2], units.size(), unitTokens);
        } else {
            throw new IllegalArgumentException("mode must be corpus or teacher");
        }
        System.out.printf(Locale.ROOT, "%d tests per scheme, each under its own key (each unit tested %.1f times); "
                + "%d pooled keys over all %d units%n", tests, tests / (double) units.size(), pooledKeys, units.size());

        ForkJoinPool pool = new ForkJoinPool(Bench.threads());
        String only = System.getProperty("schemes");
        for (Map.Entry<String, WatermarkKey> e : Bench.schemes(tok).entrySet()) {
            if (only != null && !List.of(only.split(",")).contains(e.getKey())) continue;
            long ts = System.nanoTime();
            WatermarkKey base = e.getValue();
            long seed = e.getKey().hashCode() + 1_000_003L * Long.getLong("keySeed", 0);
            double[] exact = new double[tests], rand = new double[tests], naive = new double[tests];
            long[] scored = new long[tests], skipped = new long[tests];
            pool.submit(() -> IntStream.range(0, tests).parallel().forEach(i -> {
                Watermark wm = Bench.watermark(base, seed, i);
                int[] ids = units.get(i % units.size());
                int from = scoreFrom.get(i % units.size());
                TokenScores sc = Detector.score(wm, ids, from, new TupleSet());
                exact[i] = sc.pValue(wm).value();
                rand[i] = NullStats.randomized(wm, sc.total(), sc.scored(), new SplittableRandom(seed ^ (31L * i + 7)).nextDouble());
                scored[i] = sc.scored();
                skipped[i] = sc.skipped();
                double all = 0;
                int start = from == 0 ? wm.contextWidth() : from;
                for (int t = start; t < ids.length; t++) all += wm.score(ids, t, ids[t]);
                naive[i] = wm.pValue(all, Math.max(0, ids.length - start)).value();
            })).get();
            long scoredSum = java.util.Arrays.stream(scored).sum();
            long offered = scoredSum + java.util.Arrays.stream(skipped).sum();
            System.out.printf(Locale.ROOT, "%n== %s %s: %.1f scored tokens per test (%.1f %% of the offered tokens "
                            + "skipped as repeated tuples)%n", e.getKey(), new java.util.TreeMap<>(base.params()),
                    scoredSum / (double) tests, 100.0 * (offered - scoredSum) / offered);
            for (double alpha : new double[] {1e-2, 1e-3, 1e-4}) {
                System.out.println("  exact p   " + NullStats.fprLine(exact, alpha));
            }
            for (double alpha : new double[] {1e-2, 1e-4}) {
                System.out.println("  naive p   " + NullStats.fprLine(naive, alpha) + "   (no de-duplication)");
            }
            NullStats.Ks ke = NullStats.ks(exact), kr = NullStats.ks(rand), kn = NullStats.ks(naive);
            System.out.printf(Locale.ROOT, "  KS vs U(0,1): exact p D=%.4f (p=%.3g); randomized p̃ D=%.4f (p=%.3g); "
                    + "naive D=%.4f (p=%.3g)%n", ke.d(), ke.pValue(), kr.d(), kr.pValue(), kn.d(), kn.pValue());
            // pooled: every unit under one key, one tape
            double[] pooledP = new double[pooledKeys], pooledNaive = new double[pooledKeys];
            long[] pooledScored = new long[pooledKeys];
            pool.submit(() -> IntStream.range(0, pooledKeys).parallel().forEach(k -> {
                Watermark wm = Bench.watermark(base, ~seed, k);
                TupleSet tape = new TupleSet();
                double total = 0, all = 0;
                long n = 0, nAll = 0;
                for (int u = 0; u < units.size(); u++) {
                    int[] ids = units.get(u);
                    int from = scoreFrom.get(u);
                    TokenScores sc = Detector.score(wm, ids, from, tape);
                    total += sc.total();
                    n += sc.scored();
                    int start = from == 0 ? wm.contextWidth() : from;
                    for (int t = start; t < ids.length; t++) all += wm.score(ids, t, ids[t]);
                    nAll += Math.max(0, ids.length - start);
                }
                pooledP[k] = wm.pValue(total, n).value();
                pooledNaive[k] = wm.pValue(all, nAll).value();
                pooledScored[k] = n;
            })).get();
            StringBuilder ps = new StringBuilder(), pn = new StringBuilder();
            for (int k = 0; k < pooledKeys; k++) {
                ps.append(String.format(Locale.ROOT, " %.2g", pooledP[k]));
                pn.append(String.format(Locale.ROOT, " %.2g", pooledNaive[k]));
            }
            System.out.printf(Locale.ROOT, "  pooled (%d scored of %d tokens per key): p =%s%n", pooledScored[0],
                    unitTokens, ps);
            System.out.println("  pooled without de-duplication: p =" + pn);
            System.out.printf(Locale.ROOT, "  (%.0f s)%n", (System.nanoTime() - ts) / 1e9);
        }
        pool.shutdown();
    }
}
