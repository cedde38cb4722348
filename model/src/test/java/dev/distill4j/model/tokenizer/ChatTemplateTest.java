package dev.distill4j.model.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill4j.core.Json;
import dev.distill4j.core.Message;
import dev.distill4j.model.testing.TinyTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {
    @TempDir Path dir;

    static final SpecialTokens CHATML = new SpecialTokens(null, "<|im_end|>", "<|endoftext|>", null, false, false);
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-24T07:30:00Z"), ZoneOffset.UTC);

    static ChatTemplate template(String name, SpecialTokens tokens) throws IOException {
        return new ChatTemplate(Files.readString(Path.of("src/test/resources/chat-templates/" + name + ".jinja")),
                tokens, CLOCK);
    }

    /** What Python Jinja2 3.1, set up as transformers sets it up, renders for the same inputs (reference_render.py). */
    static String jinja2(String key) throws IOException {
        return Json.parse(Files.readString(Path.of("src/test/resources/chat-templates/expected-jinja2.json")))
                .get(key).asText();
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> json(String s) {
        return (List<Map<String, Object>>) Json.MAPPER.convertValue(Json.parse(s), List.class);
    }

    @Test
    void smolLm2AddsDefaultSystemPrompt() throws IOException {
        ChatTemplate t = template("smollm2", CHATML);
        assertThat(t.render(List.of(Message.user("Hi")), true)).isEqualTo(jinja2("smol1"));
        assertThat(t.render(List.of(Message.system("Be brief."), Message.user("Hi"), Message.assistant("Hello!")), false))
                .isEqualTo(jinja2("smol2"));
        assertThat(t.render(List.of(Message.user("Hi")), true)).isEqualTo(
                "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
        assertThat(t.render(List.of(Message.system("Be brief."), Message.user("Hi"), Message.assistant("Hello!")), false))
                .isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                        + "<|im_start|>assistant\nHello!<|im_end|>\n");
    }

    /** Sampled text can hold control characters; Jinjava alone would render them as backslash-u escapes. */
    @Test
    void controlCharactersInMessagesRenderAsThemselves() throws IOException {
        ChatTemplate t = template("smollm2", CHATML);
        String reply = "multiply\u000e and\u0001 tab\t end\u007f";
        String full = t.render(List.of(Message.system("s\u0002"), Message.user("Hi"), Message.assistant(reply)), false);
        assertThat(full).isEqualTo("<|im_start|>system\ns\u0002<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\n" + reply + "<|im_end|>\n");
        ChatTemplate.AssistantSpan span = t.renderWithAssistantSpan(List.of(Message.user("Hi")), reply);
        assertThat(span.text().substring(span.contentStart(), span.contentEnd())).isEqualTo(reply);
    }

    @Test
    void tinyLlamaReliesOnTrimBlocks() throws IOException {
        ChatTemplate t = template("tinyllama", new SpecialTokens("<s>", "</s>", null, "<unk>", true, false));
        assertThat(t.render(List.of(Message.system("You are a bot."), Message.user("Hi")), true))
                .isEqualTo(jinja2("tiny"))
                .isEqualTo("<|system|>\nYou are a bot.</s>\n<|user|>\nHi</s>\n<|assistant|>\n");
    }

    @Test
    void qwen25WithAndWithoutTools() throws IOException {
        ChatTemplate t = template("qwen2.5", CHATML);
        assertThat(t.render(List.of(Message.user("Hi")), true)).isEqualTo(
                "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");

        List<Map<String, Object>> tools = json("""
                [{"type":"function","function":{"name":"get_weather","description":"Get the weather, e.g. in Zürich",
                  "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]""");
        List<Map<String, Object>> messages = json("""
                [{"role":"user","content":"Weather in Paris?"},
                 {"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":{"city":"Paris","days":2.5}}}]},
                 {"role":"tool","content":"sunny"}]""");
        String out = t.render(messages, true, Map.of("tools", tools));
        assertThat(out).isEqualTo(jinja2("qwen25tools"));
        assertThat(t.render(List.of(Message.user("Hi")), true)).isEqualTo(jinja2("qwen25a"));
        assertThat(out).isEqualTo("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
                + "assistant.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
                + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get the "
                + "weather, e.g. in Zürich\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": "
                + "{\"type\": \"string\"}}, \"required\": [\"city\"]}}}\n</tools>\n\n"
                + "For each function call, return a json object with function name and arguments within "
                + "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
                + "<args-json-object>}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
                + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                + "\"Paris\", \"days\": 2.5}}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n"
                + "<|im_start|>assistant\n");
    }

    @Test
    void qwen3StripsHistoricalThinkingAndHonoursEnableThinking() throws IOException {
        ChatTemplate t = template("qwen3", CHATML);
        List<Map<String, Object>> messages = json("""
                [{"role":"user","content":"2+2?"},
                 {"role":"assistant","content":"<think>\\nadd them\\n</think>\\n\\n4"},
                 {"role":"user","content":"and 3+3?"}]""");
        assertThat(t.render(messages, true, Map.of())).isEqualTo(jinja2("qwen3a"));
        assertThat(t.render(messages, true, Map.of("enable_thinking", false))).isEqualTo(jinja2("qwen3b"));
        assertThat(t.render(messages, true, Map.of())).isEqualTo("<|im_start|>user\n2+2?<|im_end|>\n"
                + "<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nand 3+3?<|im_end|>\n<|im_start|>assistant\n");
        assertThat(t.render(messages, true, Map.of("enable_thinking", false)))
                .endsWith("<|im_start|>assistant\n<think>\n\n</think>\n\n");

        ChatTemplate.AssistantSpan span = t.renderWithAssistantSpan(List.of(Message.user("hi")), "Hello!");
        assertThat(span.prompt()).isEqualTo("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
        assertThat(span.completion()).isEqualTo("<think>\n\n</think>\n\nHello!<|im_end|>\n");
        assertThat(span.text()).isEqualTo(jinja2("qwen3span"));
        assertThat(span.text().substring(span.contentStart(), span.contentEnd())).isEqualTo("Hello!");
    }

    @Test
    void llama32UsesDateTrimAndTools() throws IOException {
        ChatTemplate t = template("llama3.2",
                new SpecialTokens("<|begin_of_text|>", "<|eot_id|>", null, null, true, false));
        assertThat(t.render(List.of(Message.system(" You are a bot. "), Message.user("  Hi\n")), true))
                .isEqualTo(jinja2("llama1"))
                .isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                        + "Cutting Knowledge Date: December 2023\nToday Date: 24 Nov 2026\n\nYou are a bot.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");

        List<Map<String, Object>> tools = json("""
                [{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{},"required":["x"]}}}]""");
        String out = t.render(json("[{\"role\":\"user\",\"content\":\"Go\"}]"), false,
                Map.of("tools", tools, "date_string", "01 Jan 2025"));
        assertThat(out).isEqualTo(jinja2("llama2"));
        assertThat(out).isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Environment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\n<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nGiven the following functions, please respond with a JSON "
                + "for a function call with its proper arguments that best answers the given prompt.\n\n"
                + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its "
                + "value}.Do not use variables.\n\n"
                + "{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"f\",\n"
                + "        \"parameters\": {\n            \"type\": \"object\",\n            \"properties\": {},\n"
                + "            \"required\": [\n                \"x\"\n            ]\n        }\n    }\n}\n\n"
                + "Go<|eot_id|>");

        // the template's own raise_exception surfaces with its message
        assertThatThrownBy(() -> t.render(json("[{\"role\":\"system\",\"content\":\"s\"}]"), true, Map.of("tools", tools)))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessage("the chat template refused the messages: " + jinja2("llama_raise"))
                .hasMessage("the chat template refused the messages: Cannot put tools in the first user message when "
                        + "there's no first user message!");

        ChatTemplate.AssistantSpan span = t.renderWithAssistantSpan(List.of(Message.user("Hi")), " Hello! ");
        assertThat(span.completion()).isEqualTo("Hello!<|eot_id|>");
        assertThat(span.text().substring(span.contentStart(), span.contentEnd())).isEqualTo("Hello!");
    }

    @Test
    void loadsFromTokenizerConfigAndJinjaFile() throws IOException {
        ChatTemplate t = ChatTemplate.load(TinyTokenizer.write(dir)).orElseThrow();
        assertThat(t.render(List.of(Message.user("Hi")), true))
                .isEqualTo("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\":{\"content\":\"E\"},"
                + "\"chat_template\":[{\"name\":\"tool_use\",\"template\":\"T\"},"
                + "{\"name\":\"default\",\"template\":\"{{ messages[0].content }}{{ eos_token }}\"}]}");
        assertThat(ChatTemplate.load(dir).orElseThrow().render(List.of(Message.user("x")), false)).isEqualTo("xE");

        Files.writeString(dir.resolve("chat_template.jinja"), "J{{ messages|length }}");
        assertThat(ChatTemplate.load(dir).orElseThrow().render(List.of(Message.user("x")), false)).isEqualTo("J1");

        Path base = Files.createDirectories(dir.resolve("base"));
        Files.writeString(base.resolve("tokenizer_config.json"), "{}");
        assertThat(ChatTemplate.load(base)).isEmpty();
    }

    @Test
    void pythonStringMethodsAndErrors() {
        ChatTemplate t = new ChatTemplate("{{ messages[0].content.split(',')|length }}|{{ ' a b '.split()|join('/') }}|"
                + "{{ 'a.b.c'.split('.', 1)[1] }}|{{ 'xxhixx'.strip('x') }}|{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}|"
                + "{{ 'hello world'.title() }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ {'a': 1}.get('b', 2) }}|"
                + "{{ '-'.join(['a', 'b']) }}|{{ 'aaa'.replace('a', 'b', 2) }}", SpecialTokens.NONE);
        assertThat(t.render(List.of(Message.user("1,2,3")), false)).isEqualTo("3|a/b|b.c|hi|HIhi|Hello World|true|2|a-b|bba");

        ChatTemplate broken = new ChatTemplate("{{ messages[0].content.nosuchmethod() }}", SpecialTokens.NONE);
        assertThatThrownBy(() -> broken.render(List.of(Message.user("x")), false))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("chat template error at line 1");
    }

    /** Small templates covering whitespace control, kwargs, slices, tojson, loops: same output as Python Jinja2. */
    @Test
    void matchesPythonJinja2OnFeatureCases() throws IOException {
        JsonNode cases = Json.parse(Files.readString(Path.of("src/test/resources/chat-templates/jinja2-cases.json")));
        List<Map<String, Object>> messages = json("""
                [{"role": "system", "content": "  sys  "}, {"role": "user", "content": "a, b\\n</think>c"},
                 {"role": "assistant", "content": "ok"}]""");
        List<String> failures = new java.util.ArrayList<>();
        for (JsonNode c : cases) {
            String template = c.get("template").asText();
            String expected = c.get("expected").asText();
            String actual;
            try {
                actual = new ChatTemplate(template, SpecialTokens.NONE, CLOCK).render(messages, false, Map.of());
            } catch (RuntimeException e) {
                actual = "EXCEPTION " + e.getMessage();
            }
            if (!expected.equals(actual)) failures.add(template + "\n  expected " + Json.write(expected) + "\n  actual   " + Json.write(actual));
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void pyJsonMatchesPythonFloatsAndEscapes() {
        assertThat(PyJson.pyFloat(1.0)).isEqualTo("1.0");
        assertThat(PyJson.pyFloat(0.1)).isEqualTo("0.1");
        assertThat(PyJson.pyFloat(1e-5)).isEqualTo("1e-05");
        assertThat(PyJson.pyFloat(1.5e20)).isEqualTo("1.5e+20");
        assertThat(PyJson.pyFloat(-2.5)).isEqualTo("-2.5");
        assertThat(PyJson.dumps(Map.of("k", "a\"b\n\u0001é"), null, false)).isEqualTo("{\"k\": \"a\\\"b\\n\\u0001é\"}");
        assertThat(PyJson.dumps(List.of(), 2, false)).isEqualTo("[]");
    }
}
