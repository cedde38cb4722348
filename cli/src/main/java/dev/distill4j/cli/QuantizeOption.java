package dev.distill4j.cli;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.engine.Quantization;
import picocli.CommandLine.Option;

/**
 * {@code --quantize f32|int8} of {@code distill generate}, {@code serve} and {@code eval}: how the inference engine
 * holds the model's weight matrices (docs/engine.md). int8 is quantized at load, in blocks of 32 weights with one
 * scale each; a folder that {@code Int8Checkpoint} saved is int8 already and loads as int8 whatever this says.
 */
final class QuantizeOption {
    @Option(names = "--quantize", paramLabel = "f32|int8", defaultValue = "f32",
            description = "Weights of the inference engine: f32 (as trained) or int8 (blocks of 32 with a scale "
                    + "each: ~3.5x less memory traffic, faster decoding, a small accuracy cost; see docs/engine.md). "
                    + "Default: ${DEFAULT-VALUE}.")
    String quantize;

    Quantization value() {
        try {
            return Quantization.parse(quantize);
        } catch (InvalidInputException e) {
            throw new UserError("--quantize: " + e.getMessage(), Errors.USAGE);
        }
    }
}
