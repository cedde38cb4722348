package dev.distill4j.guard.bench;

import dev.distill4j.guard.detect.Detector;
import dev.distill4j.guard.stats.PValue;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Detection after edits, on documents made of the house teacher's watermarked answers ({@link TeacherSamples}):
 * consecutive answers joined by blank lines until a document has DOC_TOKENS tokens.
 *
 * <pre>  Robustness TEACHER_DIR OUT_DIR CORPUS.txt [DOC_TOKENS=300] [MIN_WINDOW=32]</pre>
 *
 * Attacks, in token space on the document's ids, then decoded to text and detected by the real text path
 * ({@link Detector#detect}: re-tokenized, no prompt): substitution of 10/20/40 % of the tokens (positions drawn
 * without replacement, each replaced by a uniformly random non-special token) and deletion of 10/20/40 %. Paste:
 * the document inserted at a random paragraph boundary of Debian text (the corpus) three times as long in tokens;
 * the whole text is tested, and WinMax ({@code Localizer}, corrected p) looks for the passage: "found" when its
 * character span overlaps the pasted one with intersection-over-union ≥ 0.5.
 */
public final class Robustness {
    public static void main(String[] a) throws Exception {
        HfTokenizer tok = HfTokenizer.load(Path.of(a[0]));
        Path dir = Path.of(a[1]);
        List<String> human = Files.readAllLines(Path.of(a[2]));
        int docTokens = a.length > 3 ? Integer.parseInt(a[3]) : 300;
        int minWindow = a.length > 4 ? Integer.parseInt(a[4]) : 32;
        int[] normal = java.util.stream.IntStream.range(0, tok.vocabSize()).filter(i -> !tok.isSpecial(i)).toArray();
        for (Map.Entry<String, WatermarkKey> e : Bench.schemes(tok).entrySet()) {
            Path f = dir.resolve("samples-" + e.getKey() + ".jsonl");
            if (!Files.exists(f)) continue;
            Watermark wm = Bench.watermark(e.getValue(), e.getKey().hashCode(), 0);
            Detector det = new Detector(wm, tok, "the house teacher");
            List<String> docs = new ArrayList<>();
            StringBuilder cur = new StringBuilder();
            for (Bench.Sample s : Bench.readSamples(f)) {
                if (s.text().isBlank()) continue;
                if (!cur.isEmpty()) cur.append("\n\n");
                cur.append(s.text());
                if (cur.length() > docTokens && tok.encode(cur.toString(), false).length >= docTokens) {
                    docs.add(cur.toString());
                    cur.setLength(0);
                }
            }
            System.out.printf(Locale.ROOT, "%n== %s: %d documents of >= %d tokens%n", e.getKey(), docs.size(), docTokens);
            SplittableRandom rng = new SplittableRandom(e.getKey().hashCode());
            line("no edit", det, docs, d -> d);
            for (double rho : new double[] {0.1, 0.2, 0.4}) {
                line(String.format(Locale.ROOT, "substitute %.0f %%", 100 * rho), det, docs, d -> {
                    int[] ids = tok.encode(d, false);
                    for (int p : positions(ids.length, rho, rng)) ids[p] = normal[rng.nextInt(normal.length)];
                    return tok.decode(ids, true);
                });
            }
            for (double rho : new double[] {0.1, 0.2, 0.4}) {
                line(String.format(Locale.ROOT, "delete %.0f %%", 100 * rho), det, docs, d -> {
                    int[] ids = tok.encode(d, false);
                    boolean[] drop = new boolean[ids.length];
                    for (int p : positions(ids.length, rho, rng)) drop[p] = true;
                    int[] kept = new int[ids.length];
                    int n = 0;
                    for (int i = 0; i < ids.length; i++) if (!drop[i]) kept[n++] = ids[i];
                    return tok.decode(Arrays.copyOf(kept, n), true);
                });
            }
            paste(det, tok, docs, human, minWindow, rng);
        }
    }

    private static int[] positions(int n, double rho, SplittableRandom rng) {
        int[] all = java.util.stream.IntStream.range(0, n).toArray();
        int k = (int) Math.round(rho * n);
        for (int i = 0; i < k; i++) {
            int j = i + rng.nextInt(n - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return Arrays.copyOf(all, k);
    }

    private static void line(String what, Detector det, List<String> docs, java.util.function.UnaryOperator<String> edit) {
        double[] ln = new double[docs.size()];
        int hit = 0;
        for (int i = 0; i < docs.size(); i++) {
            Detector.Report r = det.detect(List.of(new Detector.Input("d" + i, null, edit.apply(docs.get(i)))), false, 0);
            ln[i] = r.texts().getFirst().pValue().ln();
            if (ln[i] < Power.THRESHOLD_LN) hit++;
        }
        Arrays.sort(ln);
        double[] ci = NullStats.clopperPearson(hit, docs.size());
        System.out.printf(Locale.ROOT, "  %-16s detected at p < 1e-6: %3d/%d = %5.1f %% [%.1f, %.1f], median p %s%n",
                what, hit, docs.size(), 100.0 * hit / docs.size(), 100 * ci[0], 100 * ci[1], new PValue(ln[ln.length / 2]));
    }

    private static void paste(Detector det, HfTokenizer tok, List<String> docs, List<String> human, int minWindow,
                              SplittableRandom rng) {
        int whole = 0, local = 0, found = 0;
        double[] wholeLn = new double[docs.size()], iou = new double[docs.size()];
        for (int i = 0; i < docs.size(); i++) {
            String doc = docs.get(i);
            int need = 3 * tok.encode(doc, false).length;
            List<String> paras = new ArrayList<>();
            int have = 0;
            for (int start = rng.nextInt(human.size()), j = start; have < need; j = (j + 1) % human.size()) {
                paras.add(human.get(j));
                have += tok.encode(human.get(j), false).length + 1;
            }
            int at = rng.nextInt(paras.size() + 1);
            String before = String.join("\n", paras.subList(0, at)), after = String.join("\n", paras.subList(at, paras.size()));
            String text = (before.isEmpty() ? "" : before + "\n") + doc + (after.isEmpty() ? "" : "\n" + after);
            int from = before.isEmpty() ? 0 : before.length() + 1, to = from + doc.length();
            Detector.TextResult r = det.detect(List.of(new Detector.Input("p" + i, null, text)), true, minWindow)
                    .texts().getFirst();
            wholeLn[i] = r.pValue().ln();
            if (wholeLn[i] < Power.THRESHOLD_LN) whole++;
            if (r.passage() != null && r.passage().corrected().ln() < Power.THRESHOLD_LN) local++;
            if (r.passage() != null) {
                int a = r.passageCharStart(), b = a + r.passageText().length();
                double inter = Math.max(0, Math.min(b, to) - Math.max(a, from));
                iou[i] = inter / (Math.max(b, to) - Math.min(a, from));
                if (iou[i] >= 0.5 && r.passage().corrected().ln() < Power.THRESHOLD_LN) found++;
            }
        }
        Arrays.sort(wholeLn);
        double[] sortedIou = iou.clone();
        Arrays.sort(sortedIou);
        int n = docs.size();
        System.out.printf(Locale.ROOT, "  %-16s whole text p < 1e-6: %d/%d (median p %s); WinMax corrected p < 1e-6: "
                        + "%d/%d; passage found (IoU >= 0.5 and p < 1e-6): %d/%d, median IoU %.2f%n", "pasted in 3x human",
                whole, n, new PValue(wholeLn[n / 2]), local, n, found, n, sortedIou[n / 2]);
    }
}
