package dev.distill4j.guard.scan;

import static dev.distill4j.eval.HtmlPage.esc;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.eval.HtmlPage;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
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
 * Writes a scan's {@code scan.json} (the ranking with every feature's value, threshold and verdict) and
 * {@code scan.html} (one self-contained page: inline CSS and SVG charts drawn by JFreeChart into JFreeSVG, no
 * scripts; every logged text HTML-escaped), each atomically.
 */
public final class ScanWriter {
    private static final int W = 720;
    private static final int H = 320;

    private ScanWriter() {}

    public static void write(Scanner.Report r, Path outDir) throws IOException {
        Files.createDirectories(outDir);
        AtomicFiles.writeString(outDir.resolve("scan.json"), Json.writePretty(json(r)) + "\n");
        AtomicFiles.writeString(outDir.resolve("scan.html"), html(r));
    }

    public static ObjectNode json(Scanner.Report r) {
        ObjectNode o = Json.object();
        ObjectNode opt = o.putObject("options");
        opt.put("window", r.options().window());
        opt.put("fpr", r.options().fpr());
        opt.put("permutations", r.options().permutationsUsed());
        opt.put("min_window", r.options().minWindow());
        opt.put("min_requests", r.options().minRequests());
        opt.put("min_behaviours", r.options().minBehaviours());
        o.put("records", r.records());
        o.put("embedded", r.embedded());
        o.put("accounts", r.accounts());
        o.put("flagged", r.ranked().stream().filter(Scanner.Entity::flagged).count());
        ObjectNode b = o.putObject("baseline");
        b.put("source", r.baseline());
        b.put("pool_size", r.poolSize());
        num(b, "rbf_sigma", r.sigma());
        ArrayNode cal = b.putArray("calibrations");
        for (Mmd.Calibration c : r.calibrations()) {
            ObjectNode n = cal.addObject();
            n.put("window_size", c.windowSize());
            n.put("permutations", c.permutations());
            n.put("threshold", c.threshold());
            n.put("null_mean", c.nullMean());
            n.put("null_sd", c.nullSd());
        }
        ArrayNode bad = o.putArray("malformed");
        for (LogReader.Malformed m : r.malformed()) {
            bad.addObject().put("at", m.source()).put("reason", m.reason());
        }
        ArrayNode ranked = o.putArray("ranked");
        int rank = 0;
        for (Scanner.Entity e : r.ranked()) {
            ObjectNode n = ranked.addObject();
            n.put("rank", ++rank);
            n.put("kind", e.kind());
            n.put("name", e.name());
            n.put("flagged", e.flagged());
            n.put("score", e.score());
            n.put("requests", e.requests());
            ArrayNode acc = n.putArray("accounts");
            e.accounts().forEach(acc::add);
            ArrayNode links = n.putArray("links");
            e.links().forEach(links::add);
            ArrayNode fired = n.putArray("fired");
            e.fired().forEach(f -> fired.add(f.name()));
            ArrayNode feats = n.putArray("evidence");
            for (Scanner.Feature f : e.features()) {
                ObjectNode x = feats.addObject();
                x.put("feature", f.name());
                num(x, "value", f.value());
                x.put("comparison", f.comparison());
                num(x, "threshold", f.threshold());
                x.put("fired", f.fired());
                x.put("note", f.note());
            }
            ArrayNode ws = n.putArray("windows");
            for (Scanner.Window w : e.windows()) {
                ObjectNode x = ws.addObject();
                x.put("from", w.from().toString());
                x.put("to", w.to().toString());
                x.put("size", w.size());
                x.put("mmd2", w.mmd2());
                x.put("threshold", w.threshold());
                x.put("p_value", w.pValue());
                x.put("fired", w.fired());
            }
            ArrayNode t = n.putArray("templates");
            e.topTemplates().forEach(t::add);
        }
        return o;
    }

    private static void num(ObjectNode o, String k, double v) {
        if (Double.isFinite(v)) o.put(k, v);
        else o.putNull(k);
    }

