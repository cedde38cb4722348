package dev.distill4j.eval;

import static dev.distill4j.eval.ReportWriter.bytes;
import static dev.distill4j.eval.HtmlPage.esc;
import static dev.distill4j.eval.ReportWriter.fmt;
import static dev.distill4j.eval.ReportWriter.human;
import static dev.distill4j.eval.ReportWriter.row;
import static dev.distill4j.eval.ReportWriter.svg;

import dev.distill4j.core.AtomicFiles;
import java.awt.Color;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code report.html} for embedding students, in the style of the text report (same page head, tables and
 * JFreeChart SVGs): fidelity and efficiency tables with one column per model, a scatter of teacher vs student
 * cosines of sampled pairs, speed bars on a log scale and the recall@k curves.
 */
final class EmbeddingReport {
    /** Teacher first, then students: matplotlib's tab10, which the text report's two colours start. */
    private static final Color[] PALETTE = {ReportWriter.TEACHER, ReportWriter.STUDENT, new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};

    private EmbeddingReport() {}

    static void write(Path file, EmbeddingScorecard card, EmbeddingEvaluator.PairSample pairs) throws IOException {
        AtomicFiles.writeString(file, html(card, pairs));
    }

    static String html(EmbeddingScorecard c, EmbeddingEvaluator.PairSample pairs) {
        List<String> labels = labels(c.students());
        StringBuilder b = new StringBuilder(64 * 1024);
        ReportWriter.head(b, "distill4j eval: embedding students of " + c.teacher().name());
        var corpus = c.corpus();
        var m = c.machine();
        b.append("<h1>Embedding students vs teacher</h1>\n<p>Teacher <code>").append(esc(c.teacher().name()))
                .append("</code>; ").append(c.students().size() == 1 ? "student " : "students ");
        for (int i = 0; i < labels.size(); i++) {
            if (i > 0) b.append(", ");
            b.append("<code>").append(esc(c.students().get(i).dir())).append("</code> (")
                    .append(esc(c.students().get(i).modelType()))
                    .append("reference".equals(c.students().get(i).role()) ? ", reference model" : "").append(')');
        }
        b.append(". Corpus: ").append(String.format(Locale.ROOT, "%,d", corpus.sentences())).append(" sentences (")
                .append(esc(corpus.source())).append("), ").append(String.format(Locale.ROOT, "%,d", corpus.pairs()))
                .append(" pairs. No labels are used: the teacher's own geometry is the reference. Measured on ")
                .append(m.cpus()).append(" CPUs (").append(esc(m.os())).append(' ').append(esc(m.arch()))
                .append(", Java ").append(esc(m.java())).append("), load average ")
                .append(load(m.loadAverageStart())).append(" → ").append(load(m.loadAverageEnd()))
                .append(". Generated ").append(esc(created(c.created()))).append(" by distill4j ").append(esc(c.toolVersion()))
                .append(".</p>\n");

        b.append("<h2>Fidelity</h2>\n<p class=\"note\">How closely each model reproduces the teacher's geometry on these "
                + "sentences: 1 = exactly the teacher's order of pairs and neighbours.");
        if (c.students().stream().anyMatch(s -> "reference".equals(s.role()))) {
            b.append(" A <em>reference</em> column is another pretrained model, trained independently of this teacher: "
                    + "what a good encoder that is not the teacher reaches on the same sentences, the scale to read a "
                    + "student's figures against.");
        }
        b.append("</p>\n<table><tr><th>metric</th>");
        header(b, c, labels);
        b.append("<th>teacher</th></tr>\n");
        row(b, "Spearman of pairwise cosines", cells(c, s -> fmt(s.fidelity().spearman()), "1"));
        row(b, "recall@10 of the teacher's neighbours", cells(c, s -> fmt(s.fidelity().recallAt10()), "1"));
        row(b, "nDCG@10 of the teacher's ranking (every 5th sentence a query)",
                cells(c, s -> s.fidelity().ndcgAt10() == null ? "–" : fmt(s.fidelity().ndcgAt10()), "1"));
        row(b, "recall@1", cells(c, s -> fmt(s.fidelity().recallAtK().getFirst()), "1"));
        row(b, "linear CKA", cells(c, s -> fmt(s.fidelity().cka()), "1"));
        b.append("</table>\n");

        var t = c.teacher().efficiency();
        b.append("<h2>Efficiency</h2>\n<table><tr><th></th>");
        header(b, c, labels);
        b.append("<th>teacher</th></tr>\n");
        row(b, "dimensions", cells(c, s -> Integer.toString(s.efficiency().dimension()), Integer.toString(t.dimension())));
        row(b, "parameters", cells(c, s -> count(s.efficiency().parameters()), count(t.parameters())));
        row(b, "size on disk", cells(c, s -> size(s.efficiency().bytes()), size(t.bytes())));
        row(b, "smaller than the teacher (bytes)", cells(c, s -> times(s.sizeRatio()), ""));
        row(b, "sentences/s, whole corpus (measured here)",
                cells(c, s -> rate(s.efficiency().sentencesPerS()), rate(t.sentencesPerS())));
        row(b, "faster than the teacher (sentences/s)", cells(c, s -> times(s.speedup()), ""));
        row(b, "one sentence alone, median latency (ms)",
                cells(c, s -> fmt(s.efficiency().latencyMs()), fmt(t.latencyMs())));
        row(b, "faster than the teacher (latency)", cells(c, s -> times(s.latencySpeedup()), ""));
        b.append("</table>\n");

        b.append("<h2>Charts</h2>\n<p class=\"note\">Cosines: each point is one sentence pair, the teacher's cosine "
                + "across, the model's up; a model that orders pairs as the teacher does draws a thin rising band "
                + "(its height may differ: only the order counts). Speed: bars on a log axis that starts a decade "
                + "below the slowest model. Recall@k: the share of the teacher's k nearest neighbours the model "
                + "also puts among its k nearest.</p>\n<div class=\"charts\">\n");
        b.append(svg("cosines", () -> scatter(labels, pairs)));
        b.append(svg("speed", () -> speed(c, labels)));
        b.append(svg("recall", () -> recall(c, labels)));
        b.append("</div>\n<p class=\"note\">Definitions of every metric: docs/eval.md (embedding students). Raw "
                + "numbers: scorecard.json. Timings depend on this machine and its load: compare them within one "
                + "report.</p>\n</body></html>\n");
        return b.toString();
    }

