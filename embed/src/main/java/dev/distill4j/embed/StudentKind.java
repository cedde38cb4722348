package dev.distill4j.embed;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.embed.encoder.EncoderDistiller;

/**
 * What kind of embedding student to build, from its spec: {@code static} (Model2Vec-style token table),
 * {@code static-tuned} (that table trained on the teacher's sentence embeddings, {@link StaticTuner}) or
 * {@code layers:0,4,8} (a layer-dropped BERT student, {@link EncoderDistiller}).
 */
public sealed interface StudentKind {
    record Static() implements StudentKind {}

    record StaticTuned() implements StudentKind {}

    /** @param layers the teacher layers the student keeps, in order */
    record Layers(int[] layers) implements StudentKind {}

    /** Parses a {@code --student} spec; an unknown one is the user's to fix. */
    static StudentKind parse(String spec) {
        int[] layers = EncoderDistiller.Options.parseLayers(spec);
        if (layers != null) return new Layers(layers);
        return switch (spec) {
            case "static" -> new Static();
            case "static-tuned" -> new StaticTuned();
            default -> throw new InvalidInputException("unknown --student '" + spec
                    + "': use static, static-tuned or layers:0,4,8");
        };
    }
}