    static String html(Scanner.Report r) {
        long flagged = r.ranked().stream().filter(Scanner.Entity::flagged).count();
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>distill guard scan</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;"
                        + "width:100%}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;font-size:13px}"
                        + "th{background:#f4f4f4}.num{text-align:right}.flag{background:#fde2e1;font-weight:bold}"
                        + ".ok{color:#2a7a2a}.fired{color:#b00020;font-weight:bold}.note{color:#666}"
                        + "ul{margin:0;padding-left:1.2em}</style></head><body>\n");
        b.append("<h1>distill guard scan</h1>\n<p>").append(r.records()).append(" requests (").append(r.embedded())
                .append(" queries embedded) from ").append(r.accounts()).append(" accounts; ")
                .append(r.malformed().size()).append(" malformed lines skipped. Baseline: ").append(esc(r.baseline()))
                .append(", pool of ").append(r.poolSize()).append(" queries. Window ").append(r.options().window())
                .append(", FPR ").append(r.options().fpr()).append(", ").append(r.options().permutationsUsed())
                .append(" permutations.</p>\n<p><b>").append(flagged).append(" flagged</b> of ")
                .append(r.ranked().size()).append(" accounts and clusters.</p>\n");
        b.append("<h2>Ranking</h2>\n<table><tr><th>#</th><th>kind</th><th>name</th><th>flagged</th><th>score</th>"
                + "<th>requests</th><th>evidence (fired)</th><th>links and templates</th></tr>\n");
        int rank = 0;
        for (Scanner.Entity e : r.ranked()) {
            b.append("<tr").append(e.flagged() ? " class=\"flag\"" : "").append("><td class=\"num\">").append(++rank)
                    .append("</td><td>").append(e.kind()).append("</td><td>").append(esc(e.name()));
            if (e.kind().equals("cluster")) b.append("<br><span class=\"note\">").append(esc(String.join(", ",
                    e.accounts()))).append("</span>");
            b.append("</td><td>").append(e.flagged() ? "yes" : "<span class=\"ok\">no</span>")
                    .append("</td><td class=\"num\">").append(fmt(e.score())).append("</td><td class=\"num\">")
                    .append(e.requests()).append("</td><td><ul>");
            for (Scanner.Feature f : e.features()) {
                b.append("<li").append(f.fired() ? " class=\"fired\"" : "").append(">").append(esc(f.name()))
                        .append(" = ").append(fmt(f.value())).append(" (").append(esc(f.comparison())).append(' ')
                        .append(fmt(f.threshold())).append(")</li>");
            }
            b.append("</ul></td><td><ul>");
            for (String l : e.links()) b.append("<li>").append(esc(l)).append("</li>");
            for (String t : e.topTemplates()) b.append("<li>").append(esc(t)).append("</li>");
            b.append("</ul></td></tr>\n");
        }
        b.append("</table>\n<h2>Volume over time</h2>\n").append(svg("volume", () -> volume(r)));
        b.append("<h2>Embedding shift (MMD²) against the benign baseline</h2>\n").append(svg("mmd", () -> mmd(r)));
        if (!r.malformed().isEmpty()) {
            b.append("<h2>Malformed lines</h2>\n<ul>");
            for (LogReader.Malformed m : r.malformed().subList(0, Math.min(100, r.malformed().size()))) {
                b.append("<li>").append(esc(m.source())).append(": ").append(esc(m.reason())).append("</li>");
            }
            if (r.malformed().size() > 100) b.append("<li>… ").append(r.malformed().size() - 100).append(" more in "
                    + "scan.json</li>");
            b.append("</ul>\n");
        }
        b.append("</body></html>\n");
        return b.toString();
    }

    /** Requests per time bucket (about 60 over the log's span) of the top-ranked entities. */
    private static JFreeChart volume(Scanner.Report r) {
        Instant lo = null, hi = null;
        for (List<Instant> ts : r.times().values()) {
            for (Instant t : ts) {
                if (lo == null || t.isBefore(lo)) lo = t;
                if (hi == null || t.isAfter(hi)) hi = t;
            }
        }
        XYSeriesCollection data = new XYSeriesCollection();
        if (lo != null) {
            double spanMin = Math.max(1, (hi.toEpochMilli() - lo.toEpochMilli()) / 60_000.0);
            double bucket = Math.max(1, Math.ceil(spanMin / 60));
            int nb = (int) Math.ceil(spanMin / bucket) + 1;
            for (Map.Entry<String, List<Instant>> e : r.times().entrySet()) {
                int[] c = new int[nb];
                for (Instant t : e.getValue()) c[(int) ((t.toEpochMilli() - lo.toEpochMilli()) / 60_000.0 / bucket)]++;
                XYSeries s = new XYSeries(e.getKey());
                for (int i = 0; i < nb; i++) s.add(i * bucket, c[i]);
                data.addSeries(s);
            }
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Requests per bucket (top-ranked)", "minutes since "
                + (lo == null ? "start" : lo.toString()), "requests", data, PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return chart;
    }

    /** Each entity's largest window MMD² next to its threshold (the 20 highest-ranked that have a window). */
    private static JFreeChart mmd(Scanner.Report r) {
        DefaultCategoryDataset d = new DefaultCategoryDataset();
        int shown = 0;
        for (Scanner.Entity e : r.ranked()) {
            if (e.windows().isEmpty() || shown >= 20) continue;
            Scanner.Window w = e.windows().stream().max(java.util.Comparator.comparingDouble(Scanner.Window::mmd2))
                    .orElseThrow();
            String label = e.name().length() > 14 ? e.name().substring(0, 13) + "…" : e.name();
            d.addValue(w.mmd2(), "max MMD²", label);
            d.addValue(w.threshold(), "threshold at FPR " + r.options().fpr(), label);
            shown++;
        }
        JFreeChart chart = ChartFactory.createBarChart("MMD² vs calibrated threshold", null, "MMD²", d,
                PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        var plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.getDomainAxis().setCategoryLabelPositions(org.jfree.chart.axis.CategoryLabelPositions.UP_45);
        BarRenderer br = (BarRenderer) plot.getRenderer();
        br.setBarPainter(new StandardBarPainter());
        br.setShadowVisible(false);
        br.setSeriesPaint(0, new Color(0xd62728));
        br.setSeriesPaint(1, new Color(0x7f7f7f));
        return chart;
    }

    private static String svg(String id, java.util.function.Supplier<JFreeChart> chart) {
        return HtmlPage.svg(id, chart, W, H);
    }

    private static String fmt(double v) {
        if (Double.isNaN(v)) return "–";
        if (v != 0 && Math.abs(v) < 0.01) return String.format(Locale.ROOT, "%.2e", v);
        return String.format(Locale.ROOT, "%.3f", v);
    }

}
