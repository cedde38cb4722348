package dev.distill4j.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.distill4j.core.Message;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import jinjava.javax.el.CompositeELResolver;

/**
 * A Hugging Face chat template (Jinja2) rendered with Jinjava the way {@code tokenizer.apply_chat_template} renders
 * it: {@code trim_blocks} and {@code lstrip_blocks} on; variables {@code messages}, {@code add_generation_prompt},
 * the special tokens ({@code bos_token}, {@code eos_token}, ...), plus any extras (e.g. {@code tools},
 * {@code enable_thinking}); functions {@code raise_exception(msg)} and {@code strftime_now(fmt)}; HF's
 * {@code tojson} (Python {@code json.dumps}); Python str methods ({@link PyMethods}).
 *
 * <p>What Jinjava's parser lacks (whitespace control on expressions, keyword values with filters, reversed
 * slices, HF's generation markers) is rewritten in the source first, see {@link JinjaCompat}.
 *
 * <p>For training, {@link #renderWithAssistantSpan} renders a prompt and its reply and says where the reply's
 * text lies, so the trainer masks everything before it.
 */
public final class ChatTemplate {
    /** What {@link #renderWithAssistantSpan} returns: the full text and character offsets into it. */
    public record AssistantSpan(String text, int promptEnd, int contentStart, int contentEnd) {
        /** The rendered prompt including the generation prompt ("<|im_start|>assistant\n"). */
        public String prompt() { return text.substring(0, promptEnd); }

        /** What the model should learn to produce after the prompt: the reply and the end-of-turn markup. */
        public String completion() { return text.substring(promptEnd); }
    }

    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    private final String source;
    private final String prepared;
    private final SpecialTokens specialTokens;
    private final Clock clock;
    private final Jinjava jinjava;

    public ChatTemplate(String source, SpecialTokens specialTokens, Clock clock) {
        this.source = source;
        this.prepared = JinjaCompat.prepare(source);
        this.specialTokens = specialTokens == null ? SpecialTokens.NONE : specialTokens;
        this.clock = clock;
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PyMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
        // Python semantics where Jinjava offers them: iterating a dict yields its keys, {k: v} evaluates k,
        // None survives in loops, dicts and lists print as Python reprs
        LegacyOverrides python = LegacyOverrides.newBuilder().withIterateOverMapKeys(true).withEvaluateMapKeys(true)
                .withKeepNullableLoopValues(true).withUsePyishObjectMapper(true).build();
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withElResolver(resolver).withLegacyOverrides(python).build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class,
                "raiseException", Object.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now", ChatTemplate.class,
                "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFilter(new ToJson());
    }

    public ChatTemplate(String source, SpecialTokens specialTokens) {
        this(source, specialTokens, Clock.systemDefaultZone());
    }

