package dev.distill4j.demo;

import dev.distill4j.core.io.FileTrees;
import dev.distill4j.core.Message;
import dev.distill4j.eval.AnswerExtractor;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.Generator;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.train.LossMode;
import dev.distill4j.train.TrainConfig;
import dev.distill4j.train.TrainListener;
import dev.distill4j.train.TrainSummary;
import dev.distill4j.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The house-teacher experiments of docs/benchmarks.md ("Demo"): trains a teacher on the demo corpus with the given
 * settings and prints its accuracy per task kind on held-out tasks, a few wrong answers of each kind, and the time
 * taken; {@code acc} scores a trained model on gold tasks; {@code nocache} compares cached and uncached greedy
 * decoding. Run through {@code bench/demo/teacher.sh}.
 */
public final class TeacherExperiment {
    public static void main(String[] a) throws Exception {
        if (a[0].equals("nocache")) {
            var gold = CorpusFiles.readGold(Path.of(a[2]));
            try (LocalModel m = LocalModel.load(Path.of(a[1]));
                 ai.djl.ndarray.NDManager nd = ai.djl.ndarray.NDManager.newBaseManager("PyTorch")) {
                for (var t : gold.subList(0, Integer.parseInt(a[3]))) {
                    int[] ids = m.encodeChat(List.of(new Message("user", t.prompt())));
                    List<Integer> seq = new ArrayList<>();
                    for (int id : ids) seq.add(id);
                    for (int k = 0; k < 80; k++) {
                        try (var sub = nd.newSubManager()) {
                            var in = sub.create(seq.stream().mapToLong(Integer::longValue).toArray(), new ai.djl.ndarray.types.Shape(1, seq.size()));
                            var logits = m.model().forward(in, null, null);
                            int next = (int) logits.get("0,-1,:").argMax().getLong();
                            if (m.eosTokenIds().contains(next)) break;
                            seq.add(next);
                        }
                    }
                    int[] gen = seq.subList(ids.length, seq.size()).stream().mapToInt(Integer::intValue).toArray();
                    String text = m.tokenizer().decode(gen, true);
                    var cached = m.generate(ids, new SamplingParams(80, 0, 0, 1, 0, m.eosTokenIds(), List.of(), 0)).text();
                    System.out.println((AnswerExtractor.isCorrect(text, t.answer()) ? "OK  " : "BAD ") + t.kind() + " nocache: " + text.replace("\n", " | "));
                    System.out.println("     cached: " + cached.replace("\n", " | ") + (cached.equals(text) ? "  [same]" : "  [DIFFERENT]"));
                }
            }
            return;
        }
        if (a[0].equals("acc")) {
            var gold = CorpusFiles.readGold(Path.of(a[2]));
            Path tmp = Files.createTempFile("gold", ".jsonl");
            CorpusFiles.writeGold(tmp, gold.subList(0, Integer.parseInt(a[3])));
            accuracy(Path.of(a[1]), tmp);
            return;
        }
        Path out = Path.of(a[0]);
        int n = Integer.parseInt(a[1]), vocab = Integer.parseInt(a[2]), hidden = Integer.parseInt(a[3]),
                layers = Integer.parseInt(a[4]), heads = Integer.parseInt(a[5]), kv = Integer.parseInt(a[6]),
                epochs = Integer.parseInt(a[7]), batch = Integer.parseInt(a[9]), warm = Integer.parseInt(a[10]);
        double lr = Double.parseDouble(a[8]);
        int heldN = a.length > 11 ? Integer.parseInt(a[11]) : 300;
        Path data = out.resolve("data");
        DemoData.Layout l = new DemoData.Layout(data);
        long t0 = System.nanoTime();
        if (!Files.exists(l.manifest())) DemoData.prepare(data, 1, new DemoData.Sizes(n, 50, heldN), System.getProperty("kinds") == null ? TaskCorpus.ALL_KINDS : java.util.Arrays.stream(System.getProperty("kinds").split(",")).map(TaskCorpus.Kind::parse).collect(java.util.stream.Collectors.toCollection(() -> java.util.EnumSet.noneOf(TaskCorpus.Kind.class))), vocab);
        System.out.printf("corpus %.1fs%n", (System.nanoTime() - t0) / 1e9);
        Path init = out.resolve("init");
        FileTrees.delete(init);
        var r = ModelInit.create(new ModelInit.Spec("llama", layers, hidden, heads, kv, null, null, 10000.0, 512, true,
                null, 7L, DType.F32), l.tokenizer(), init, false);
        System.out.println("params " + r.parameters());
        Path run = out.resolve("run");
        FileTrees.delete(run);
        DemoPipeline.copyTree(l.goldRun(), run);
        long t1 = System.nanoTime();
        TrainSummary s = Trainer.run(TrainConfig.builder().setRunDir(run).setStudentDir(init).optLoss(LossMode.SFT)
                .optEpochs(epochs).optLr(lr).optWarmupSteps(warm).optBatchTokens(batch).optMaxSeqLen(256)
                .optEvalFraction(0.02).optEvalEvery(0).optSaveEvery(0).optSeed(1).build(), new TrainListener() {
                    @Override public void onStep(Trainer.StepMetrics m) {
                        if (m.step() % 50 == 0) System.out.printf("step %d/%d loss %.3f %.0f tok/s%n", m.step(),
                                m.totalSteps(), m.loss(), m.tokensPerSecond());
                    }
                });
        System.out.printf("train %.1fs steps %d loss %.3f%n", (System.nanoTime() - t1) / 1e9, s.steps(), s.finalLoss());
        accuracy(s.student(), l.gold("heldout"));
    }

    static void accuracy(Path model, Path goldFile) throws Exception {
        var gold = CorpusFiles.readGold(goldFile);
        long t2 = System.nanoTime();
        Map<String, int[]> byKind = new TreeMap<>();
        try (LocalModel m = LocalModel.load(model)) {
            Generator g = new Generator(m.model(), m.tokenizer());
            SamplingParams p = new SamplingParams(96, 0, 0, 1, 0, m.eosTokenIds(), List.of(), 0);
            int bs = Integer.getInteger("bs", 32);
            for (int i = 0; i < gold.size(); i += bs) {
                var batch = gold.subList(i, Math.min(gold.size(), i + bs));
                List<int[]> ps = new ArrayList<>();
                for (var t : batch) ps.add(m.encodeChat(List.of(new Message("user", t.prompt()))));
                List<Generation> gs = g.generate(ps, p);
                for (int j = 0; j < batch.size(); j++) {
                    var t = batch.get(j);
                    boolean ok = AnswerExtractor.isCorrect(gs.get(j).text(), t.answer());
                    int[] c = byKind.computeIfAbsent(t.kind().id(), k -> new int[2]);
                    c[0] += ok ? 1 : 0;
                    c[1]++;
                    if (!ok && c[1] - c[0] <= 2) System.out.println("WRONG " + t.kind().id() + ": " + t.prompt().replace("\n", " | ") + " => " + gs.get(j).text().replace("\n", " | "));
                }
            }
        }
        int ok = 0, all = 0;
        for (var e : byKind.entrySet()) {
            ok += e.getValue()[0];
            all += e.getValue()[1];
            System.out.printf("%-16s %d/%d %.1f%%%n", e.getKey(), e.getValue()[0], e.getValue()[1], 100.0 * e.getValue()[0] / e.getValue()[1]);
        }
        System.out.printf("overall %d/%d %.1f%%  (gen %.1fs)%n", ok, all, 100.0 * ok / all, (System.nanoTime() - t2) / 1e9);
    }
}
