package dev.distill4j.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options of the demos that train (or reuse) the house teacher: where it is cached, its seed, its sizes. */
final class HouseTeacherOptions {
    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where the corpus and house teacher are cached, shared by `distill demo` and `distill demo "
                    + "guard` (default: $XDG_CACHE_HOME/distill4j or ~/.cache/distill4j).")
    Path cacheDir;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Corpus and training seed.")
    long seed;

    @Option(names = "--profile", paramLabel = "NAME", defaultValue = "default", hidden = true,
            description = "default, or smoke (tiny sizes, for tests).")
    String profile;

    @Option(names = "--quiet", description = "No progress bars.")
    boolean quiet;

    Path cache() { return cacheDir != null ? cacheDir : DemoCommand.defaultCache(); }

    /** A usage error for a --profile that is neither default nor smoke. */
    UserError unknownProfile() {
        return new UserError("unknown --profile '" + profile + "' (default or smoke)", Errors.USAGE);
    }
}
