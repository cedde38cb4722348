package dev.distill4j.cli;

import ch.qos.logback.classic.Level;
import dev.distill4j.core.Version;
import org.slf4j.LoggerFactory;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code distill} command. Exit codes: 0 ok, 1 failure, 2 usage error. A user's mistake prints one line; the
 * stack trace only with {@code --verbose}.
 */
@Command(name = "distill", mixinStandardHelpOptions = true, versionProvider = Distill.VersionProvider.class,
        description = {
                "Distil a large teacher model into a small student, in Java.",
                "",
                "A run is one folder (runs/<name>/): harvest fills it with the teacher's answers, later stages "
                        + "train, evaluate and serve a student from it."},
        subcommands = {HarvestCommand.class, ImportCommand.class, InspectCommand.class, ExportCommand.class, ModelCommand.class,
                GenerateCommand.class, TrainCommand.class, EvalCommand.class, ServeCommand.class, EmbedCommand.class,
                GuardCommand.class, PromptsCommand.class, DemoCommand.class},
        footer = {"", "Run 'distill <command> --help' for a command's options.",
                "Shell completion: source <(distill completion)"})
public final class Distill implements Runnable {
    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Show debug logs and full stack traces on errors.")
    void setVerbose(boolean verbose) {
        Distill.verbose = verbose;
        if (verbose) {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                    .setLevel(Level.DEBUG);
        }
    }

    static volatile boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns the exit code; tests call this in-process. */
    public static int execute(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Distill());
        AutoComplete.GenerateCompletion completion = new AutoComplete.GenerateCompletion();
        cl.addSubcommand("completion", new CommandLine(completion));
        cl.getSubcommands().get("completion").getCommandSpec().usageMessage()
                .description("Print a bash/zsh completion script: source <(distill completion)");
        cl.setExecutionExceptionHandler(new Errors());
        cl.setParameterExceptionHandler(new Errors());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpAutoWidth(true);
        return cl;
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            return new String[] {"distill4j " + Version.VERSION, "Java " + Runtime.version()};
        }
    }
}