    /** Teacher vs student cosine of the sampled pairs: a student that ranks pairs like the teacher draws a thin rising band. */
    private static JFreeChart scatter(List<String> labels, EmbeddingEvaluator.PairSample pairs) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (int i = 0; i < labels.size(); i++) {
            XYSeries s = new XYSeries(labels.get(i), false, true);
            double[] y = pairs.students().get(i);
            for (int p = 0; p < y.length; p++) s.add(pairs.teacher()[p], y[p]);
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createScatterPlot("Cosine of " + pairs.teacher().length + " sampled pairs",
                "teacher cosine", "student cosine", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        style(chart);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        // filled squares without outlines: one small element per point keeps the page light
        ((XYLineAndShapeRenderer) plot.getRenderer()).setDrawOutlines(false);
        for (int i = 0; i < labels.size(); i++) {
            plot.getRenderer().setSeriesPaint(i, PALETTE[(i + 1) % PALETTE.length]);
            plot.getRenderer().setSeriesShape(i, new Rectangle2D.Double(-1.5, -1.5, 3, 3));
        }
        return chart;
    }

    /** Sentences/s of each model, batched and one at a time, on a log axis (a static student is ~100× the teacher). */
    private static JFreeChart speed(EmbeddingScorecard c, List<String> labels) {
        DefaultCategoryDataset d = new DefaultCategoryDataset();
        String batch = "whole corpus", single = "one sentence at a time";
        var t = c.teacher().efficiency();
        d.addValue(t.sentencesPerS(), "teacher " + c.teacher().name(), batch);
        d.addValue(1000 / t.latencyMs(), "teacher " + c.teacher().name(), single);
        for (int i = 0; i < labels.size(); i++) {
            var e = c.students().get(i).efficiency();
            d.addValue(e.sentencesPerS(), labels.get(i), batch);
            d.addValue(1000 / e.latencyMs(), labels.get(i), single);
        }
        JFreeChart chart = ChartFactory.createBarChart("Speed on this machine (log scale)", null, "sentences/s", d,
                PlotOrientation.VERTICAL, true, false, false);
        style(chart);
        CategoryPlot plot = chart.getCategoryPlot();
        // LogarithmicAxis labels ticks as plain numbers (LogAxis' superscripts do not come through JFreeSVG as text)
        LogarithmicAxis axis = new LogarithmicAxis("sentences/s");
        axis.setStrictValuesFlag(false);
        // a new axis has JFreeChart's plain defaults: keep the chart theme's look of the axis it replaces
        var themed = plot.getRangeAxis();
        axis.setLabelFont(themed.getLabelFont());
        axis.setLabelPaint(themed.getLabelPaint());
        axis.setTickLabelFont(themed.getTickLabelFont());
        axis.setTickLabelPaint(themed.getTickLabelPaint());
        plot.setRangeAxis(axis);
        // every bar visible: the axis starts a decade below the slowest value (a 5 sentences/s teacher on an axis
        // starting at 10 was drawn as nothing at all)
        double[] range = speedAxisRange(values(d));
        axis.setRange(range[0], range[1]);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        BarRenderer r = (BarRenderer) plot.getRenderer();
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setIncludeBaseInRange(false);   // a log axis cannot show 0: bars rise from the axis' lower bound
        for (int i = 0; i <= labels.size(); i++) r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
        return chart;
    }

    /** recall@k for k = 1..10: how many of the teacher's k nearest neighbours each student also puts in its k nearest. */
    private static JFreeChart recall(EmbeddingScorecard c, List<String> labels) {
        Map<String, List<double[]>> series = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            List<Double> r = c.students().get(i).fidelity().recallAtK();
            List<double[]> points = new ArrayList<>();
            for (int k = 0; k < r.size(); k++) points.add(new double[] {k + 1, r.get(k)});
            series.put(labels.get(i), points);
        }
        JFreeChart chart = ReportWriter.lineChart("Recall@k of the teacher's nearest neighbours", "k", "recall@k", series);
        XYPlot plot = chart.getXYPlot();
        plot.getRangeAxis().setRange(0, 1);
        for (int i = 0; i < labels.size(); i++) plot.getRenderer().setSeriesPaint(i, PALETTE[(i + 1) % PALETTE.length]);
        return chart;
    }

