package dev.distill4j.cli;

import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.embed.EmbedCorpus;
import dev.distill4j.embed.EmbedEval;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.embed.OnnxEmbeddingTeacher;
import dev.distill4j.embed.Pooling;
import dev.distill4j.embed.StaticDistiller;
import dev.distill4j.embed.StaticEmbeddingModel;
import dev.distill4j.embed.encoder.EncoderDistiller;
import dev.distill4j.embed.encoder.EncoderStudent;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Distil sentence-embedding models: an ONNX encoder teacher (bge-small-en-v1.5, all-MiniLM-L6-v2, "
                + "or your own export) into a static student that needs no transformer at inference."},
        subcommands = {EmbedCommand.DistillEmbed.class, EmbedCommand.EvalEmbed.class, EmbedHarvestCommand.class},
        footer = {"", "Examples:",
                "  distill embed distill --teacher bge-small-en-v1.5 --student static --dims 256 --out students/bge-static",
                "  distill embed eval --teacher bge-small-en-v1.5 --student students/bge-static --corpus my-texts.jsonl",
                "  distill embed distill --teacher https://api.openai.com/v1 --teacher-model text-embedding-3-small \\",
                "      --run runs/te3 --student static --dims 256 --out students/te3-static",
                "", "Run 'distill embed <command> --help' for a command's options."})
