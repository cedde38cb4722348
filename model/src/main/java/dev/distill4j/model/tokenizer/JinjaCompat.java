package dev.distill4j.model.tokenizer;

/**
 * Rewrites a Jinja2 template so Jinjava renders it as Python Jinja2 would. Applied once to the source before
 * parsing; each rewrite is a gap in Jinjava 2.7 that HF chat templates hit:
 * <ul>
 *   <li>Whitespace control: Jinjava ignores {@code {{-}} / {@code -}}} and honours {@code {%-} only in part, and
 *       chat templates are full of both. Jinja's rule is textual (strip the whitespace of the template text
 *       before {@code {X-} or after {@code -X}}), so it is applied here and the dashes removed.</li>
 *   <li>Keyword arguments: Jinjava parses {@code namespace(i=xs|length - 1)} as {@code (i=xs|length) - 1}; each
 *       keyword value is parenthesised.</li>
 *   <li>{@code xs[::-1]} (a slice with a step) does not parse; it becomes
 *       {@code xs|reverse}.</li>
 *   <li>HF's {@code {% generation %}} / {@code {% endgeneration %}} (assistant-mask markers) are dropped.</li>
 *   <li>Comments are removed here with Jinja's trim_blocks/lstrip_blocks rules (Jinjava keeps the newline after
 *       them), one trailing newline of the source is dropped (Jinja's keep_trailing_newline=False), and nested
 *       dict literals get a space between closing braces so Jinjava's lexer does not end the tag early.</li>
 * </ul>
 * Text inside {@code {% raw %}} blocks and inside string literals is left alone.
 */
final class JinjaCompat {
    private JinjaCompat() {}

    static String prepare(String template) {
        // Jinja2's default keep_trailing_newline=False drops one newline at the very end of the source
        String src = template.endsWith("\r\n") ? template.substring(0, template.length() - 2)
                : template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
        StringBuilder out = new StringBuilder(src.length());
        int i = 0;
        boolean stripNextText = false;
        while (i < src.length()) {
            int open = nextOpener(src, i);
            String text = src.substring(i, open < 0 ? src.length() : open);
            if (stripNextText) text = stripLeading(text);
            out.append(text);
            if (open < 0) break;
            char kind = src.charAt(open + 1);
            String closer = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
            int bodyStart = open + 2;
            boolean leftStrip = bodyStart < src.length() && src.charAt(bodyStart) == '-';
            if (leftStrip) bodyStart++;
            int close = kind == '#' ? src.indexOf(closer, bodyStart) : findCloser(src, bodyStart, closer);
            if (close < 0) {
                // unterminated tag: leave the rest for Jinjava to report
                out.append(src, open, src.length());
                break;
            }
            boolean rightStrip = close > bodyStart && src.charAt(close - 1) == '-';
            String body = src.substring(bodyStart, rightStrip ? close - 1 : close);
            if (leftStrip) stripTrailing(out);
            stripNextText = rightStrip;
            i = close + 2;
            String keyword = body.strip();
            if (kind == '%' && keyword.equals("raw")) {
                int end = src.indexOf("endraw", i);
                int endTag = end < 0 ? -1 : src.lastIndexOf("{%", end);
                int endClose = end < 0 ? -1 : src.indexOf("%}", end);
                if (endTag < 0 || endClose < 0) {
                    out.append(src, open, src.length());
                    break;
                }
                out.append("{% raw %}").append(src, i, endTag).append("{% endraw %}");
                i = endClose + 2;
                stripNextText = false;
                continue;
            }
            if (kind == '#' || (kind == '%' && (keyword.equals("generation") || keyword.equals("endgeneration")))) {
                // removed here, so lstrip_blocks and trim_blocks apply here as Jinja applies them to comments
                if (!leftStrip) stripLineIndent(out);
                if (!rightStrip && i < src.length() && src.charAt(i) == '\n') i++;
                else if (!rightStrip && src.startsWith("\r\n", i)) i += 2;
                continue;
            }
            out.append('{').append(kind).append(rewriteExpression(body)).append(closer);
        }
        return out.toString();
    }

    /** lstrip_blocks: spaces and tabs between the start of the line and a tag go. */
    private static void stripLineIndent(StringBuilder out) {
        int k = out.length();
        while (k > 0 && (out.charAt(k - 1) == ' ' || out.charAt(k - 1) == '\t')) k--;
        if (k == 0 || out.charAt(k - 1) == '\n') out.setLength(k);
    }

    private static int nextOpener(String s, int from) {
        for (int i = s.indexOf('{', from); i >= 0 && i + 1 < s.length(); i = s.indexOf('{', i + 1)) {
            char c = s.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    /** The position of {@code closer} ending a tag whose body starts at {@code from}, skipping string literals. */
    private static int findCloser(String s, int from, String closer) {
        char quote = 0;
        int depth = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') i++;
                else if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (depth == 0 && s.startsWith(closer, i)) {
                return i;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
                depth--;
            }
        }
        return -1;
    }

    private static String stripLeading(String text) {
        int k = 0;
        while (k < text.length() && Character.isWhitespace(text.charAt(k))) k++;
        return text.substring(k);
    }

    private static void stripTrailing(StringBuilder out) {
        int k = out.length();
        // only template text can end in whitespace; a tag before it ends in a delimiter and stops the strip
        while (k > 0 && Character.isWhitespace(out.charAt(k - 1))) k--;
        out.setLength(k);
    }

    /** Parenthesises keyword-argument values and rewrites {@code [::-1]}, outside string literals. */
    static String rewriteExpression(String e) {
        StringBuilder out = new StringBuilder(e.length() + 8);
        // per open bracket: the bracket char, and whether a keyword value paren is open at that level
        char[] brackets = new char[e.length() + 1];
        boolean[] kwOpen = new boolean[e.length() + 1];
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < e.length(); i++) {
            char c = e.charAt(i);
            if (quote != 0) {
                out.append(c);
                if (c == '\\' && i + 1 < e.length()) out.append(e.charAt(++i));
                else if (c == quote) quote = 0;
                continue;
            }
            if (c == '\'' || c == '"') {
                quote = c;
                out.append(c);
            } else if (e.startsWith("[::-1]", i)) {
                out.append("|reverse");
                i += 5;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
                brackets[depth] = c;
                kwOpen[depth] = false;
                out.append(c);
            } else if (c == ')' || c == ']' || c == '}') {
                if (depth > 0) {
                    if (kwOpen[depth]) out.append(')');
                    depth--;
                }
                // Jinjava's lexer ends an expression at the first "}}", even inside nested dict literals
                if (c == '}' && out.length() > 0 && out.charAt(out.length() - 1) == '}') out.append(' ');
                out.append(c);
            } else if (c == ',' && depth > 0 && kwOpen[depth]) {
                out.append("),");
                kwOpen[depth] = false;
            } else if (c == '=' && depth > 0 && brackets[depth] == '(' && isKeywordEquals(e, i)) {
                out.append("=(");
                kwOpen[depth] = true;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** A lone '=' after an identifier: a keyword argument, not ==, !=, <= or >=. */
    private static boolean isKeywordEquals(String e, int i) {
        if (i + 1 < e.length() && e.charAt(i + 1) == '=') return false;
        int p = i - 1;
        if (p >= 0 && "=!<>".indexOf(e.charAt(p)) >= 0) return false;
        while (p >= 0 && e.charAt(p) == ' ') p--;
        return p >= 0 && (Character.isLetterOrDigit(e.charAt(p)) || e.charAt(p) == '_');
    }
}