    private static void style(JFreeChart chart) { chart.setBackgroundPaint(Color.WHITE); }

    /**
     * The speed axis: from the power of ten strictly below the smallest positive value (so the slowest bar has a
     * visible height) to the power of ten at or above the largest.
     */
    static double[] speedAxisRange(double[] values) {
        double min = Double.POSITIVE_INFINITY, max = 0;
        for (double v : values) {
            if (v > 0 && Double.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        if (max == 0) return new double[] {1, 10};
        // the power of ten at least half a decade below the slowest value, so its bar has a visible height (the
        // power of ten just below it drew a 110 sentences/s teacher as a sliver over an axis starting at 100)
        double lower = Math.pow(10, Math.floor(Math.log10(min) - 0.5));
        double upper = Math.pow(10, Math.max(Math.ceil(Math.log10(max)), Math.log10(lower) + 1));
        return new double[] {lower, upper};
    }

    private static double[] values(DefaultCategoryDataset d) {
        List<Double> out = new ArrayList<>();
        for (int r = 0; r < d.getRowCount(); r++) {
            for (int k = 0; k < d.getColumnCount(); k++) {
                Number n = d.getValue(r, k);
                if (n != null) out.add(n.doubleValue());
            }
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Column heads: a reference model says so under its name. */
    private static void header(StringBuilder b, EmbeddingScorecard c, List<String> labels) {
        for (int i = 0; i < labels.size(); i++) {
            b.append("<th>").append(esc(labels.get(i)));
            if ("reference".equals(c.students().get(i).role())) b.append("<br><small>(reference)</small>");
            b.append("</th>");
        }
    }

    /** The scorecard's ISO instant to the second, in UTC ({@code 2026-12-05 06:45:29 UTC}); other text as it is. */
    static String created(String iso) {
        try {
            return java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
                    .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.parse(iso));
        } catch (java.time.format.DateTimeParseException e) {
            return iso;
        }
    }

    /** Students by folder name, or by the whole path where two folders share a name. */
    static List<String> labels(List<EmbeddingScorecard.Student> students) {
        List<String> names = students.stream().map(s -> Path.of(s.dir()).getFileName().toString()).toList();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            out.add(names.indexOf(n) != names.lastIndexOf(n) ? students.get(i).dir() : n);
        }
        return out;
    }

    private static String[] cells(EmbeddingScorecard c, java.util.function.Function<EmbeddingScorecard.Student, String> f,
                                  String teacher) {
        String[] out = new String[c.students().size() + 1];
        for (int i = 0; i < c.students().size(); i++) out[i] = f.apply(c.students().get(i));
        out[out.length - 1] = teacher;
        return out;
    }

    private static String count(Long n) { return n == null ? "–" : human(n); }

    private static String size(Long n) { return n == null ? "–" : bytes(n); }

    private static String rate(double v) { return String.format(Locale.ROOT, "%,.0f", v); }

    private static String times(Double v) { return v == null ? "–" : String.format(Locale.ROOT, "%,.1f×", v); }

    private static String load(double v) { return v < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", v); }
}
