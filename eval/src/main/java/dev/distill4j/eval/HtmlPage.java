package dev.distill4j.eval;

import java.awt.Rectangle;
import java.util.function.Supplier;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.text.TextUtils;
import org.jfree.svg.SVGGraphics2D;

/**
 * The pieces of the project's self-contained HTML pages (eval's report.html, guard's scan.html): HTML escaping and
 * JFreeChart charts drawn into JFreeSVG as inline {@code <svg>} elements, no scripts, no external assets.
 */
public final class HtmlPage {
    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        // Vertical axis labels are rotated text. JFreeChart draws rotated text through TextLayout by default (a
        // workaround for JDK 1.4's bug 4312117), which reaches JFreeSVG as drawGlyphVector: it can only write glyph
        // outlines, so each label became an anonymous <path>, not text. Without the workaround JFreeChart calls
        // drawString under the rotation and JFreeSVG writes a <text> in a rotated <g>. The switch is JFreeChart's
        // and global; on any current JDK rotated drawString is correct, so nothing else in the JVM loses by it.
        TextUtils.setUseDrawRotatedStringWorkaround(false);
    }

    private HtmlPage() {}

    /**
     * The chart as an inline {@code <svg>} element of {@code width} × {@code height} px; each gets its own id prefix
     * so the clip paths of several charts in one page do not collide. A machine whose JDK cannot lay out text (no
     * fonts) gets a note instead.
     */
    public static String svg(String id, Supplier<JFreeChart> chart, int width, int height) {
        try {
            SVGGraphics2D g = new SVGGraphics2D(width, height);
            g.setDefsKeyPrefix(id + "-");
            // 1/100 px is finer than any screen; full doubles tripled the size of scatter plots
            g.setGeomDoubleConverter(v -> Double.toString(Math.round(v * 100) / 100.0));
            chart.get().draw(g, new Rectangle(0, 0, width, height));
            return g.getSVGElement(id) + "\n";
        } catch (RuntimeException | LinkageError | java.awt.AWTError e) {
            return "<p class=\"note\">Chart '" + esc(id) + "' could not be drawn: " + esc(String.valueOf(e.getMessage()))
                    + "</p>\n";
        }
    }

    /** HTML-escapes text for element content and attribute values. */
    public static String esc(String s) {
        if (s == null) return "";
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(ch);
            }
        }
        return b.toString();
    }
}
