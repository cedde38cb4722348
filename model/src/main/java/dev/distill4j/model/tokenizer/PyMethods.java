package dev.distill4j.model.tokenizer;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's str and dict methods for Jinjava. HF chat templates are written for Python Jinja2, where
 * {@code content.strip()}, {@code role.startswith('sys')} or {@code content.split('</think>')} call Python
 * methods; Jinjava resolves method calls against Java classes, so {@code startswith} does not exist and
 * {@code split} would take a regex. This resolver runs before Jinjava's own and answers those names with Python
 * semantics; anything else falls through.
 */
final class PyMethods extends ELResolver {
    @Override
    public Object invoke(ELContext ctx, Object base, Object method, Class<?>[] types, Object[] params) {
        if (!(method instanceof String m)) return null;
        Object[] p = params == null ? new Object[0] : params;
        Object r = NONE;
        if (base instanceof CharSequence cs) r = stringMethod(cs.toString(), m, p);
        else if (base instanceof Map<?, ?> map) r = mapMethod(map, m, p);
        if (r == NONE) return null;
        ctx.setPropertyResolved(true);
        return r;
    }

    private static final Object NONE = new Object();

    private static Object stringMethod(String s, String m, Object[] p) {
        return switch (m) {
            case "startswith" -> anyPrefix(s, p[0], true);
            case "endswith" -> anyPrefix(s, p[0], false);
            case "strip" -> rstrip(lstrip(s, chars(p)), chars(p));
            case "lstrip" -> lstrip(s, chars(p));
            case "rstrip" -> rstrip(s, chars(p));
            case "split" -> split(s, p.length > 0 ? (String) p[0] : null, p.length > 1 ? toInt(p[1]) : -1);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT)
                    + s.substring(1).toLowerCase(Locale.ROOT);
            case "replace" -> p.length > 2 ? replace(s, str(p[0]), str(p[1]), toInt(p[2]))
                    : s.replace(str(p[0]), str(p[1]));
            case "find" -> s.indexOf(str(p[0]));
            case "count" -> count(s, str(p[0]));
            case "join" -> join(s, p[0]);
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isspace" -> !s.isEmpty() && s.chars().allMatch(Character::isWhitespace);
            default -> NONE;
        };
    }

    private static Object mapMethod(Map<?, ?> map, String m, Object[] p) {
        return switch (m) {
            case "get" -> p.length > 1 ? (map.containsKey(p[0]) ? map.get(p[0]) : p[1]) : map.get(p[0]);
            case "keys" -> new ArrayList<>(map.keySet());
            case "values" -> new ArrayList<>(map.values());
            default -> NONE;
        };
    }

    private static String str(Object o) { return o == null ? "None" : o.toString(); }

    private static int toInt(Object o) { return ((Number) o).intValue(); }

    private static boolean anyPrefix(String s, Object arg, boolean start) {
        if (arg instanceof Collection<?> c) {
            for (Object o : c) if (start ? s.startsWith(str(o)) : s.endsWith(str(o))) return true;
            return false;
        }
        return start ? s.startsWith(str(arg)) : s.endsWith(str(arg));
    }

    /** Characters to strip: null means Python's default, whitespace. */
    private static String chars(Object[] p) { return p.length == 0 || p[0] == null ? null : p[0].toString(); }

    private static boolean strippable(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && strippable(s.charAt(i), chars)) i++;
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int j = s.length();
        while (j > 0 && strippable(s.charAt(j - 1), chars)) j--;
        return s.substring(0, j);
    }

    /** Python str.split: literal separator; without one, runs of whitespace separate and ends are dropped. */
    static List<String> split(String s, String sep, int maxSplit) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            String rest = s.strip();
            while (!rest.isEmpty()) {
                if (maxSplit >= 0 && out.size() == maxSplit) {
                    out.add(rest);
                    return out;
                }
                int i = 0;
                while (i < rest.length() && !Character.isWhitespace(rest.charAt(i))) i++;
                out.add(rest.substring(0, i));
                rest = lstrip(rest.substring(i), null);
            }
            return out;
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int i = s.indexOf(sep, from);
            if (i < 0) break;
            out.add(s.substring(from, i));
            from = i + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static String replace(String s, String a, String b, int n) {
        if (n < 0) return s.replace(a, b);
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (int k = 0; k < n; k++) {
            int i = s.indexOf(a, from);
            if (i < 0) break;
            sb.append(s, from, i).append(b);
            from = i + a.length();
        }
        return sb.append(s.substring(from)).toString();
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) return s.length() + 1;
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) n++;
        return n;
    }

    private static String join(String sep, Object items) {
        List<String> parts = new ArrayList<>();
        if (items instanceof Iterable<?> it) it.forEach(o -> parts.add(str(o)));
        else parts.add(str(items));
        return String.join(sep, parts);
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevLetter = false;
        for (char c : s.toCharArray()) {
            sb.append(prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevLetter = Character.isLetter(c);
        }
        return sb.toString();
    }

    /** {@code s[i]} on a string, negative indices counting from the end, as in Python. */
    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        Integer index = property instanceof Number n ? Integer.valueOf(n.intValue()) : parseIndex(property);
        if (base instanceof CharSequence cs && index != null) {
            int i = index;
            if (i < 0) i += cs.length();
            context.setPropertyResolved(true);
            return i >= 0 && i < cs.length() ? String.valueOf(cs.charAt(i)) : null;
        }
        return null;
    }

    /** Jinjava hands {@code s[0]} over with the index as the string "0". */
    private static Integer parseIndex(Object property) {
        if (!(property instanceof String p) || p.isEmpty() || p.length() > 10) return null;
        for (int k = p.charAt(0) == '-' ? 1 : 0; k < p.length(); k++) if (!Character.isDigit(p.charAt(k))) return null;
        return p.equals("-") ? null : Integer.valueOf(p);
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) { return null; }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) { return true; }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) { return null; }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) { return null; }
}
