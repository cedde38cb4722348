package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command's --help renders cleanly. picocli formats descriptions with String.format, so a bare "%" (as in
 * "95 % intervals") makes it print a WARN line and the raw text; that slipped into `distill demo --help` once. And
 * example lines in footers fit 80 columns, where picocli would otherwise break them mid-word.
 */
class HelpTextTest {
    /** A footer line that shows a command: "distill …", optionally after a label ("Accounts:") or a VAR=value. */
    private static final java.util.regex.Pattern EXAMPLE =
            java.util.regex.Pattern.compile("^([A-Za-z ]+:\\s+)?([A-Z_]+=\\S+\\s+)?distill\\s");

    @Test
    void everyCommandsHelpRendersWithoutPicocliWarnings() {
        List<String> problems = new ArrayList<>();
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            visit(Distill.commandLine(), captured, problems);
        } finally {
            System.setErr(err);
        }
        assertThat(problems).isEmpty();
    }

    private static void visit(CommandLine cl, ByteArrayOutputStream captured, List<String> problems) {
        captured.reset();
        String usage = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
        String warnings = captured.toString(StandardCharsets.UTF_8);
        if (warnings.contains("WARN")) problems.add(cl.getCommandSpec().qualifiedName() + ": " + warnings.strip());
        if (usage.isBlank()) problems.add(cl.getCommandSpec().qualifiedName() + ": empty help");
        // picocli wraps at 80 columns, breaking an example command in the middle of a word (prose may wrap)
        for (String line : cl.getCommandSpec().usageMessage().footer()) {
            if (line.length() > 80 && EXAMPLE.matcher(line.strip()).find()) {
                problems.add(cl.getCommandSpec().qualifiedName() + ": example over 80 columns: " + line);
            }
        }
        for (CommandLine sub : cl.getSubcommands().values()) visit(sub, captured, problems);
    }
}
