package dev.distill4j.cli;

import dev.distill4j.embed.EmbedCorpus;
import dev.distill4j.embed.StudentSentences;
import dev.distill4j.embed.encoder.Int8Encoder;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write an int8 copy of an ONNX sentence encoder (a layers student, a built-in teacher, or any "
                + "ONNX encoder folder) that ONNX Runtime runs about twice as fast on CPUs with int8 dot products "
                + "(VNNI; an eleven-layer student of bge-small runs at 2.6-2.8x the float teacher on a Xeon with "
                + "AMX, 2.0-2.3x on an AMD EPYC without it; docs/benchmarks.md).",
                "",
                "Every dense layer's weights become int8 (one scale per output column) and its input is quantised "
                        + "to uint8 per batch as it arrives (dynamic quantisation, as ONNX Runtime's quantize_dynamic). "
                        + "Encoders carry a few activation channels ten or more times larger than the rest, which one "
                        + "uint8 range per tensor handles badly; SmoothQuant moves that range into the weights, with "
                        + "per-channel scales measured on --calibration-sentences sentences of your domain. "
                        + "Attention products, LayerNorm, GELU and the embeddings stay float; the GELU is written in "
                        + "its tanh form (ONNX Runtime's FastGelu, within 5e-4 of the erf GELU), a sixth of an int8 "
                        + "encoder's time in the erf form and two thirds of that in the tanh form (--exact-gelu keeps erf).",
                "",
                "What int8 still loses is mostly the rounding of the GELU outputs, whose range differs from token to "
                        + "token, so each token gets its own range there (recall@10 against float bge-small, one range "
                        + "per batch -> one per token: bge-small's int8 copy 0.927 -> 0.955, an eleven-layer student's "
                        + "0.855 -> 0.864), at 0-3%% of the speed; --no-token-ranges keeps one range per batch.",
                "",
                "Tokenizer, pooling and any safetensors are copied; quantization.json says what was done. Score the "
                        + "result with 'distill embed eval'."},
        footer = {"", "Examples:",
                "  distill embed quantize --model students/bge-layers \\",
                "      --out students/bge-layers-int8",
                "  distill embed quantize --model bge-small-en-v1.5 --out models/bge-int8 \\",
                "      --calibration my-texts.txt",
                "  distill embed eval --teacher bge-small-en-v1.5 \\",
                "      --student students/bge-layers-int8"})
final class EmbedQuantizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|ID",
            description = "Encoder to quantise: a folder with model.onnx (or onnx/model.onnx) and tokenizer.json, or a "
                    + "built-in teacher (bge-small-en-v1.5, all-minilm-l6-v2).")
    String model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "New folder for the int8 model.")
    Path out;

    @Option(names = "--calibration", paramLabel = "FILE",
            description = "Sentences like the ones the model will embed (lines or JSONL with \"text\"); default: the "
                    + "real-text corpus's training sentences (distill embed corpus).")
    Path calibration;

    @Option(names = "--calibration-sentences", defaultValue = "" + Int8Encoder.DEFAULT_CALIBRATION, paramLabel = "N",
            description = "How many calibration sentences to run. Default: ${DEFAULT-VALUE}.")
    int calibrationSentences;

    @Option(names = "--alpha", defaultValue = "" + Int8Encoder.DEFAULT_ALPHA, paramLabel = "A",
            description = "SmoothQuant strength in (0, 1): how much of the activations' range moves into the "
                    + "weights. Default: ${DEFAULT-VALUE} (best of 0.5-0.9 on bge-small, docs/embed.md).")
    double alpha;

    @Option(names = "--no-smooth", description = "Plain dynamic int8, no calibration (less faithful; docs/embed.md).")
    boolean noSmooth;

    @Option(names = "--token-ranges", negatable = true, description = "Quantise the input of every down-projection "
            + "(the feed-forward output, which reads the GELU) with one uint8 range per token (the default) or, with "
            + "--no-token-ranges, one per batch.")
    Boolean tokenRanges;   // null: not given, so the default (on), and no note if the model has nothing to apply it to

    @Option(names = "--exact-gelu", description = "Keep the erf GELU. By default it becomes its tanh form (ONNX "
            + "Runtime's FastGelu), which differs by under 5e-4, a tenth of int8's step there, and makes the int8 "
            + "model about 5%% faster.")
    boolean exactGelu;

    @Override
    public Integer call() throws Exception {
        if (calibrationSentences < 1) throw new UserError("--calibration-sentences must be at least 1");
        List<String> sentences = List.of();
        if (!noSmooth) {
            List<String> read = calibration != null ? EmbedCorpus.read(calibration)
                    : StudentSentences.real(null).train(calibrationSentences);
            sentences = read.subList(0, Math.min(read.size(), calibrationSentences));
            System.err.printf(Locale.ROOT, "calibrating on %d sentences from %s%n", sentences.size(),
                    calibration != null ? calibration : "the real-text corpus's training set");
        }
        long t0 = System.nanoTime();
        Int8Encoder.Result r = Int8Encoder.write(model, out, sentences,
                new Int8Encoder.Recipe(alpha, tokenRanges != Boolean.FALSE, exactGelu));
        System.out.printf(Locale.ROOT, "int8 encoder %s: %s, in %.1f s%n", out, r.summary(), (System.nanoTime() - t0) / 1e9);
        if (tokenRanges == Boolean.TRUE && r.note() != null) System.err.println(r.note());
        System.out.println("  score it: distill embed eval --teacher TEACHER --student " + out);
        return 0;
    }
}
