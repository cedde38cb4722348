package dev.distill4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.train.data.ExampleSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link Trainer#run} checks and loads before the first step: the run and model folders, the student's and the
 * local teacher's weights (the teacher only with the student's exact vocabulary, token by token), the student's EOS
 * ids, and the loss the run resolves {@code --loss auto} to. Every refusal names the flag and what to do.
 */
final class TrainSetup {
    private TrainSetup() {}

    /** The run has a run store, and --student (and --teacher-model) are model folders. */
    static void checkFolders(TrainConfig config) {
        for (RunShare r : config.runs()) {
            if (!Files.isRegularFile(r.dir().resolve(RunStore.FILE))) {
                throw new InvalidInputException("run " + r.dir() + " has no " + RunStore.FILE
                        + ": harvest into it first (distill harvest --run " + r.dir() + " ...), or import a data set"
                        + " (distill import --run " + r.dir() + " ...)");
            }
        }
        for (Path dir : config.teacherModelDir() == null ? List.of(config.studentDir())
                : List.of(config.studentDir(), config.teacherModelDir())) {
            String flag = dir == config.studentDir() ? "--student" : "--teacher-model";
            if (!Files.isRegularFile(dir.resolve(Checkpoint.CONFIG_FILE))) {
                throw new InvalidInputException(flag + " " + dir + " is not a model folder (no config.json):"
                        + " point it at a Hugging Face model folder, or create one with distill model init");
            }
        }
    }

    /** The student, its parameters in memory PyTorch owns. */
    static CausalLM student(TrainConfig config, ModelConfig studentConfig, NDManager manager) throws IOException {
        return CausalLM.fromWeights(studentConfig, torchOwned(Checkpoint.load(config.studentDir(), manager)), manager);
    }

    /** The frozen local teacher of --teacher-model, null without one; refused unless it shares the vocabulary. */
    static CausalLM teacher(TrainConfig config, ModelConfig studentConfig, HfTokenizer studentTokenizer,
            NDManager manager) throws IOException {
        Path dir = config.teacherModelDir();
        if (dir == null) return null;
        ModelConfig teacherConfig = ModelConfig.read(dir);
        String mismatch = null;
        if (teacherConfig.vocabSize() != studentConfig.vocabSize()) {
            mismatch = "its vocabulary has " + teacherConfig.vocabSize() + " entries, the student's "
                    + studentConfig.vocabSize();
        } else {
            try (HfTokenizer teacherTokenizer = HfTokenizer.load(dir)) {
                int n = Math.min(teacherTokenizer.vocabSize(), studentTokenizer.vocabSize());
                if (teacherTokenizer.vocabSize() != studentTokenizer.vocabSize()) {
                    mismatch = "its tokenizer has " + teacherTokenizer.vocabSize() + " tokens, the student's "
                            + studentTokenizer.vocabSize();
                }
                for (int id = 0; id < n && mismatch == null; id++) {
                    if (!Arrays.equals(teacherTokenizer.tokenBytes(id), studentTokenizer.tokenBytes(id))) {
                        mismatch = "token " + id + " is '" + teacherTokenizer.tokenString(id) + "' there and '"
                                + studentTokenizer.tokenString(id) + "' in the student";
                    }
                }
            }
        }
        if (mismatch != null) {
            throw new InvalidInputException("--teacher-model " + dir + " does not share the student's vocabulary ("
                    + mismatch + "): full-logit distillation needs the same tokenizer; drop --teacher-model to train"
                    + " on the run's recorded top-k logprobs or text");
        }
        CausalLM teacher = CausalLM.fromWeights(teacherConfig, torchOwned(Checkpoint.load(dir, manager)), manager);
        teacher.setTrainable(false);
        return teacher;
    }

    /**
     * Copies of loaded tensors in memory PyTorch allocated. The safetensors reader hands PyTorch Java direct buffers
     * (kept alive by the Java wrapper, aligned as the JVM pleases); parameters that are updated in place for the whole
     * run are safer in storage PyTorch owns and aligns, like every tensor the run creates later.
     */
    private static Map<String, NDArray> torchOwned(Map<String, NDArray> loaded) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : loaded.entrySet()) {
            NDArray copy = e.getValue().duplicate();
            copy.setName(e.getKey());
            out.put(e.getKey(), copy);
            e.getValue().close();
        }
        return out;
    }

    /** Ids that end a sampled continuation: generation_config.json's, config.json's and the tokenizer's EOS. */
    static List<Integer> eosIds(TrainConfig config, ModelConfig studentConfig, HfTokenizer tokenizer)
            throws IOException {
        return LocalModel.eosTokenIds(
                GenerationConfig.read(config.studentDir()).orElse(GenerationConfig.of(studentConfig)), studentConfig,
                tokenizer);
    }

    /**
     * The loss --loss resolves to: {@code auto} is full-logit KD with a local teacher, top-k KD when some example
     * has recorded top-k logprobs, SFT otherwise; an explicit choice the data cannot feed is refused.
     */
    static LossMode lossMode(TrainConfig config, ExampleSet data, boolean hasTeacher) {
        boolean anyTopK = data.train().stream().anyMatch(e -> e.kd() != null);
        return switch (config.loss()) {
            case AUTO -> hasTeacher ? LossMode.FULL : anyTopK ? LossMode.TOPK : LossMode.SFT;
            case SFT -> LossMode.SFT;
            case TOPK -> {
                if (!anyTopK) {
                    throw new InvalidInputException("--loss topk needs samples with top-k logprobs aligned to the"
                            + " student's tokens, and run " + config.runDir() + " has none (its teacher gave text only,"
                            + " or no token aligned): use --loss sft, or harvest with --top-logprobs");
                }
                yield LossMode.TOPK;
            }
            case FULL -> {
                if (!hasTeacher) {
                    throw new InvalidInputException("--loss full needs a local teacher: pass --teacher-model DIR"
                            + " (a model with the student's vocabulary)");
                }
                yield LossMode.FULL;
            }
        };
    }
}
