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

    /** Entities shown in the HTML ranking; all of them are in scan.json. */
    static final int HTML_ROWS = 100;
    /** Cluster members listed before "and N more". */
    static final int MEMBERS_SHOWN = 8;

    static String html(Scanner.Report r) {
        long flagged = r.ranked().stream().filter(Scanner.Entity::flagged).count();
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>distill guard scan</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}"
                        + "table{border-collapse:collapse;width:100%;table-layout:fixed}"
                        + "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;font-size:13px;"
                        + "overflow-wrap:anywhere;text-align:left}th{background:#f4f4f4}.num{text-align:right}"
                        + "tr.flag td{background:#fde2e1}.yes{color:#b00020;font-weight:bold}.ok{color:#2a7a2a}"
                        + ".fired{color:#b00020;font-weight:bold}.note{color:#666}ul{margin:0;padding-left:1.2em}"
                        + "details summary{cursor:pointer;color:#555}code{font-size:12px}</style></head><body>\n");
        b.append("<h1>distill guard scan</h1>\n<p>").append(r.records()).append(" requests (").append(r.embedded())
                .append(" queries embedded) from ").append(r.accounts()).append(" accounts; ")
                .append(r.malformed().size()).append(" malformed lines skipped. Baseline: ").append(esc(r.baseline()))
                .append(", pool of ").append(r.poolSize()).append(" queries. Window ").append(r.options().window())
                .append(" queries, FPR ").append(r.options().fpr()).append(" per window, ")
                .append(r.options().permutationsUsed()).append(" permutations.</p>\n<p class=\"")
                .append(flagged > 0 ? "yes" : "ok").append("\"><b>").append(flagged).append(" flagged</b> of ")
                .append(r.ranked().size()).append(" accounts and clusters.</p>\n");
        b.append("<p class=\"note\">An account or cluster is flagged when it matches an indicator file, or when at least "
                + "three features fire (temperature 0 does not count; template_share and affix_template_share count "
                + "once), among them one of systematic coverage (template_share, affix_template_share, "
                + "instruction_paraphrase_share, topic_spread, topic_sweep, mmd2) and one that collects training "
                + "signal (logprobs_share, cot_elicitation_share, mean_n), the requests asking for logprobs or "
                + "reasoning being significantly more than 0.3 of all (training_signal_share: exact binomial p &le; "
                + "0.01) or mean_n firing; without a topic sweep or reworded instructions (a fixed template, as "
                + "bots and evaluation harnesses send) two training-signal features. Fired features are in red; docs/guard.md "
                + "explains each.</p>\n");
        if (flagged > 0) {
            b.append("<h2>Flagged</h2>\n<table><colgroup><col style=\"width:14%\"><col style=\"width:7%\">"
                    + "<col style=\"width:6%\"><col style=\"width:48%\"><col style=\"width:25%\"></colgroup>"
                    + "<tr><th>name</th><th>accounts</th><th class=\"num\">requests</th><th>fired</th>"
                    + "<th>links</th></tr>\n");
            for (Scanner.Entity e : r.ranked()) {
                if (!e.flagged()) continue;
                b.append("<tr><td>").append(esc(e.name())).append(" <span class=\"note\">(").append(e.kind())
                        .append(")</span></td><td class=\"num\">").append(e.accounts().size())
                        .append("</td><td class=\"num\">").append(e.requests()).append("</td><td>");
                b.append(String.join(", ", e.fired().stream().map(f -> "<span class=\"fired\">" + esc(f.name())
                        + "</span> " + fmt(f.value())).toList()));
                b.append("</td><td>").append(esc(String.join("; ", e.links()))).append("</td></tr>\n");
            }
            b.append("</table>\n");
        }
        b.append("<h2>Ranking</h2>\n");
        if (r.ranked().size() > HTML_ROWS) {
            b.append("<p class=\"note\">The ").append(HTML_ROWS).append(" highest of ").append(r.ranked().size())
                    .append("; every entity is in scan.json.</p>\n");
        }
        b.append("<table><colgroup><col style=\"width:3%\"><col style=\"width:6%\"><col style=\"width:16%\">"
                + "<col style=\"width:6%\"><col style=\"width:5%\"><col style=\"width:6%\"><col style=\"width:32%\">"
                + "<col style=\"width:26%\"></colgroup><tr><th class=\"num\">#</th><th>kind</th><th>name</th>"
                + "<th>flagged</th><th class=\"num\">score</th><th class=\"num\">requests</th>"
                + "<th>evidence: fired, then the rest</th><th>links and templates</th></tr>\n");
        java.util.Map<String, Scanner.Entity> clusterOf = new java.util.HashMap<>();
        for (Scanner.Entity e : r.ranked()) {
            if (e.kind().equals("cluster")) for (String a : e.accounts()) clusterOf.putIfAbsent(a, e);
        }
        int rank = 0;
        for (Scanner.Entity e : r.ranked()) {
            if (rank >= HTML_ROWS) break;
            b.append("<tr").append(e.flagged() ? " class=\"flag\"" : "").append("><td class=\"num\">").append(++rank)
                    .append("</td><td>").append(e.kind()).append("</td><td>").append(esc(e.name()));
            if (e.kind().equals("cluster")) {
                List<String> acc = e.accounts();
                b.append("<br><span class=\"note\">").append(acc.size()).append(" accounts: ")
                        .append(esc(String.join(", ", acc.subList(0, Math.min(MEMBERS_SHOWN, acc.size())))));
                if (acc.size() > MEMBERS_SHOWN) b.append(" and ").append(acc.size() - MEMBERS_SHOWN).append(" more");
                b.append("</span>");
            } else if (clusterOf.containsKey(e.name())) {
                Scanner.Entity c = clusterOf.get(e.name());
                b.append("<br><span class=\"note\">in ").append(esc(c.name()))
                        .append(c.flagged() ? " (flagged)" : "").append("</span>");
            }
            if (e.requests() < r.options().minRequests()) {
                b.append("<br><span class=\"note\">under ").append(r.options().minRequests())
                        .append(" requests: not judged alone</span>");
            }
            b.append("</td><td>").append(e.flagged() ? "<span class=\"yes\">yes</span>" : "<span class=\"ok\">no</span>")
                    .append("</td><td class=\"num\">").append(fmt(e.score())).append("</td><td class=\"num\">")
                    .append(e.requests()).append("</td><td>");
            List<Scanner.Feature> fired = e.fired();
            if (fired.isEmpty()) b.append("<span class=\"note\">nothing fired</span>");
            else {
                b.append("<ul>");
                for (Scanner.Feature f : fired) b.append("<li class=\"fired\">").append(feature(f)).append("</li>");
                b.append("</ul>");
            }
            List<Scanner.Feature> rest = e.features().stream().filter(f -> !f.fired()).toList();
            if (!rest.isEmpty()) {
                b.append("<details><summary>").append(rest.size()).append(" not fired</summary><ul>");
                for (Scanner.Feature f : rest) b.append("<li>").append(feature(f)).append("</li>");
                b.append("</ul></details>");
            }
            b.append("</td><td><ul>");
            for (String l : e.links()) b.append("<li>").append(esc(l)).append("</li>");
            for (String t : e.topTemplates()) b.append("<li>").append(esc(t)).append("</li>");
            b.append("</ul></td></tr>\n");
        }
        b.append("</table>\n<h2>Volume over time</h2>\n").append(svg("volume", () -> volume(r)));
        b.append("<h2>Embedding shift (MMD²) against the benign baseline</h2>\n<p class=\"note\">Each entity's largest "
                + "window MMD² (red: above its threshold, so <code>mmd2</code> fired; blue: below). The threshold is the "
                + "larger of the permutation threshold at the chosen FPR and the largest shift of a baseline account."
                + "</p>\n").append(svg("mmd", () -> mmd(r)));
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

    /** One feature as "name = value (fires at >= threshold)". */
    private static String feature(Scanner.Feature f) {
        return esc(f.name()) + " = " + fmt(f.value()) + " <span class=\"note\">(fires at " + esc(f.comparison()) + " "
                + fmt(f.threshold()) + ")</span>";
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
        double bucket = 1;
        if (lo != null) {
            double spanMin = Math.max(1, (hi.toEpochMilli() - lo.toEpochMilli()) / 60_000.0);
            bucket = Math.max(1, Math.ceil(spanMin / 60));
            int nb = (int) Math.ceil(spanMin / bucket) + 1;
            for (Map.Entry<String, List<Instant>> e : r.times().entrySet()) {
                int[] c = new int[nb];
                for (Instant t : e.getValue()) c[(int) ((t.toEpochMilli() - lo.toEpochMilli()) / 60_000.0 / bucket)]++;
                XYSeries s = new XYSeries(e.getKey());
                for (int i = 0; i < nb; i++) s.add(i * bucket, c[i]);
                data.addSeries(s);
            }
        }
        String start = lo == null ? "start" : java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
                .withZone(java.time.ZoneOffset.UTC).format(lo);
        JFreeChart chart = ChartFactory.createXYLineChart("Requests over time (the top-ranked accounts and clusters)",
                "minutes since " + start, String.format(Locale.ROOT, "requests per %.0f-minute bucket", bucket), data,
                PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.getRangeAxis().setStandardTickUnits(org.jfree.chart.axis.NumberAxis.createIntegerTickUnits());
        var renderer = new org.jfree.chart.renderer.xy.XYStepRenderer();
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            renderer.setSeriesStroke(i, new java.awt.BasicStroke(2f));
        }
        plot.setRenderer(renderer);
        return chart;
    }

    /** Distinct, readable on white (Tableau 10 without its light colours). */
    private static final Color[] PALETTE = {new Color(0xd62728), new Color(0x1f77b4), new Color(0x2ca02c),
        new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b)};

    /**
     * Each entity's largest window MMD² (the 20 highest-ranked that have a window), red where it is above its
     * threshold; one threshold line when every entity has the same threshold, else a grey bar beside each.
     */
    private static JFreeChart mmd(Scanner.Report r) {
        DefaultCategoryDataset d = new DefaultCategoryDataset();
        List<Boolean> fired = new java.util.ArrayList<>();
        java.util.Set<Double> thresholds = new java.util.TreeSet<>();
        List<Scanner.Window> worst = new java.util.ArrayList<>();
        List<String> labels = new java.util.ArrayList<>();
        for (Scanner.Entity e : r.ranked()) {
            if (e.windows().isEmpty() || worst.size() >= 20) continue;
            Scanner.Window w = e.windows().stream().max(java.util.Comparator.comparingDouble(Scanner.Window::mmd2))
                    .orElseThrow();
            worst.add(w);
            labels.add(e.name().length() > 16 ? e.name().substring(0, 15) + "…" : e.name());
            thresholds.add(w.threshold());
        }
        boolean oneLine = thresholds.size() == 1;
        for (int i = 0; i < worst.size(); i++) {
            d.addValue(worst.get(i).mmd2(), "largest window MMD²", labels.get(i));
            if (!oneLine) d.addValue(worst.get(i).threshold(), "its threshold", labels.get(i));
            fired.add(worst.get(i).fired());
        }
        JFreeChart chart = ChartFactory.createBarChart("Largest window MMD² per account or cluster", null,
                "MMD² (squared RBF-kernel distance)", d, PlotOrientation.VERTICAL, !oneLine, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        var plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.getDomainAxis().setCategoryLabelPositions(org.jfree.chart.axis.CategoryLabelPositions.UP_45);
        BarRenderer br = new BarRenderer() {
            @Override
            public java.awt.Paint getItemPaint(int row, int column) {
                if (row == 1) return new Color(0xbbbbbb);
                return fired.get(column) ? new Color(0xd62728) : new Color(0x1f77b4);
            }
        };
        br.setBarPainter(new StandardBarPainter());
        br.setShadowVisible(false);
        br.setItemMargin(0.05);
        plot.setRenderer(br);
        if (oneLine && !thresholds.isEmpty()) {
            double t = thresholds.iterator().next();
            var m = new org.jfree.chart.plot.ValueMarker(t, new Color(0x444444), new java.awt.BasicStroke(1.5f,
                    java.awt.BasicStroke.CAP_BUTT, java.awt.BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f));
            m.setLabel(String.format(Locale.ROOT, "threshold %.4f", t));
            m.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.TOP_RIGHT);
            m.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.BOTTOM_RIGHT);
            plot.addRangeMarker(m);
            // keep the line inside the plot when every bar is far below it
            double top = Math.max(t, worst.stream().mapToDouble(Scanner.Window::mmd2).max().orElse(t)) * 1.1;
            plot.getRangeAxis().setUpperBound(top);
        }
        return chart;
    }

    private static String svg(String id, java.util.function.Supplier<JFreeChart> chart) {
        return HtmlPage.svg(id, chart, W, H);
    }

    private static String fmt(double v) {
        if (Double.isNaN(v)) return "n/a";
        if (v != 0 && Math.abs(v) < 0.01) return String.format(Locale.ROOT, "%.2e", v);
        return String.format(Locale.ROOT, "%.3f", v);
    }

}
