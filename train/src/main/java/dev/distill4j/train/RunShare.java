package dev.distill4j.train;

import dev.distill4j.core.InvalidInputException;
import java.nio.file.Path;

/**
 * One run of a training mixture and its weight: {@code --run DIR[:WEIGHT]}. Each epoch draws the runs' examples in
 * proportion to their weights ({@link dev.distill4j.train.data.Mixture}).
 */
public record RunShare(Path dir, double weight) {
    public RunShare {
        if (dir == null) throw new InvalidInputException("a run folder is required (--run)");
        if (!(weight > 0) || Double.isInfinite(weight)) {
            throw new InvalidInputException("the weight of --run " + dir + " must be a positive number, got " + weight);
        }
    }

    /**
     * {@code DIR} (weight 1) or {@code DIR:WEIGHT}. Only a suffix that parses as a number is a weight, so a folder
     * whose name contains a colon still works.
     */
    public static RunShare parse(String spec) {
        int colon = spec.lastIndexOf(':');
        if (colon > 0 && colon < spec.length() - 1) {
            try {
                double w = Double.parseDouble(spec.substring(colon + 1));
                return new RunShare(Path.of(spec.substring(0, colon)), w);
            } catch (NumberFormatException notAWeight) {
                // part of the folder's name
            }
        }
        return new RunShare(Path.of(spec), 1.0);
    }

    @Override public String toString() { return dir + ":" + weight; }
}