final class EmbedCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(System.err); }

    static final String TEACHER_HELP = "bge-small-en-v1.5 | all-minilm-l6-v2 (built in, offline) | a folder with "
            + "model.onnx and tokenizer.json (pooling from 1_Pooling/config.json, else mean) | an http(s):// base URL "
            + "of an OpenAI-compatible /v1/embeddings API (with --teacher-model; embeddings are kept in --run).";

    @Command(name = "distill", mixinStandardHelpOptions = true,
            description = {"Build a static (Model2Vec-style) student: the teacher embeds every vocabulary token, PCA "
                    + "reduces to --dims, Zipf/SIF weights favour rare tokens. Writes tokenizer.json, "
                    + "model.safetensors and config.json to --out."})
    static final class DistillEmbed implements Callable<Integer> {
        @Option(names = "--teacher", required = true, paramLabel = "TEACHER", description = TEACHER_HELP)
        String teacher;

        @Option(names = "--student", defaultValue = "static", paramLabel = "KIND",
                description = "Student kind: static, or layers:0,4,8 (a BERT student keeping those teacher layers, "
                        + "trained on the teacher's sentence embeddings). Default: ${DEFAULT-VALUE}.")
        String student;

        @Option(names = "--dims", defaultValue = "256", description = "Student dimensions (PCA). Default: ${DEFAULT-VALUE}.")
        int dims;

        @Option(names = "--vocab-limit", defaultValue = "0",
                description = "Distil only the first N tokens by id (fast trials); 0 = the whole vocabulary.")
        int vocabLimit;

        @Option(names = "--sif", defaultValue = "1e-4",
                description = "SIF coefficient of the Zipf token weights; 0 = unweighted. Default: ${DEFAULT-VALUE}.")
        double sif;

        @Option(names = "--token-pooling", paramLabel = "cls|mean",
                description = "Pooling of each one-token input in the vocabulary pass; default: the teacher's own.")
        String tokenPooling;

        @Option(names = "--corpus", paramLabel = "FILE",
                description = "Sentences (lines or JSONL with \"text\") to score the student on after building; "
                        + "default: a generated set of 1,000 sentences.")
        Path corpus;

        @Option(names = "--no-eval", description = "Skip the fidelity and speed scorecard after building.")
        boolean noEval;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Student folder to write.")
        Path out;

        @Option(names = "--tokenizer", paramLabel = "FILE|ID",
                description = "The student's tokenizer when the teacher has none to share (an API teacher): a "
                        + "tokenizer.json, a folder with one, or a built-in teacher id. Default for API teachers: "
                        + API_TOKENIZER + "'s; each of its tokens is embedded through the API.")
        String tokenizer;

        @CommandLine.Mixin
        EmbedApiOptions api;

        @Option(names = "--epochs", defaultValue = "3", description = "layers: student: training epochs. Default: ${DEFAULT-VALUE}.")
        int epochs;

        @Option(names = "--lr", defaultValue = "1e-4", description = "layers: student: AdamW peak learning rate. Default: ${DEFAULT-VALUE}.")
        double lr;

        @Option(names = "--batch-size", defaultValue = "32", description = "layers: student: sentences per step. Default: ${DEFAULT-VALUE}.")
        int batchSize;

        @Option(names = "--train-size", defaultValue = "3000",
                description = "layers: student without --corpus: generated training sentences. Default: ${DEFAULT-VALUE}.")
        int trainSize;

        @Override
        public Integer call() throws Exception {
            int[] layers = parseLayers(student);
            if (layers != null) return distillEncoder(layers);
            if (!student.equals("static")) throw new UserError("unknown --student '" + student + "': use static or layers:0,4,8");
            List<String> sentences = noEval ? null : sentences(corpus);
            PrintStream err = System.err;
            var apiOptions = api.forTeacher(teacher);
            if (apiOptions != null && tokenPooling != null) {
                throw new UserError("--token-pooling needs an in-process teacher: an API pools as it does", Errors.USAGE);
            }
            try (EmbeddingModel t = EmbeddingModels.teacher(teacher, apiOptions)) {
                long start = System.nanoTime();
                int[] lastPct = {-1};
                var options = new StaticDistiller.Options(dims, vocabLimit, sif,
                        tokenPooling == null ? null : Pooling.parse(tokenPooling));
                java.util.function.BiConsumer<Integer, Integer> progress = (done, total) -> {
                    int pct = (int) (100L * done / total);
                    if (pct / 10 != lastPct[0] / 10) {
                        err.printf(Locale.ROOT, "embedding vocabulary: %d / %d tokens%n", done, total);
                        lastPct[0] = pct;
                    }
                };
                StaticEmbeddingModel s = t instanceof OnnxEmbeddingTeacher onnx && tokenizer == null
                        ? StaticDistiller.distill(onnx, options, progress)
                        : StaticDistiller.distill(t, EmbeddingModels.tokenizerJson(tokenizer == null ? API_TOKENIZER
                                : tokenizer), options, progress);
                s.save(out);
                System.out.printf(Locale.ROOT, "static student %s: %d tokens × %d dims (PCA keeps %.1f%% of the variance), "
                                + "built in %.1f s%n", out, s.vocabSize(), s.dimension(),
                        100 * s.config().path("pca_explained_variance").asDouble(), (System.nanoTime() - start) / 1e9);
                if (sentences != null) report(EmbedEval.run(t, s, sentences), out);
                s.close();
            }
            return 0;
        }

        /** The layer-dropped BERT student: train on the corpus (minus a held-out fifth), score on the held-out part. */
        private int distillEncoder(int[] layers) throws Exception {
            EncoderDistiller.Split split = EncoderDistiller.split(corpus == null ? null : EmbedCorpus.read(corpus), trainSize);
            PrintStream err = System.err;
            try (OnnxEmbeddingTeacher t = OnnxEmbeddingTeacher.load(teacher)) {
                err.printf(Locale.ROOT, "student %s of %s: %d training sentences, %d held out%n", student, t.name(),
                        split.train().size(), split.heldOut().size());
                EncoderDistiller.Result r = EncoderDistiller.distill(t, teacher, split.train(), split.heldOut(),
                        new EncoderDistiller.Options(layers, epochs, lr, batchSize, 42, false), new EncoderDistiller.Progress() {
                            @Override
                            public void onStep(int epoch, long step, long total, double loss, double rate) {
                                if (step % 10 == 0 || step == total) {
                                    err.printf(Locale.ROOT, "epoch %d step %d/%d loss %.4f lr %.2e%n", epoch, step, total, loss, rate);
                                }
                            }

                            @Override
                            public void onEval(int epoch, double heldOutLoss) {
                                err.printf(Locale.ROOT, "epoch %d held-out MSE %.4f%n", epoch, heldOutLoss);
                            }
                        });
                try (EncoderStudent s = r.student()) {
                    s.save(out);
                    double[] c = r.heldOutLoss();
                    System.out.printf(Locale.ROOT, "BERT student %s: %d of %d teacher layers, held-out MSE %.4f -> %.4f, "
                            + "built in %.1f s%n", out, layers.length, r.student().info().path("teacher_num_layers").asInt(),
                            c[0], c[c.length - 1], r.seconds());
                    if (!noEval) report(EmbedEval.run(t, s, split.heldOut()), out);
                }
            }
            return 0;
        }

        private static int[] parseLayers(String spec) {
            try {
                return EncoderDistiller.Options.parseLayers(spec);
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
        }
    }

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = {"Score a student against its teacher without labels: Spearman of pairwise cosine "
                    + "similarities, recall@10 of the teacher's nearest neighbours, linear CKA; and sentences/s and "
                    + "single-sentence latency of both on this machine. Writes scorecard.json into the student folder."})
    static final class EvalEmbed implements Callable<Integer> {
        @Option(names = "--teacher", required = true, paramLabel = "TEACHER", description = TEACHER_HELP)
        String teacher;

        @Option(names = "--student", required = true, paramLabel = "DIR", description = "Student folder written by 'distill embed distill'.")
        Path student;

        @Option(names = "--corpus", paramLabel = "FILE",
                description = "Sentences (lines or JSONL with \"text\"); default: a generated set of 1,000 sentences.")
        Path corpus;

        @Option(names = "--json", description = "Print the scorecard as JSON.")
        boolean json;

        @CommandLine.Mixin
        EmbedApiOptions api;

        @Override
        public Integer call() throws Exception {
            if (!Files.isDirectory(student)) throw new UserError("no student folder at " + student);
            List<String> sentences = sentences(corpus);
            try (EmbeddingModel t = EmbeddingModels.teacher(teacher, api.forTeacher(teacher));
                 EmbeddingModel s = EmbeddingModels.student(student)) {
                EmbedEval.Scorecard card = EmbedEval.run(t, s, sentences);
                if (json) {
                    System.out.println(Json.writePretty(card));
                    AtomicFiles.writeString(student.resolve("scorecard.json"), Json.writePretty(card));
                } else {
                    report(card, student);
                }
            }
            return 0;
        }
    }

    /** The student tokenizer of an API teacher unless --tokenizer names another. */
    static final String API_TOKENIZER = "bge-small-en-v1.5";

    static List<String> sentences(Path corpus) throws IOException {
        return corpus != null ? EmbedCorpus.read(corpus) : EmbedCorpus.synthetic(1000, 42);
    }

    static void report(EmbedEval.Scorecard c, Path studentDir) throws IOException {
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "%s (%d-d) vs teacher %s (%d-d) on %d sentences%n", c.student(), c.studentDim(),
                c.teacher(), c.teacherDim(), c.sentences());
        out.printf(Locale.ROOT, "  fidelity   Spearman of pairwise cosines %.3f, recall@10 %.3f, linear CKA %.3f%n",
                c.spearman(), c.recallAt10(), c.cka());
        out.printf(Locale.ROOT, "  speed      teacher %,.0f sentences/s, student %,.0f sentences/s: %.0f× faster%n",
                c.teacherSentencesPerSec(), c.studentSentencesPerSec(), c.speedup());
        out.printf(Locale.ROOT, "  latency    one sentence: teacher %.2f ms, student %.3f ms (median)%n",
                c.teacherLatencyMs(), c.studentLatencyMs());
        out.printf(Locale.ROOT, "  machine    %d CPUs, load average %.2f%n", c.cpus(), c.loadAverage());
        Path file = studentDir.resolve("scorecard.json");
        AtomicFiles.writeString(file, Json.writePretty(c));
        out.println("  scorecard  " + file);
    }
}
