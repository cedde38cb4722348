package dev.distill4j.guard.audit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.guard.watermark.TokenizerFingerprint;
import dev.distill4j.guard.watermark.Watermark;
import dev.distill4j.guard.watermark.WatermarkKey;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.TokenChooser;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.serve.TinyModel;
import dev.distill4j.train.LossMode;
import dev.distill4j.train.TrainConfig;
import dev.distill4j.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The audit's story in miniature: a small teacher serves answers watermarked with KGW (δ = 4, so a tiny student
 * learns it in a few dozen steps); one student is distilled (SFT) on those answers, a control student from the same
 * initialisation, with the same steps, on the same teacher's unwatermarked answers to the same prompts with the same
 * sampling seeds. The teacher is peaky and writes plain ASCII only, so decoded text re-tokenizes to what was
 * generated (mostly) and fits the chat template.
 */
final class AuditFixture {
    static final int PROMPTS = 80;
    static final int MAX_NEW = 40;

    final Path tokenizerDir;
    final WatermarkKey key;
    final WatermarkKey otherKey;
    final Path watermarkedJsonl;
    final Path controlJsonl;
    final Path watermarkedStudent;
    final Path controlStudent;
    final List<Prompt> prompts;

    AuditFixture(Path dir) throws IOException {
        tokenizerDir = TinyModel.write(dir.resolve("tiny"));      // its tokenizer files; the weights are not used
        Path teacher = saveTeacher(dir.resolve("teacher"), llama(48, 1, 4, 0.2), 11, 2.5f);
        Path studentInit = save(dir.resolve("student-init"), llama(32, 1, 2, 0.02), 12);
        try (HfTokenizer tok = HfTokenizer.load(tokenizerDir)) {
            Map<String, Object> params = Map.of("gamma", 0.25, "delta", 4.0, "context", 1, "hash", "left");
            // fixed secrets: the test's outcome must not depend on the draw of a key
            key = new WatermarkKey(WatermarkKey.Scheme.KGW, params, TokenizerFingerprint.of(tok), secret(1));
            otherKey = new WatermarkKey(WatermarkKey.Scheme.KGW, params, TokenizerFingerprint.of(tok), secret(2));
        }
        prompts = prompts();
        long t0 = System.nanoTime();
        Path wmRun = harvest(dir.resolve("wm-run"), teacher, Watermark.of(key));
        Path controlRun = harvest(dir.resolve("control-run"), teacher, TokenChooser.SAMPLE);
        long t1 = System.nanoTime();
        watermarkedJsonl = wmRun.resolve("texts.jsonl");
        controlJsonl = controlRun.resolve("texts.jsonl");
        watermarkedStudent = train(wmRun, studentInit);
        controlStudent = train(controlRun, studentInit);
        System.out.printf("AuditFixture: harvests %.1f s, training %.1f s%n", (t1 - t0) / 1e9,
                (System.nanoTime() - t1) / 1e9);
    }

    private static byte[] secret(long seed) {
        byte[] b = new byte[WatermarkKey.SECRET_BYTES];
        new java.util.SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static List<Prompt> prompts() {
        String[] words = {"tea", "code", "rain", "maps", "bread", "stars", "music", "glass", "rivers", "salt"};
        List<Prompt> out = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            String text = "Tell me about " + words[i % words.length] + " and " + words[(i * 7 + 3) % words.length]
                    + " number " + i;
            out.add(new Prompt("p" + i, null, List.of(Message.user(text)), null, "prompts.jsonl", i + 1));
        }
        return out;
    }

    /**
     * One sampled answer per prompt (temperature 1, one batch with one seed; only plain ASCII tokens, so every
     * answer is {@link #MAX_NEW} tokens of text that fits the chat template), stored as a run and as texts.jsonl. */
    private Path harvest(Path runDir, Path teacherDir, TokenChooser chooser) throws IOException {
        Files.createDirectories(runDir);
        List<Sample> samples = new ArrayList<>();
        StringBuilder jsonl = new StringBuilder();
        try (LocalModel teacher = LocalModel.load(teacherDir); RunStore store = RunStore.open(runDir)) {
            boolean[] plain = plainTokens(teacher.tokenizer(), teacher.config().vocabSize());
            teacher.setTokenChooser((history, length, logits, params, rng) -> {
                for (int v = 0; v < logits.length; v++) if (!plain[v]) logits[v] = Float.NEGATIVE_INFINITY;
                return chooser.choose(history, length, logits, params, rng);
            });
            List<int[]> ids = prompts.stream().map(p -> teacher.encodeChat(p.chat())).toList();
            List<Generation> batch = teacher.generator().generate(ids, sampling(teacher, 7));
            for (int i = 0; i < prompts.size(); i++) {
                Prompt p = prompts.get(i);
                Generation g = batch.get(i);
                samples.add(Sample.builder(p.id() + "#0", p.id(), 0).status(SampleStatus.DONE).text(g.text())
                        .finishReason("length").capability(Capability.TEXT).usage(g.usage()).latencyMs(1)
                        .attempts(1).build());
                ObjectNode line = Json.object().put("prompt", p.chat().getFirst().content()).put("text", g.text());
                jsonl.append(Json.write(line)).append('\n');
            }
            store.putPrompts(prompts);
            store.upsertSamples(samples);
        }
        Files.writeString(runDir.resolve("texts.jsonl"), jsonl, StandardCharsets.UTF_8);
        return runDir;
    }

