package dev.distill4j.eval;

import static dev.distill4j.eval.HtmlPage.esc;

import dev.distill4j.core.AtomicFiles;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code eval/report.html}: one self-contained page (inline CSS and SVG, no scripts, no external assets) with the
 * scorecard, charts drawn by JFreeChart into JFreeSVG, and the worst disagreements side by side. Every text from the
 * run (prompts, answers, ids, paths) is HTML-escaped.
 */
public final class ReportWriter {
    private static final int W = 640;
    private static final int H = 320;
    static final Color STUDENT = new Color(0x1f77b4);
    static final Color TEACHER = new Color(0xff7f0e);

    private ReportWriter() {}

    /** Writes the report of {@code card} with the training curves of {@code logs} (label → log), atomically. */
    public static void write(Path file, Scorecard card, Map<String, TrainingLog> logs) throws IOException {
        AtomicFiles.writeString(file, html(card, logs));
    }

    static String html(Scorecard c, TrainingLog log) {
        return html(c, Map.of("student", log));
    }

    static String html(Scorecard c, Map<String, TrainingLog> logs) {
        StringBuilder b = new StringBuilder(64 * 1024);
        head(b, "distill4j eval: " + c.student().dir());
        b.append("<h1>Student vs teacher</h1>\n<p>Student <code>").append(esc(c.student().dir())).append("</code> (")
                .append(esc(c.student().family())).append(", ").append(esc(human(c.student().parameters())))
                .append(" parameters) against teacher <code>").append(esc(c.teacher().provider())).append('/')
                .append(esc(c.teacher().model())).append("</code> (").append(esc(c.teacher().capability()))
                .append("), on ").append(c.split().promptIds().size()).append(" prompts (")
                .append(esc(c.split().source())).append(c.split().source().equals("held-out")
                        ? ", eval fraction " + fmt(c.split().evalFraction())
                        : ": " + esc(c.split().promptsFile()))
                .append("). Generated ").append(esc(c.created())).append(" by distill4j ")
                .append(esc(c.toolVersion())).append(".</p>\n");

        b.append("<h2>Scorecard</h2>\n<table><tr><th>metric</th><th>student</th><th>teacher</th></tr>\n");
        var tf = c.teacherForced();
        row(b, "teacher-forced NLL (nats/token)", num(tf.nll()), "");
        row(b, "perplexity on the teacher's answers", num(tf.perplexity()), "");
        row(b, "top-1 agreement with the teacher's tokens", num(tf.top1Agreement()), "1");
        row(b, "KL(teacher ‖ student) over top-k + tail", num(tf.kl()), "0");
        var g = c.generation();
        row(b, "exact match (normalised)", num(g.exactMatch()), "1");
        row(b, "chrF (mean / corpus)", num(g.chrf()) + " / " + num(g.chrfCorpus()), "100");
        row(b, "ROUGE-L F1", num(g.rougeLF1()), "1");
        row(b, "mean answer length (tokens)", fmt(g.studentMeanTokens()), fmt(g.teacherMeanTokens()));
        if (c.taskAccuracy() != null) {
            var a = c.taskAccuracy();
            row(b, "task accuracy (" + a.prompts() + " prompts with an answer)", percent(a.student(), a.studentCi95()),
                    percent(a.teacher(), a.teacherCi95()));
        }
        if (c.judge() != null) {
            var j = c.judge();
            row(b, "judge (" + j.model() + "): win / tie / loss / invalid",
                    j.win() + " / " + j.tie() + " / " + j.loss() + " / " + j.invalid(), "");
        }
        b.append("</table>\n");
        if (c.taskAccuracy() != null && c.taskAccuracy().groups() != null && !c.taskAccuracy().groups().isEmpty()) {
            var a = c.taskAccuracy();
            b.append("<h2>Task accuracy by ").append(esc(a.groupKey())).append("</h2>\n<table><tr><th>")
                    .append(esc(a.groupKey())).append("</th><th>prompts</th><th>student (95 % CI)</th>")
                    .append("<th>teacher (95 % CI)</th></tr>\n");
            for (var group : a.groups()) {
                row(b, group.group(), Integer.toString(group.prompts()),
                        percent(group.student(), group.studentCi95()), percent(group.teacher(), group.teacherCi95()));
            }
            b.append("</table>\n<p class=\"note\">Intervals are Wilson score intervals at 95 %.</p>\n");
        }

        b.append("<h2>Efficiency</h2>\n<table><tr><th></th><th>student</th><th>teacher</th></tr>\n");
        var e = c.efficiency();
        var s = e.student();
        var lt = e.localTeacher();
        var rt = e.teacher();
        row(b, "parameters", human(s.parameters()), lt == null ? "" : human(lt.parameters()));
        row(b, "size on disk", bytes(s.folderBytes()), lt == null ? "" : bytes(lt.folderBytes()));
        row(b, "prefill tokens/s (measured here)", num(s.prefillTokensPerS()), lt == null ? "" : num(lt.prefillTokensPerS()));
        row(b, "decode tokens/s (measured here)", num(s.decodeTokensPerS()), lt == null ? "" : num(lt.decodeTokensPerS()));
        row(b, "latency p50 / p95 per request (ms)", num(s.latencyP50Ms()) + " / " + num(s.latencyP95Ms()),
                lt != null ? num(lt.latencyP50Ms()) + " / " + num(lt.latencyP95Ms())
                        : num(rt.latencyP50Ms()) + " / " + num(rt.latencyP95Ms()) + " (API, stored)");
        row(b, "mean latency per request (ms)", num(s.latencyMeanMs()),
                num(rt.latencyMeanMs()) + " (API, stored)");
        row(b, "price per 1 M tokens (in / out, USD)", esc(e.studentCost()),
                num(e.teacherPriceInPerMtok()) + " / " + num(e.teacherPriceOutPerMtok()));
        row(b, "cost of these answers per 1 M tokens (USD)", "", num(e.teacherCostPerMtok()));
        b.append("</table>\n");

        b.append("<h2>Charts</h2>\n<div class=\"charts\">\n");
        if (logs.values().stream().allMatch(TrainingLog::isEmpty)) {
            b.append("<p class=\"note\">No training curve: no metrics.jsonl beside the student.</p>\n");
        } else {
            // one student: "loss" / "eval loss"; several: each series named after its student
            boolean several = logs.size() > 1;
            Map<String, List<double[]>> losses = new LinkedHashMap<>();
            Map<String, List<double[]>> agreement = new LinkedHashMap<>();
            logs.forEach((label, log) -> {
                String prefix = several ? label + " " : "";
                losses.put(prefix + "loss", log.get("loss"));
                losses.put(prefix + "eval loss", log.get("eval_loss"));
                if (!log.get("eval_top1_agreement").isEmpty()) {
                    agreement.put(several ? label : "eval top-1 agreement", log.get("eval_top1_agreement"));
                }
            });
            b.append(svg("loss", () -> stepChart("Training loss", "loss", losses)));
            if (!agreement.isEmpty()) {
                b.append(svg("agreement", () -> stepChart("Held-out top-1 agreement", "agreement", agreement)));
            }
        }
        b.append(svg("bars", () -> bars(c)));
        b.append("</div>\n");

        b.append("<h2>Worst disagreements</h2>\n");
        if (c.worst().isEmpty()) b.append("<p class=\"note\">None.</p>\n");
        else {
            b.append("<table><tr><th>prompt</th><th>teacher</th><th>student</th><th>chrF</th></tr>\n");
            for (var p : c.worst()) {
                b.append("<tr><td><pre>").append(esc(p.promptId())).append("\n").append(esc(p.prompt()))
                        .append("</pre></td><td><pre>").append(esc(p.teacher())).append("</pre></td><td><pre>")
                        .append(esc(p.student())).append("</pre></td><td class=\"num\">").append(fmt(p.chrf()))
                        .append("</td></tr>\n");
            }
            b.append("</table>\n");
        }
        b.append("<p class=\"note\">Definitions of every metric: docs/eval.md. Raw numbers: scorecard.json.</p>\n");
        b.append("</body></html>\n");
        return b.toString();
    }

