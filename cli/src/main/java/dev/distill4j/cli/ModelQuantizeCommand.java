package dev.distill4j.cli;

import ai.djl.ndarray.NDManager;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.engine.Int8Checkpoint;
import dev.distill4j.model.io.ModelInfo;
import dev.distill4j.model.local.LocalModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Save a model with int8 weights, for faster decoding with distill generate, serve and eval.",
                "",
                "Every weight matrix is stored as int8 in blocks of 32 weights with one F32 scale each (like "
                        + "llama.cpp's Q8_0): about 3.5x smaller, and decoding reads 3.5x less memory per token. "
                        + "Norms and biases stay F32; tokenizer, chat template and generation config are copied. "
                        + "The result loads as int8 wherever a model folder is taken (the file format is in "
                        + "docs/engine.md). The same model without saving: --quantize int8 on generate, serve, eval."},
        footer = {"", "Examples:",
                "  distill model quantize --model student/ --out student-int8/",
                "  distill generate --model student-int8/ --prompt \"Hello\""})
final class ModelQuantizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (F32, F16 or BF16).")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "New folder for the int8 model.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(model)) throw new UserError("no model folder at " + model);
        if (Files.exists(out)) throw new UserError(out + " already exists: give a new folder with --out");
        if (Int8Checkpoint.isInt8Folder(model)) throw new UserError(model + " is int8 already");
        long start = System.nanoTime();
        try (NDManager m = NDManager.newBaseManager("PyTorch"); LocalModel loaded = LocalModel.load(model, m)) {
            Int8Checkpoint.save(loaded.model(), model, out);
        } catch (InvalidInputException e) {
            throw new UserError(e.getMessage());
        }
        ModelInfo before = ModelInfo.read(model);
        ModelInfo after = ModelInfo.read(out);
        System.out.printf(Locale.ROOT, "quantized %s → %s (int8, blocks of 32) in %.1f s: weights %,d → %,d bytes%n",
                model, out, (System.nanoTime() - start) / 1e9, before.weightBytes(), after.weightBytes());
        return 0;
    }
}
