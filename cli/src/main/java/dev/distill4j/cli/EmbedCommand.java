package dev.distill4j.cli;

import dev.distill4j.core.Json;
import dev.distill4j.embed.CachedEmbeddingModel;
import dev.distill4j.embed.VocabularyExtension;
import dev.distill4j.embed.corpus.RealCorpus;
import dev.distill4j.embed.EmbedEval;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModels;
import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.Pooling;
import dev.distill4j.embed.StaticDistiller;
import dev.distill4j.embed.StaticEmbeddingModel;
import dev.distill4j.embed.encoder.EncoderDistiller;
import dev.distill4j.embed.encoder.EncoderStudent;
import dev.distill4j.embed.encoder.Int8Encoder;
import dev.distill4j.embed.StaticRecipe;
import dev.distill4j.embed.StaticTuner;
import dev.distill4j.embed.StudentKind;
import dev.distill4j.embed.StudentSentences;
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
                + "or your own export) into a static student that needs no transformer at inference, or a BERT student "
                + "that keeps some of the teacher's layers; 'quantize' makes an int8 copy of any ONNX encoder."},
        subcommands = {EmbedCommand.DistillEmbed.class, EmbedCommand.EvalEmbed.class, EmbedHarvestCommand.class,
                EmbedCorpusCommand.class, EmbedQuantizeCommand.class},
        footer = {
                "",
                "Examples:",
                "  distill embed distill --teacher bge-small-en-v1.5 --student static \\",
                "      --dims 256 --out students/bge-static",
                "  distill embed distill --teacher bge-small-en-v1.5 --student static-tuned \\",
                "      --train-corpus my-texts.txt --out students/bge-tuned",
                "  distill embed eval --teacher bge-small-en-v1.5 --student students/bge-static \\",
                "      --corpus my-texts.jsonl",
                "  distill embed distill --teacher https://api.openai.com/v1 \\",
                "      --teacher-model text-embedding-3-small \\",
                "      --run runs/te3 --student static --dims 256 --out students/te3-static",
                "",
                "Run 'distill embed <command> --help' for a command's options."})
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
                description = "Student kind: static; static-tuned (static, then its token table trained on the "
                        + "teacher's embeddings of a corpus); or layers:0,4,8 (a BERT student keeping those teacher "
                        + "layers, trained on the teacher's sentence embeddings, saved in Hugging Face format plus "
                        + "a model.onnx that serve and eval run on ONNX Runtime). Default: ${DEFAULT-VALUE}.")
        String student;

        @CommandLine.ArgGroup(exclusive = false, heading = "%nStudent training (static-tuned and layers:...):%n")
        TrainingOptions training = new TrainingOptions();

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
                        + "default: the first 1,000 evaluation sentences of the real-text corpus (distill embed corpus), from "
                        + "other documents than any training sentence.")
        Path corpus;

        @Option(names = "--no-eval", description = "Skip the fidelity and speed scorecard after building.")
        boolean noEval;

        @Option(names = "--int8", description = "layers: save model.onnx with int8 dense layers (SmoothQuant calibrated "
                + "on " + Int8Encoder.DEFAULT_CALIBRATION + " training sentences, as 'distill embed quantize' writes it), "
                + "about twice as fast on CPUs with VNNI; the scorecard then scores the int8 model. The safetensors "
                + "stay float.")
        boolean int8;

        @Option(names = "--token-ranges", negatable = true, description = "With --int8: quantise the feed-forward "
                + "output's input with one range per token (the default) or, with --no-token-ranges, one per batch. "
                + "Per token keeps the int8 student closer to the float one (an eleven-layer student of bge-small: "
                + "recall@10 0.855 -> 0.864 on real text) at 0-3%% of the speed (docs/embed.md).")
        Boolean tokenRanges;   // null: not given, so the default (on), and no note if the model has nothing to apply it to

        @Option(names = "--exact-gelu", description = "With --int8: keep the erf GELU instead of its faster tanh form "
                + "(as 'distill embed quantize --exact-gelu').")
        boolean exactGelu;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Student folder to write.")
        Path out;

        @Option(names = "--tokenizer", paramLabel = "FILE|ID",
                description = "The student's tokenizer when the teacher has none to share (an API teacher): a "
                        + "tokenizer.json, a folder with one, or a built-in teacher id. Default for API teachers: "
                        + API_TOKENIZER + "'s; each of its tokens is embedded through the API.")
        String tokenizer;

        @CommandLine.Mixin
        EmbedApiOptions api;

        @Override
        public Integer call() throws Exception {
            StudentKind kind = StudentKind.parse(student);
            if (int8 && !(kind instanceof StudentKind.Layers)) {
                throw new UserError("--int8 is for layers students (their model.onnx); a static student has no "
                        + "matrix products to quantise");
            }
            if ((tokenRanges != null || exactGelu) && !int8) {
                throw new UserError((tokenRanges == null ? "--exact-gelu" : tokenRanges ? "--token-ranges" : "--no-token-ranges")
                        + " goes with --int8 (it is how the int8 copy is written)");
            }
            if (kind instanceof StudentKind.Layers l) return distillEncoder(l.layers());
            boolean tuned = kind instanceof StudentKind.StaticTuned;
            StaticTuner.Options tuneOptions = tuned ? training.tunerOptions() : null;
            PrintStream err = System.err;
            var apiOptions = api.forTeacher(teacher);
            if (apiOptions != null && tokenPooling != null) {
                throw new UserError("--token-pooling needs an in-process teacher: an API pools as it does", Errors.USAGE);
            }
            try (EmbeddingModel t = EmbeddingModels.teacher(teacher, apiOptions)) {
                // read after the teacher, so a mistyped teacher is the error a user sees first
                List<String> sentences = noEval ? null : StudentSentences.evaluation(corpus, training.corpusDir);
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
                List<String> evalSentences = sentences != null ? sentences : tuned ? StudentSentences.evaluation(corpus, training.corpusDir) : null;
                List<String> train = tuned ? training.trainingSentences(evalSentences) : null;
                // In-process teachers keep their sentence vectors on disk: the training pass is paid once per sentence
                CachedEmbeddingModel cache = t instanceof OnnxEmbeddingModel ? CachedEmbeddingModel.open(t,
                        training.teacherCache != null ? training.teacherCache : CachedEmbeddingModel.defaultDir(t)) : null;
                EmbeddingModel sentenceTeacher = cache != null ? cache : t;
                StaticEmbeddingModel s;
                if (tuned && t instanceof OnnxEmbeddingModel onnx && tokenizer == null) {
                    // the Model2Vec + tokenlearn recipe: corpus words added, token vectors, PCA, tuned on sentences
                    if (cache.missing(train) > 0) {
                        err.printf(Locale.ROOT, "teacher: %,d of %,d training sentences not embedded yet (kept in %s)%n",
                                cache.missing(train), train.size(), CachedEmbeddingModel.defaultDir(t));
                    }
                    training.announce(train, tuneOptions);
                    StaticRecipe.Result r = StaticRecipe.build(onnx, cache, train, new StaticRecipe.Options(options,
                            training.vocabWords, training.minWordCount, tuneOptions), new StaticRecipe.Listener() {
                        @Override public void vocabulary(int done, int total) { progress.accept(done, total); }

                        @Override public void wordsAdded(int added) {
                            err.printf(Locale.ROOT, "vocabulary: %,d frequent words of the training sentences added as "
                                    + "tokens (seen at least %d times, split by the teacher's tokenizer)%n", added,
                                    training.minWordCount);
                        }

                        @Override public void tuning(StaticTuner.Progress p) { training.report(p); }
                    });
                    r.untuned().close();
                    s = r.model();
                    training.summary(r.tuned(), tuneOptions);
                } else {
                    StaticDistiller.Distilled withBasis = StaticDistiller.distillFor(t, tokenizer, options, progress);
                    s = withBasis.model();
                    System.out.printf(Locale.ROOT, "static student: %d tokens × %d dims (PCA keeps %.1f%% of the variance), "
                                    + "built in %.1f s%n", s.vocabSize(), s.dimension(),
                            100 * s.config().path("pca_explained_variance").asDouble(), (System.nanoTime() - start) / 1e9);
                    if (tuned) {
                        StaticEmbeddingModel tunedModel = training.tune(t, withBasis, tuneOptions, train);
                        s.close();
                        s = tunedModel;
                    }
                }
                s.save(out);
                System.out.println("saved " + out);
                if (sentences != null) report(EmbedEval.run(t, s, sentences), out);
                s.close();
            }
            return 0;
        }

        /** The layer-dropped BERT student: train on the corpus (minus a held-out fifth), score on the held-out part. */
        private int distillEncoder(int[] layers) throws Exception {
            training.encoderOptions(layers, null);                            // bad values fail before any work
            StudentSentences.Layers sentences = StudentSentences.forLayers(corpus, training.trainCorpus,
                    TrainingOptions.or(training.trainSentences, EncoderDistiller.Options.DEFAULT_TRAIN_SENTENCES),
                    training.corpusDir);
            EncoderDistiller.Split split = sentences.split();
            PrintStream err = System.err;
            try (OnnxEmbeddingModel t = OnnxEmbeddingModel.load(teacher)) {
                err.printf(Locale.ROOT, "student %s of %s: %,d training sentences (%s), %,d held out for scoring%n",
                        student, t.name(), split.train().size(), sentences.source(), split.heldOut().size());
                if (sentences.dropped() > 0) {
                    err.printf(Locale.ROOT, "dropped %d training sentences that are also in the evaluation corpus%n",
                            sentences.dropped());
                }
                // checked independently of how the sets were made: a near duplicate would flatter the scores
                var overlap = sentences.overlap();
                err.printf(Locale.ROOT, "overlap of the held-out sentences with training: %d exact, %d near%s%n",
                        overlap.exact(), overlap.near(), overlap.exact() + overlap.near() == 0 ? ""
                                : " (they differ from a training sentence only in case, digits, punctuation or a few "
                                + "words, and flatter the scores: give --corpus sentences of other documents)");
                Path cacheDir = training.teacherCache != null ? training.teacherCache : CachedEmbeddingModel.defaultDir(t);
                EncoderDistiller.Result r = EncoderDistiller.distill(t, teacher, split.train(), split.heldOut(),
                        training.encoderOptions(layers, cacheDir), new EncoderDistiller.Progress() {
                            int lastTenth = -1;

                            @Override
                            public void onTeacher(int done, int missing) {
                                int tenth = (int) (10L * done / missing);
                                if (tenth != lastTenth) {
                                    err.printf(Locale.ROOT, "teacher embedding sentences missing from %s: %d / %d%n",
                                            cacheDir, done, missing);
                                    lastTenth = tenth;
                                }
                            }

                            @Override
                            public void onStep(int epoch, long step, long total, double loss, double rate) {
                                if (step % 10 == 0 || step == total) {
                                    err.printf(Locale.ROOT, "epoch %d step %d/%d loss %.4f lr %.2e%n", epoch, step, total, loss, rate);
                                }
                            }

                            @Override
                            public void onEval(int epoch, double heldOutLoss, double heldOutSpearman) {
                                err.printf(Locale.ROOT, "epoch %d held-out MSE %.4f, Spearman %.4f%n", epoch,
                                        heldOutLoss, heldOutSpearman);
                            }
                        });
                try (EncoderStudent s = r.student()) {
                    s.save(out);
                    double[] c = r.heldOutLoss(), rho = r.heldOutSpearman();
                    String width = s.info().has("ffn_width") ? String.format(Locale.ROOT, ", %d of %d feed-forward neurons each",
                            s.info().get("ffn_width").asInt(), s.info().path("teacher_ffn_width").asInt()) : "";
                    System.out.printf(Locale.ROOT, "BERT student %s: %d of %d teacher layers%s, held-out MSE %.4f -> %.4f, "
                            + "Spearman %.4f -> %.4f, built in %.1f s (%d teacher vectors from the cache)%n", out,
                            layers.length, s.info().path("teacher_num_layers").asInt(), width, c[0], c[c.length - 1], rho[0],
                            rho[rho.length - 1], r.seconds(), r.cachedVectors());
                }
                if (int8) {
                    List<String> calibration = split.train().subList(0, Math.min(split.train().size(), Int8Encoder.DEFAULT_CALIBRATION));
                    Int8Encoder.Result q = Int8Encoder.inPlace(out, calibration,
                            new Int8Encoder.Recipe(Int8Encoder.DEFAULT_ALPHA, tokenRanges != Boolean.FALSE, exactGelu));
                    System.out.println("int8 model.onnx: " + q.summary());
                    if (tokenRanges == Boolean.TRUE && q.note() != null) System.err.println(q.note());
                }
                if (!noEval) {
                    // scored as it will be served: loaded back from the folder (its ONNX export on ONNX Runtime)
                    try (EmbeddingModel saved = EmbeddingModels.student(out)) {
                        report(EmbedEval.run(t, saved, split.heldOut()), out);
                    }
                }
            }
            return 0;
        }
    }

    /**
     * The training settings of the students that train ({@code static-tuned}, {@code layers:...}): the same flags,
     * with defaults that suit each (a static table takes a high learning rate, a transformer a low one).
     */
    static final class TrainingOptions {
        static final int LAYERS_EPOCHS = EncoderDistiller.Options.DEFAULT_EPOCHS;
        static final int LAYERS_BATCH = EncoderDistiller.Options.DEFAULT_BATCH;
        static final int LAYERS_TRAIN_SENTENCES = EncoderDistiller.Options.DEFAULT_TRAIN_SENTENCES;

        @Option(names = "--loss", defaultValue = "cosine", paramLabel = "cosine|mse|contrastive",
                description = "static-tuned: loss against the teacher's sentence embeddings. Default: ${DEFAULT-VALUE}.")
        String loss = "cosine";

        @Option(names = "--epochs", paramLabel = "N", description = "Passes over the training sentences (static-tuned keeps "
                + "the best epoch on a held-out tenth). Default: " + StaticTuner.Options.DEFAULT_EPOCHS
                + " (static-tuned), " + LAYERS_EPOCHS + " (layers).")
        Integer epochs;

        @Option(names = "--lr", paramLabel = "LR", description = "AdamW peak learning rate (warmup, cosine decay). Default: "
                + StaticTuner.Options.DEFAULT_LR + " (static-tuned); layers: by how many of the teacher's layers the "
                + "student keeps, 1e-3 for a third or fewer down to 1e-4 for five sixths or more (a student that starts "
                + "near its teacher wants a low rate; docs/embed.md).")
        Double lr;

        @Option(names = "--batch-size", paramLabel = "N", description = "Sentences per step. Default: "
                + StaticTuner.Options.DEFAULT_BATCH + " (static-tuned), " + LAYERS_BATCH + " (layers).")
        Integer batchSize;

        @Option(names = "--temperature", defaultValue = "" + StaticTuner.Options.DEFAULT_TEMPERATURE,
                description = "static-tuned: temperature of the contrastive loss. Default: ${DEFAULT-VALUE}.")
        double temperature = StaticTuner.Options.DEFAULT_TEMPERATURE;

        @Option(names = "--train-corpus", paramLabel = "FILE",
                description = "Training sentences (lines or JSONL with \"text\"); sentences also in the evaluation corpus "
                        + "are dropped. Default: the real-text corpus's training sentences (distill embed corpus), "
                        + "from other documents than the evaluation sentences (layers: with --corpus and no "
                        + "--train-corpus, four fifths of --corpus train and the rest is held out).")
        Path trainCorpus;

        @Option(names = "--train-sentences", paramLabel = "N", description = "static-tuned: how many training "
                + "sentences of the real-text corpus (distill embed corpus) to train on when there is no --train-corpus "
                + "(and, for layers, no --corpus). Default: " + STATIC_TRAIN_SENTENCES + " (static-tuned), "
                + LAYERS_TRAIN_SENTENCES + " (layers).")
        Integer trainSentences;

        @Option(names = "--vocab-words", paramLabel = "N", defaultValue = "" + VocabularyExtension.DEFAULT_MAX_WORDS,
                description = "static-tuned: add up to N frequent words of the training sentences that the teacher's "
                        + "tokenizer splits as whole tokens of the student (Model2Vec); 0 = keep the teacher's "
                        + "vocabulary. Default: ${DEFAULT-VALUE}.")
        int vocabWords = VocabularyExtension.DEFAULT_MAX_WORDS;

        @Option(names = "--min-word-count", paramLabel = "N", defaultValue = "" + VocabularyExtension.DEFAULT_MIN_COUNT,
                description = "static-tuned: how often a word must occur in the training sentences to be added. "
                        + "Default: ${DEFAULT-VALUE}.")
        int minWordCount = VocabularyExtension.DEFAULT_MIN_COUNT;

        @Option(names = "--structure-weight", paramLabel = "W", description = "Weight of the in-batch "
                + "loss on pairwise cosines (the teacher's similarity structure) added to --loss (static-tuned) or to "
                + "the MSE of the vectors (layers); 0 = off. Default: " + StaticTuner.Options.DEFAULT_STRUCTURE_WEIGHT
                + " (static-tuned), " + EncoderDistiller.Options.DEFAULT_PAIR_WEIGHT + " (layers).")
        Double structureWeight;

        @Option(names = "--hidden-weight", paramLabel = "W", description = "layers: weight of the token-level loss "
                + "that pulls each kept layer's output towards the teacher layer it was copied from, at every token "
                + "(TinyBERT); it runs the whole teacher on each batch, about doubling a step. 0 = off. Default: "
                + "${DEFAULT-VALUE}.", defaultValue = "" + EncoderDistiller.Options.DEFAULT_HIDDEN_WEIGHT)
        double hiddenWeight = EncoderDistiller.Options.DEFAULT_HIDDEN_WEIGHT;

        @Option(names = "--ffn-width", paramLabel = "N", description = "layers: keep N of each layer's feed-forward "
                + "neurons (bge-small has 1536), the ones that contribute most on the first "
                + EncoderDistiller.IMPORTANCE_SENTENCES + " training sentences, before training: width pruning, "
                + "which cuts each layer's cost instead of dropping whole layers (e.g. --student "
                + "layers:0,1,2,3,4,5,6,7,8,9,10,11 --ffn-width 768). Default: all of the teacher's.")
        int ffnWidth;

        @Option(names = "--teacher-cache", paramLabel = "DIR", description = "Where the teacher's sentence vectors "
                + "are kept between runs (in-process teachers). Default: $" + CachedEmbeddingModel.ENV
                + "/<teacher>, else $XDG_CACHE_HOME/distill4j/embed-teacher/<teacher> (~/.cache/…).")
        Path teacherCache;

        @Option(names = "--corpus-dir", paramLabel = "DIR", description = "The real-text corpus folder (distill embed "
                + "corpus) the defaults read. Default: $" + RealCorpus.ENV + ", else the cache folder.")
        Path corpusDir;

        @Option(names = "--seed", defaultValue = "42", description = "Held-out split and batch order. Default: ${DEFAULT-VALUE}.")
        long seed = 42;

        static final int STATIC_TRAIN_SENTENCES = 100_000;

        StaticTuner.Options tunerOptions() {
            return new StaticTuner.Options(StaticTuner.Loss.parse(loss), or(epochs, StaticTuner.Options.DEFAULT_EPOCHS),
                    or(lr, StaticTuner.Options.DEFAULT_LR), or(batchSize, StaticTuner.Options.DEFAULT_BATCH),
                    temperature, 0.1, 1.0, seed, or(structureWeight, StaticTuner.Options.DEFAULT_STRUCTURE_WEIGHT));
        }

        /** The tuning sentences: --train-corpus, or the real corpus's training sentences; never a scoring sentence. */
        List<String> trainingSentences(List<String> eval) throws IOException {
            StudentSentences.Tuning sentences = StudentSentences.forTuning(trainCorpus,
                    or(trainSentences, STATIC_TRAIN_SENTENCES), eval, corpusDir);
            if (sentences.dropped() > 0) {
                System.err.printf(Locale.ROOT, "dropped %d training sentences that are also in the evaluation corpus%n",
                        sentences.dropped());
            }
            return sentences.train();
        }

        /** @param cacheDir where the teacher's vectors are kept ({@link CachedEmbeddingModel}); null = nowhere */
        EncoderDistiller.Options encoderOptions(int[] layers, Path cacheDir) {
            return new EncoderDistiller.Options(layers, or(epochs, LAYERS_EPOCHS), or(lr, EncoderDistiller.Options.DEFAULT_LR),
                    or(batchSize, LAYERS_BATCH), seed, false,
                    or(structureWeight, EncoderDistiller.Options.DEFAULT_PAIR_WEIGHT), cacheDir, hiddenWeight, ffnWidth);
        }

        static <T> T or(T value, T otherwise) { return value != null ? value : otherwise; }

        private int lastTenth = -1;

        void announce(List<String> train, StaticTuner.Options o) {
            System.err.printf(Locale.ROOT, "tuning on %d sentences (%s): %s loss, %d epochs, lr %s, batch %d%n", train.size(),
                    trainCorpus != null ? trainCorpus : "real-text corpus", o.loss().id(), o.epochs(), o.learningRate(), o.batchSize());
        }

        void report(StaticTuner.Progress p) {
            PrintStream err = System.err;
            switch (p) {
                case StaticTuner.Progress.TeacherPass tp -> {
                    int tenth = (int) (10L * tp.done() / tp.total());
                    if (tenth != lastTenth) {
                        err.printf(Locale.ROOT, "teacher embedding the training sentences: %d / %d%n", tp.done(), tp.total());
                        lastTenth = tenth;
                    }
                }
                case StaticTuner.Progress.Epoch e when e.epoch() == 0 ->
                        err.printf(Locale.ROOT, "before tuning: held-out Spearman %.4f%n", e.heldOutSpearman());
                case StaticTuner.Progress.Epoch e -> err.printf(Locale.ROOT,
                        "epoch %d/%d: loss %.5f, held-out Spearman %.4f (%d steps, %.1f s)%n", e.epoch(), e.epochs(),
                        e.trainLoss(), e.heldOutSpearman(), e.steps(), e.seconds());
            }
        }

        void summary(StaticTuner.Result r, StaticTuner.Options o) {
            System.out.printf(Locale.ROOT, "static-tuned student: %s loss, held-out Spearman %.4f → %.4f (best epoch %d of %d; "
                            + "targets allow %.4f), %d sentences (%d held out), %d tokens trained, %.1f s%n", o.loss().id(),
                    r.spearmanBefore(), r.spearmanAfter(), r.bestEpoch(), o.epochs(), r.targetCeilingSpearman(),
                    r.trainSentences() + r.heldOutSentences(), r.heldOutSentences(), r.trainedTokens(), r.seconds());
        }

        StaticEmbeddingModel tune(EmbeddingModel t, StaticDistiller.Distilled d, StaticTuner.Options o, List<String> train)
                throws IOException {
            announce(train, o);
            StaticTuner.Result r = StaticTuner.tune(d.model(), d.pca(), t, train, o, this::report);
            summary(r, o);
            return r.model();
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
                description = "Sentences (lines or JSONL with \"text\"); default: the first 1,000 evaluation sentences of the real-text corpus (distill embed corpus).")
        Path corpus;

        @Option(names = "--json", description = "Print the scorecard as JSON.")
        boolean json;

        @CommandLine.Mixin
        EmbedApiOptions api;

        @Override
        public Integer call() throws Exception {
            if (!Files.isDirectory(student)) throw new UserError("no student folder at " + student);
            List<String> sentences = StudentSentences.evaluation(corpus);
            try (EmbeddingModel t = EmbeddingModels.teacher(teacher, api.forTeacher(teacher));
                 EmbeddingModel s = EmbeddingModels.student(student)) {
                EmbedEval.Scorecard card = EmbedEval.run(t, s, sentences);
                if (json) {
                    System.out.println(Json.writePretty(card));
                    EmbedEval.save(card, student);
                } else {
                    report(card, student);
                }
            }
            return 0;
        }
    }

    /** The student tokenizer of an API teacher unless --tokenizer names another. */
    static final String API_TOKENIZER = EmbeddingModels.DEFAULT_STUDENT_TOKENIZER;

    /** A speed-up as people read it: 2.8×, 146×. */
    static String times(double ratio) {
        return String.format(Locale.ROOT, ratio < 10 ? "%.1f×" : "%.0f×", ratio);
    }

    static void report(EmbedEval.Scorecard c, Path studentDir) throws IOException {
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "%s (%d-d) vs teacher %s (%d-d) on %d sentences%n", c.student(), c.studentDim(),
                c.teacher(), c.teacherDim(), c.sentences());
        out.printf(Locale.ROOT, "  fidelity   Spearman of pairwise cosines %.3f, recall@10 %.3f, linear CKA %.3f%n",
                c.spearman(), c.recallAt10(), c.cka());
        out.printf(Locale.ROOT, "  speed      teacher %,.0f sentences/s, student %,.0f sentences/s: %s faster%n",
                c.teacherSentencesPerSec(), c.studentSentencesPerSec(), times(c.speedup()));
        out.printf(Locale.ROOT, "  latency    one sentence: teacher %.2f ms, student %.3f ms (median)%n",
                c.teacherLatencyMs(), c.studentLatencyMs());
        out.printf(Locale.ROOT, "  machine    %d CPUs, load average %.2f%n", c.cpus(), c.loadAverage());
        out.println("  scorecard  " + EmbedEval.save(c, studentDir));
    }
}