    /** The page up to {@code <body>}: title and the inline style every distill4j report shares. */
    static void head(StringBuilder b, String title) {
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>").append(esc(title))
                .append("</title>\n<style>")
                .append("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;")
                .append("vertical-align:top;text-align:left}th{background:#f3f3f3}td.num{text-align:right;")
                .append("font-variant-numeric:tabular-nums}pre{white-space:pre-wrap;margin:0;max-width:420px;")
                .append("max-height:240px;overflow:auto;font-size:12px}.charts svg{margin:0.5em 0}.note{color:#777}")
                .append("</style></head><body>\n");
    }

    /** Student vs teacher on the metrics where both have a value (the teacher is the reference: 1 on fidelity). */
    private static JFreeChart bars(Scorecard c) {
        DefaultCategoryDataset d = new DefaultCategoryDataset();
        var g = c.generation();
        add(d, "exact match", g.exactMatch(), 1.0);
        add(d, "chrF / 100", g.chrf() == null ? null : g.chrf() / 100, 1.0);
        add(d, "ROUGE-L F1", g.rougeLF1(), 1.0);
        add(d, "top-1 agreement", c.teacherForced().top1Agreement(), 1.0);
        if (c.taskAccuracy() != null) add(d, "task accuracy", c.taskAccuracy().student(), c.taskAccuracy().teacher());
        if (c.judge() != null && c.judge().winOrTieRate() != null) {
            add(d, "judge win or tie", c.judge().winOrTieRate(), 1 - nz(c.judge().winRate()));
        }
        JFreeChart chart = ChartFactory.createBarChart("Student vs teacher", null, "score", d,
                PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        BarRenderer r = (BarRenderer) chart.getCategoryPlot().getRenderer();
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setSeriesPaint(0, STUDENT);
        r.setSeriesPaint(1, TEACHER);
        chart.getCategoryPlot().setBackgroundPaint(Color.WHITE);
        chart.getCategoryPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
        // five or six metrics share 640 px: on one line their names were cut to "top…"
        chart.getCategoryPlot().getDomainAxis().setMaximumCategoryLabelLines(3);
        return chart;
    }

    private static void add(DefaultCategoryDataset d, String metric, Double student, double teacher) {
        if (student == null) return;
        d.addValue(student, "student", metric);
        d.addValue(teacher, "teacher", metric);
    }

    static JFreeChart lineChart(String title, String x, String y, Map<String, List<double[]>> series) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (var e : series.entrySet()) {
            if (e.getValue().isEmpty()) continue;
            XYSeries s = new XYSeries(e.getKey());
            for (double[] p : e.getValue()) s.add(p[0], p[1]);
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, x, y, data, PlotOrientation.VERTICAL, true, false,
                false);
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.getRenderer().setSeriesPaint(0, STUDENT);
        plot.getRenderer().setSeriesPaint(1, TEACHER);
        return chart;
    }