    private static dev.distill4j.model.generate.SamplingParams sampling(LocalModel m, long seed) {
        return m.sampling(new LocalModel.SamplingRequest(MAX_NEW, 1.0, 1.0, 0, seed, null, 0, false));
    }

    private static Path train(Path run, Path student) throws IOException {
        return Trainer.run(TrainConfig.builder().setRunDir(run).setStudentDir(student).optLoss(LossMode.SFT)
                .optMaxSteps(60).optWarmupSteps(4).optLr(1e-2).optBatchTokens(2048).optEvalFraction(0)
                .optEvalEvery(0).optSaveEvery(0).optSeed(3).build(), null).student();
    }

    static ModelConfig llama(int hidden, int layers, int heads, double initStd) {
        ObjectNode n = Json.object();
        n.put("model_type", "llama").put("vocab_size", 356).put("hidden_size", hidden)
                .put("intermediate_size", hidden * 2).put("num_hidden_layers", layers)
                .put("num_attention_heads", heads).put("num_key_value_heads", heads).put("rms_norm_eps", 1e-5)
                .put("tie_word_embeddings", false).put("initializer_range", initStd)
                .put("max_position_embeddings", 512).put("eos_token_id", 355);
        return ModelConfig.fromJson(n, "test");
    }

    private Path save(Path dir, ModelConfig config, long seed) throws IOException {
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.init(config, manager, seed)) {
            Checkpoint.save(dir, config, model.parameters(),
                    Checkpoint.SaveOptions.defaults().withDtype(DType.F32).withTokenizerFrom(tokenizerDir));
        }
        return dir;
    }

    /**
     * A random llama whose LM-head rows are zero for every token that is not plain printable ASCII, and whose final
     * norm weight is {@code logitScale}: a few likely plain tokens per context, muted ones at logit 0.
     */
    private Path saveTeacher(Path dir, ModelConfig config, long seed, float logitScale) throws IOException {
        try (NDManager manager = NDManager.newBaseManager(); CausalLM model = CausalLM.init(config, manager, seed);
             HfTokenizer tokenizer = HfTokenizer.load(tokenizerDir)) {
            Map<String, NDArray> weights = new LinkedHashMap<>(model.parameters());
            float[] head = weights.get("lm_head.weight").toFloatArray();
            int hidden = config.hiddenSize();
            for (int id = 0; id < config.vocabSize(); id++) {
                boolean plain = id < tokenizer.vocabSize() && !tokenizer.isSpecial(id)
                        && isPlainText(new String(tokenizer.tokenBytes(id), StandardCharsets.ISO_8859_1));
                if (!plain) Arrays.fill(head, id * hidden, (id + 1) * hidden, 0f);
            }
            weights.put("lm_head.weight", manager.create(head, new Shape(config.vocabSize(), hidden)));
            float[] norm = new float[hidden];
            Arrays.fill(norm, logitScale);
            weights.put("model.norm.weight", manager.create(norm));
            Checkpoint.save(dir, config, weights,
                    Checkpoint.SaveOptions.defaults().withDtype(DType.F32).withTokenizerFrom(tokenizerDir));
        }
        return dir;
    }

    /** Plain printable ASCII tokens: the only ones the teacher may write (special tokens, EOS included, are not). */
    private static boolean[] plainTokens(HfTokenizer tokenizer, int vocab) {
        boolean[] plain = new boolean[vocab];
        for (int id = 0; id < Math.min(vocab, tokenizer.vocabSize()); id++) {
            plain[id] = !tokenizer.isSpecial(id)
                    && isPlainText(new String(tokenizer.tokenBytes(id), StandardCharsets.ISO_8859_1));
        }
        return plain;
    }

    private static boolean isPlainText(String s) {
        if (s.isEmpty()) return false;
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c > 0x7e || "\\{}%#".indexOf(c) >= 0) return false;
        }
        return true;
    }
}