    /**
     * The template of a model folder: {@code chat_template.jinja}, else {@code chat_template.json}, else
     * tokenizer_config.json's {@code chat_template} (a string, or a list of {name, template} where "default" is
     * used); empty when the model has none (a base model).
     */
    public static Optional<ChatTemplate> load(Path dir) throws IOException {
        SpecialTokens tokens = SpecialTokens.read(dir);
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) return Optional.of(new ChatTemplate(Files.readString(jinja), tokens));
        JsonNode t = SpecialTokens.readJson(dir.resolve("chat_template.json")).get("chat_template");
        if (t == null) t = SpecialTokens.readJson(dir.resolve("tokenizer_config.json")).get("chat_template");
        if (t == null || t.isNull()) return Optional.empty();
        if (t.isTextual()) return Optional.of(new ChatTemplate(t.asText(), tokens));
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText())) {
                    return Optional.of(new ChatTemplate(named.path("template").asText(), tokens));
                }
            }
            throw new IOException(dir.resolve("tokenizer_config.json") + ": chat_template lists named templates but "
                    + "none is called \"default\"");
        }
        throw new IOException(dir.resolve("tokenizer_config.json") + ": chat_template must be a string or a list");
    }

    public String source() { return source; }

    public String render(List<Message> messages, boolean addGenerationPrompt) {
        return render(toMaps(messages), addGenerationPrompt, Map.of());
    }

    /**
     * Renders {@code messages} (maps with role, content and whatever else the template reads, such as
     * tool_calls) with extra variables.
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        Map<String, Object> vars = new HashMap<>();
        vars.put("bos_token", nullToEmpty(specialTokens.bosToken()));
        vars.put("eos_token", nullToEmpty(specialTokens.eosToken()));
        vars.put("pad_token", nullToEmpty(specialTokens.padToken()));
        vars.put("unk_token", nullToEmpty(specialTokens.unkToken()));
        // HF passes strftime_now as a global, so templates test it with "is defined" before calling it
        vars.put("strftime_now", Boolean.TRUE);
        vars.putAll(extra);
        vars.put("messages", hideControls(messages));
        vars.put("add_generation_prompt", addGenerationPrompt);
        ClockHolder.CLOCK.set(clock);
        RAISED.remove();
        try {
            RenderResult r = jinjava.renderForResult(prepared, vars);
            String raised = RAISED.get();
            if (raised != null) throw new ChatTemplateException("the chat template refused the messages: " + raised);
            for (TemplateError e : r.getErrors()) {
                if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                    throw new ChatTemplateException("chat template error at line " + e.getLineno() + ": "
                            + e.getMessage() + (e.getFieldName() == null ? "" : " (in '" + e.getFieldName() + "')"));
                }
            }
            return revealControls(r.getOutput());
        } finally {
            RAISED.remove();
            ClockHolder.CLOCK.remove();
        }
    }

    /**
     * Renders {@code prompt} followed by an assistant turn with {@code reply}, and locates the reply: the prompt
     * part is the template rendered with {@code add_generation_prompt=true}, which must be a prefix of the full
     * rendering (true for ChatML, Llama 3, Qwen); the reply is searched after it. A trainer tokenizes
     * {@code prompt()} and {@code completion()} and computes the loss on the completion's tokens only.
     */
    public AssistantSpan renderWithAssistantSpan(List<Map<String, Object>> prompt, String reply,
                                                 Map<String, Object> extra) {
        String head = render(prompt, true, extra);
        List<Map<String, Object>> all = new ArrayList<>(prompt);
        all.add(Map.of("role", "assistant", "content", reply));
        String full = render(all, false, extra);
        if (!full.startsWith(head)) {
            throw new ChatTemplateException("this chat template renders the conversation differently once the reply "
                    + "is added (the prompt is not a prefix), so the reply cannot be masked by position");
        }
        int start = full.indexOf(reply, head.length());
        String found = reply;
        if (start < 0) {
            // templates such as Llama 3's trim the content
            found = reply.strip();
            start = full.indexOf(found, head.length());
        }
        if (start < 0) throw new ChatTemplateException("the rendered conversation does not contain the reply text");
        return new AssistantSpan(full, head.length(), start, start + found.length());
    }

    public AssistantSpan renderWithAssistantSpan(List<Message> prompt, String reply) {
        return renderWithAssistantSpan(toMaps(prompt), reply, Map.of());
    }

    static List<Map<String, Object>> toMaps(List<Message> messages) {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (Message m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            out.add(map);
        }
        return out;
    }

    private static String nullToEmpty(String s) { return s == null ? "" : s; }

    /** Where a hidden control character lives while Jinjava renders: plane-16 private use, U+10FF00 + c. */
    private static final int HIDDEN_BASE = 0x10FF00;

    /**
     * Jinjava's string concatenation writes control characters as escapes (backslash, u, four hex digits), so a message holding one
     * (sampled text can) would render as six other characters: the prompt a model sees changes and a trainer no
     * longer finds the reply. Message strings travel with their control characters (other than tab, newline, CR)
     * swapped for private-use code points, swapped back in the output.
     */
    static List<Map<String, Object>> hideControls(List<Map<String, Object>> messages) {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (Map<String, Object> m : messages) {
            Map<String, Object> copy = new LinkedHashMap<>(m);
            copy.replaceAll((k, v) -> v instanceof String str ? hideControls(str) : v);
            out.add(copy);
        }
        return out;
    }

    static String hideControls(String s) {
        if (s.chars().noneMatch(ChatTemplate::isHiddenControl)) return s;
        StringBuilder b = new StringBuilder(s.length() + 8);
        s.codePoints().forEach(c -> b.appendCodePoint(isHiddenControl(c) ? HIDDEN_BASE + c : c));
        return b.toString();
    }

    static String revealControls(String s) {
        if (s.indexOf(Character.highSurrogate(HIDDEN_BASE)) < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.appendCodePoint(c >= HIDDEN_BASE && c <= HIDDEN_BASE + 0x7F
                && isHiddenControl(c - HIDDEN_BASE) ? c - HIDDEN_BASE : c));
        return b.toString();
    }

    private static boolean isHiddenControl(int c) {
        return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
    }

    /** {@code raise_exception(msg)}: remembered, then thrown once Jinjava returns (it swallows exceptions). */
    public static Object raiseException(Object message) {
        String m = String.valueOf(message);
        RAISED.set(m);
        throw new ChatTemplateException(m);
    }

    private static final class ClockHolder {
        static final ThreadLocal<Clock> CLOCK = new ThreadLocal<>();
    }

    /** {@code strftime_now(fmt)} with Python's strftime directives, in the template's clock. */
    public static String strftimeNow(String format) {
        Clock c = ClockHolder.CLOCK.get();
        return strftime(ZonedDateTime.now(c == null ? Clock.systemDefaultZone() : c), format);
    }

    static String strftime(ZonedDateTime t, String format) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                sb.append(c);
                continue;
            }
            char d = format.charAt(++i);
            switch (d) {
                case 'd' -> sb.append(String.format("%02d", t.getDayOfMonth()));
                case 'm' -> sb.append(String.format("%02d", t.getMonthValue()));
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(String.format("%02d", t.getYear() % 100));
                case 'H' -> sb.append(String.format("%02d", t.getHour()));
                case 'M' -> sb.append(String.format("%02d", t.getMinute()));
                case 'S' -> sb.append(String.format("%02d", t.getSecond()));
                case 'b' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'j' -> sb.append(String.format("%03d", t.getDayOfYear()));
                case 'F' -> sb.append(t.format(DateTimeFormatter.ISO_LOCAL_DATE));
                case '%' -> sb.append('%');
                default -> sb.append('%').append(d);
            }
        }
        return sb.toString();
    }

    /** HF's tojson: {@code json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=sort_keys)}. */
    private static final class ToJson implements Filter {
        @Override
        public String getName() { return "tojson"; }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            boolean sort = Boolean.TRUE.equals(kwargs.get("sort_keys"));
            return PyJson.dumps(var, indent == null ? null : ((Number) indent).intValue(), sort);
        }
    }
}