    /** Colours of the curves of several students: a solid train line and its eval line share a colour. */
    private static final Color[] CURVES = {STUDENT, TEACHER, new Color(0x2ca02c), new Color(0xd62728),
        new Color(0x9467bd), new Color(0x8c564b)};

    /**
     * A chart over training steps: integer ticks on the step axis (with one evaluation point the automatic ticks
     * were ten copies of "1.2E2"), every evaluation drawn as a point as well as a line, and each series its own
     * colour.
     */
    static JFreeChart stepChart(String title, String y, Map<String, List<double[]>> series) {
        JFreeChart chart = lineChart(title, "step", y, series);
        XYPlot plot = chart.getXYPlot();
        org.jfree.chart.axis.NumberAxis steps = (org.jfree.chart.axis.NumberAxis) plot.getDomainAxis();
        steps.setStandardTickUnits(org.jfree.chart.axis.NumberAxis.createIntegerTickUnits(Locale.ROOT));
        steps.setAutoRangeIncludesZero(true);
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        var renderer = new org.jfree.chart.renderer.xy.XYLineAndShapeRenderer(true, false);
        int i = 0;
        for (String name : series.keySet()) {
            if (series.get(name).isEmpty()) continue;
            boolean eval = name.endsWith("eval loss") || !name.endsWith("loss");
            renderer.setSeriesPaint(i, CURVES[(i / 2) % CURVES.length]);
            renderer.setSeriesShapesVisible(i, eval);
            if (eval && name.endsWith("eval loss")) {
                renderer.setSeriesStroke(i, new java.awt.BasicStroke(1.5f, java.awt.BasicStroke.CAP_BUTT,
                        java.awt.BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            }
            i++;
        }
        if (series.keySet().stream().noneMatch(k -> k.endsWith("loss"))) { // agreement: one colour per student
            for (int k = 0; k < i; k++) renderer.setSeriesPaint(k, CURVES[k % CURVES.length]);
        }
        plot.setRenderer(renderer);
        return chart;
    }

    /** "93.0 % [88.4, 95.9]": a proportion with its interval, in percent. */
    static String percent(double p, double[] ci) {
        String v = String.format(Locale.ROOT, "%.1f %%", 100 * p);
        return ci == null ? v : v + String.format(Locale.ROOT, " [%.1f, %.1f]", 100 * ci[0], 100 * ci[1]);
    }

    /** The chart as an inline {@code <svg>} of this report's size (see {@link HtmlPage#svg}). */
    static String svg(String id, java.util.function.Supplier<JFreeChart> chart) {
        return HtmlPage.svg(id, chart, W, H);
    }

    /** A table row: the metric's name (escaped), then cells already in HTML. */
    static void row(StringBuilder b, String metric, String... cells) {
        b.append("<tr><td>").append(esc(metric)).append("</td>");
        for (String c : cells) b.append("<td class=\"num\">").append(c).append("</td>");
        b.append("</tr>\n");
    }

    static String num(Double v) { return v == null ? "–" : fmt(v); }

    private static double nz(Double v) { return v == null ? 0 : v; }

    static String fmt(double v) {
        if (Double.isNaN(v)) return "–";
        double a = Math.abs(v);
        if (a != 0 && (a < 0.001 || a >= 1e6)) return String.format(Locale.ROOT, "%.3g", v);
        if (a >= 100) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%.4f", v);
    }

    static String human(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        if (n >= 1_000_000L) return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        if (n >= 1_000L) return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        return Long.toString(n);
    }

    static String bytes(long n) {
        if (n >= 1L << 30) return String.format(Locale.ROOT, "%.2f GiB", n / (double) (1L << 30));
        if (n >= 1L << 20) return String.format(Locale.ROOT, "%.1f MiB", n / (double) (1L << 20));
        if (n >= 1L << 10) return String.format(Locale.ROOT, "%.1f KiB", n / (double) (1L << 10));
        return n + " B";
    }

}
