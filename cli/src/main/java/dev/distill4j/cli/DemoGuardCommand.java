package dev.distill4j.cli;

import dev.distill4j.demo.DemoPipeline;
import dev.distill4j.demo.GuardDemo;
import dev.distill4j.guard.audit.AuditReport;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "guard", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "The model owner's side, end to end and offline: the house teacher (the distillation demo's, shared "
                        + "through the cache) is served with a KGW watermark; distill4j, as the extractor, harvests "
                        + "it over HTTP and distils students whose training answers are 100 %%, 10 %%, 1 %% and 0 %% "
                        + "watermarked (the 0 %% control learns the same teacher served without the watermark); "
                        + "then the owner audits every student for radioactivity: its next-token predictions on the "
                        + "owner's watermarked answers, each (window, token) tuple scored once, give an exact "
                        + "p-value.",
                "",
                "A student distilled from the watermarked server should be flagged (p < 1e-5); the control must "
                        + "not be (p > 0.01). Writes <run>/guard.key, both harvests, students/<label>/ and "
                        + "guard-demo.json. About 10 minutes on two cores the first time (the house teacher is "
                        + "trained once and cached); reruns reuse everything trained with the same settings."},
        footer = {
                "",
                "Examples:",
                "  distill demo guard",
                "  distill guard audit --key runs/demo-guard/guard.key --watermarked W.jsonl \\",
                "      --suspect STUDENT_DIR"})
final class DemoGuardCommand implements Callable<Integer> {
    @Option(names = "--run", paramLabel = "DIR", defaultValue = "runs/demo-guard",
            description = "Run folder (default ${DEFAULT-VALUE}).")
    Path run;

    @Mixin HouseTeacherOptions house = new HouseTeacherOptions();

    @Option(names = "--watermark", paramLabel = "NAME=VALUE", split = ",",
            description = "The owner's KGW parameters instead of the demo's (gamma=0.25, delta=3, context=1, "
                    + "hash=left), e.g. delta=2 or context=4 or hash=self. A run folder keeps the parameters it was "
                    + "made with.")
    Map<String, String> watermark = new LinkedHashMap<>();

    @Option(names = "--fractions", paramLabel = "F,...", split = ",",
            description = "Shares of watermarked answers in the students' training data, one student each "
                    + "(default 1,0.1,0.01,0; 0 is the control and must be last).")
    double[] fractions;

    @Option(names = "--student-steps", paramLabel = "N", hidden = true,
            description = "Optimizer steps of each student (experiments).")
    Integer studentSteps;

    @Override
    public Integer call() throws Exception {
        GuardDemo.Settings settings = switch (house.profile) {
            case "default" -> GuardDemo.Settings.DEFAULT;
            case "smoke" -> GuardDemo.Settings.SMOKE;
            default -> throw house.unknownProfile();
        };
        Map<String, Object> params = new LinkedHashMap<>();
        watermark.forEach((k, v) -> params.put(k, number(v)));
        if (!params.isEmpty()) settings = settings.withKeyParams(params);
        if (fractions != null) {
            if (fractions.length < 2 || fractions[fractions.length - 1] != 0
                    || java.util.Arrays.stream(fractions).anyMatch(f -> f < 0 || f > 1)) {
                throw new UserError("--fractions needs at least two shares in [0, 1], the last 0 (the control)",
                        Errors.USAGE);
            }
            settings = settings.withFractions(fractions);
        }
        if (studentSteps != null) settings = settings.withStudentSteps(studentSteps);
        Path cache = house.cache();
        long start = System.nanoTime();
        DemoCommand.Stages stages = new DemoCommand.Stages(System.err, house.quiet);
        GuardDemo.Result r;
        try {
            r = new GuardDemo(settings, cache, run, house.seed, stages).run();
        } finally {
            stages.close();
        }
        print(r, Duration.ofNanos(System.nanoTime() - start));
        return 0;
    }

    /** "4" → 4, "3.5" → 3.5, "self" → "self": key parameters are numbers or words. */
    private static Object number(String v) {
        try {
            return Integer.valueOf(v);
        } catch (NumberFormatException e) {
            try {
                return Double.valueOf(v);
            } catch (NumberFormatException e2) {
                return v;
            }
        }
    }

    private void print(GuardDemo.Result r, Duration took) {
        PrintStream out = System.out;
        out.println();
        out.println("distill4j guard demo — radioactivity audits (" + ProgressBar.duration(took) + ")");
        out.println("  owner's key " + r.keyId() + ": KGW " + new java.util.TreeMap<>(r.keyParams()) + "; "
                + r.watermarkedTexts() + " watermarked answers audited against each student");
        out.printf(Locale.ROOT, "  %-18s %-22s %-14s %-22s %-12s %s%n", "student", "watermarked answers",
                "scored tuples", "green rate (chance)", "p-value", "verdict at 1e-3");
        for (GuardDemo.Audited a : r.students()) {
            AuditReport rep = a.report();
            out.printf(Locale.ROOT, "  %-18s %-22s %-14d %-22s %-12s %s%n", a.label(),
                    a.watermarkedSamples() + " of " + a.samples(), rep.scored(),
                    String.format(Locale.ROOT, "%.4f (%.2f)", rep.meanScore(), rep.nullMean()), rep.pValue(),
                    rep.verdict(AuditReport.DEFAULT_ALPHA));
        }
        GuardDemo.Audited full = r.students().getFirst();
        GuardDemo.Audited control = r.students().getLast();
        out.println();
        out.printf(Locale.ROOT, "  most watermarked student radioactive at p < 1e-5: %s (p = %s)%n",
                full.report().pValue().ln() < Math.log(1e-5) ? "yes" : "NO", full.report().pValue());
        out.printf(Locale.ROOT, "  control student clean at p > 0.01:                 %s (p = %s)%n",
                control.report().pValue().ln() > Math.log(0.01) ? "yes" : "NO", control.report().pValue());
        out.println("  audits in " + run.resolve("guard-demo.json").toAbsolutePath());
        out.println("  audit any model folder yourself: distill guard audit --key " + run.resolve("guard.key")
                + " --watermarked ANSWERS.jsonl --suspect MODEL_DIR");
    }
}
