package dev.distill4j.eval;

import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.awt.Shape;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * Reads the inline SVG charts of a report as XML and works out where a text lands on the page: the transforms of
 * the element and its ancestors, and every clip path applied to them, each in the user space of the element that
 * references it (SVG's {@code clipPathUnits="userSpaceOnUse"}, JFreeSVG's only kind).
 */
final class SvgCharts {
    private static final Pattern SVG = Pattern.compile("<svg id='([^']+)'.*?</svg>", Pattern.DOTALL);
    private static final Pattern MATRIX = Pattern.compile("matrix\\(([^)]*)\\)");
    private static final Pattern TRANSLATE = Pattern.compile("translate\\(([^)]*)\\)");

    private SvgCharts() {}

    /** The report's charts by their {@code <svg id>}, each parsed on its own (the page around them is HTML). */
    static Map<String, Document> charts(String html) throws Exception {
        Map<String, Document> out = new LinkedHashMap<>();
        Matcher m = SVG.matcher(html);
        while (m.find()) out.put(m.group(1), parse(m.group()));
        return out;
    }

    static Document parse(String svg) throws Exception {
        var f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
    }

    /**
     * The page position of the anchor of the {@code <text>} whose content is {@code label}, checking that it is a
     * vertical axis label a reader can see: drawn reading bottom to top, its anchor inside the chart and inside
     * every clip path on the text and on its ancestors.
     *
     * @throws AssertionError saying which of these fails
     */
    static Point2D visibleVerticalLabel(Document svg, String label) {
        // a legend item may read the same as the axis (the "loss" series of the loss chart): only rotated texts count
        List<Element> rotated = new ArrayList<>();
        int level = 0;
        NodeList texts = svg.getElementsByTagNameNS("*", "text");
        for (int i = 0; i < texts.getLength(); i++) {
            Element t = (Element) texts.item(i);
            if (!t.getTextContent().equals(label)) continue;
            Point2D along = userSpace(t).deltaTransform(new Point2D.Double(1, 0), null);
            if (Math.abs(along.getX()) < 1e-9 && along.getY() < 0) rotated.add(t);
            else level++;
        }
        if (rotated.size() != 1) {
            throw new AssertionError(rotated.size() + " <text> elements read '" + label + "' bottom to top (and "
                    + level + " in other directions)");
        }
        Element text = rotated.getFirst();
        Point2D anchor = userSpace(text).transform(new Point2D.Double(number(text, "x"), number(text, "y")), null);
        Element root = svg.getDocumentElement();
        var page = new Rectangle2D.Double(0, 0, number(root, "width"), number(root, "height"));
        if (!page.contains(anchor)) throw new AssertionError("'" + label + "' is anchored off the chart at " + anchor);
        for (Node n = text; n instanceof Element e; n = n.getParentNode()) {
            String ref = e.getAttribute("clip-path");
            if (ref.isEmpty()) continue;
            Shape clip = userSpace(e).createTransformedShape(clipPath(svg, ref));
            if (!clip.contains(anchor)) {
                throw new AssertionError("'" + label + "' at " + anchor + " is clipped away by " + ref + " on <"
                        + e.getLocalName() + ">, which keeps only " + clip.getBounds2D());
            }
        }
        return anchor;
    }

    /** The element's user space on the page: its ancestors' transforms, outermost first, then its own. */
    private static AffineTransform userSpace(Element element) {
        List<Element> chain = new ArrayList<>();
        for (Node n = element; n instanceof Element e; n = n.getParentNode()) chain.addFirst(e);
        AffineTransform t = new AffineTransform();
        for (Element e : chain) t.concatenate(transform(e.getAttribute("transform")));
        return t;
    }

    private static AffineTransform transform(String attribute) {
        if (attribute.isBlank()) return new AffineTransform();
        Matcher m = MATRIX.matcher(attribute);
        if (m.matches()) {
            double[] v = numbers(m.group(1));
            return new AffineTransform(v[0], v[1], v[2], v[3], v[4], v[5]);
        }
        m = TRANSLATE.matcher(attribute);
        if (m.matches()) {
            double[] v = numbers(m.group(1));
            return AffineTransform.getTranslateInstance(v[0], v.length > 1 ? v[1] : 0);
        }
        throw new IllegalArgumentException("transform this test cannot read: " + attribute);
    }

    /** The union of a {@code <clipPath>}'s shapes, in the user space of the element that references it. */
    private static Shape clipPath(Document svg, String ref) {
        String id = ref.replaceFirst("^url\\(#(.*)\\)$", "$1");
        NodeList paths = svg.getElementsByTagNameNS("*", "clipPath");
        for (int i = 0; i < paths.getLength(); i++) {
            Element c = (Element) paths.item(i);
            if (!c.getAttribute("id").equals(id)) continue;
            Path2D union = new Path2D.Double();
            for (Node n = c.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (!(n instanceof Element e)) continue;
                AffineTransform own = transform(e.getAttribute("transform"));
                switch (e.getLocalName()) {
                    case "path" -> union.append(own.createTransformedShape(path(e.getAttribute("d"))), false);
                    case "rect" -> union.append(own.createTransformedShape(new Rectangle2D.Double(number(e, "x"),
                            number(e, "y"), number(e, "width"), number(e, "height"))), false);
                    default -> throw new IllegalArgumentException("clip shape this test cannot read: <"
                            + e.getLocalName() + ">");
                }
            }
            return union;
        }
        throw new AssertionError("clip-path " + ref + " names no <clipPath>");
    }

    /** Path data of straight segments (M, L, Z: what JFreeSVG writes for rectangles and polygons). */
    private static Path2D path(String d) {
        Path2D p = new Path2D.Double();
        Matcher m = Pattern.compile("([MLZ])([^MLZ]*)").matcher(d.strip());
        int end = 0;
        while (m.find()) {
            if (m.start() != end) throw new IllegalArgumentException("path data this test cannot read: " + d);
            end = m.end();
            double[] v = m.group(1).equals("Z") ? new double[0] : numbers(m.group(2));
            switch (m.group(1)) {
                case "M" -> p.moveTo(v[0], v[1]);
                case "L" -> p.lineTo(v[0], v[1]);
                default -> p.closePath();
            }
        }
        if (end != d.strip().length()) throw new IllegalArgumentException("path data this test cannot read: " + d);
        return p;
    }

    private static double number(Element e, String attribute) {
        return Double.parseDouble(e.getAttribute(attribute).replaceFirst("px$", ""));
    }

    private static double[] numbers(String list) {
        String[] parts = list.strip().split("[\\s,]+");
        double[] v = new double[parts.length];
        for (int i = 0; i < parts.length; i++) v[i] = Double.parseDouble(parts[i]);
        return v;
    }
}
