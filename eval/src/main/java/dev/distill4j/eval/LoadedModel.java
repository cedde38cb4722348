package dev.distill4j.eval;

import dev.distill4j.core.InvalidInputException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill4j.core.Prompt;
import dev.distill4j.model.config.GenerationConfig;
import dev.distill4j.model.config.ModelConfig;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.generate.Generator;
import dev.distill4j.model.generate.SamplingParams;
import dev.distill4j.model.io.Checkpoint;
import dev.distill4j.model.io.ModelInfo;
import dev.distill4j.model.nn.CausalLM;
import dev.distill4j.model.tokenizer.ChatTemplate;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.train.data.ExampleBuilder.PromptFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A model folder loaded for evaluation: weights, tokenizer, chat template and stop tokens, with timed generation.
 * The prompt is rendered the way {@code ExampleBuilder} renders it for training, so the student sees at eval time
 * exactly the tokens it was trained to continue.
 */
public final class LoadedModel implements AutoCloseable {
    private final Path dir;
    private final CausalLM model;
    private final HfTokenizer tokenizer;
    private final ChatTemplate template;
    private final List<Integer> eosIds;
    private final ModelInfo info;
    private final long folderBytes;

    private LoadedModel(Path dir, CausalLM model, HfTokenizer tokenizer, ChatTemplate template, List<Integer> eosIds,
                        ModelInfo info, long folderBytes) {
        this.dir = dir;
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = template;
        this.eosIds = eosIds;
        this.info = info;
        this.folderBytes = folderBytes;
    }

    public static LoadedModel load(Path dir, NDManager parent) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("no model folder at " + dir + ": train a student first (distill train) or pass "
                    + "--student DIR");
        }
        ModelConfig config = ModelConfig.read(dir);
        ModelInfo info = ModelInfo.read(dir);
        CausalLM model;
        try (NDManager load = parent.newSubManager()) {
            Map<String, NDArray> weights = Checkpoint.load(dir, load);
            model = CausalLM.fromWeights(config, weights, parent);
        }
        HfTokenizer tokenizer = HfTokenizer.load(dir);
        ChatTemplate template = ChatTemplate.load(dir).orElse(null);
        Set<Integer> eos = new LinkedHashSet<>(config.eosTokenIds());
        GenerationConfig.read(dir).ifPresent(g -> eos.addAll(g.eosTokenIds()));
        int tokEos = tokenizer.idOf(tokenizer.specialTokens().eosToken());
        if (tokEos >= 0) eos.add(tokEos);
        long bytes;
        try (Stream<Path> files = Files.list(dir)) {
            bytes = files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        }
        return new LoadedModel(dir, model, tokenizer, template, List.copyOf(eos), info, bytes);
    }

    public Path dir() { return dir; }

    public CausalLM model() { return model; }

    public HfTokenizer tokenizer() { return tokenizer; }

    /** The chat template, or null for a base model. */
    public ChatTemplate template() { return template; }

    public List<Integer> eosIds() { return eosIds; }

    public ModelInfo info() { return info; }

    /** Bytes of the files in the model folder (weights, config, tokenizer). */
    public long folderBytes() { return folderBytes; }

    /**
     * The prompt's token ids as training renders them: with the chat template and its generation prompt (no
     * tokenizer-added specials; the template writes them), or as raw text with the tokenizer's specials.
     */
    public int[] promptIds(Prompt prompt, PromptFormat format) {
        PromptFormat f = format == PromptFormat.AUTO ? (template != null ? PromptFormat.CHAT : PromptFormat.RAW) : format;
        if (f == PromptFormat.CHAT) {
            if (template == null) {
                throw new InvalidInputException("the model in " + dir + " has no chat template: add "
                        + "chat_template.jinja, or evaluate with --prompt-format raw if it is a base model");
            }
            List<Map<String, Object>> messages = new ArrayList<>();
            for (var m : prompt.chat()) messages.add(Map.of("role", m.role(), "content", m.content()));
            return tokenizer.encode(template.render(messages, true, Map.of()), false);
        }
        if (prompt.isChat()) {
            throw new InvalidInputException("prompt '" + prompt.id() + "' is a chat, but " + dir + " has no chat "
                    + "template: give the model a chat_template.jinja or evaluate raw-text prompts");
        }
        return tokenizer.encode(prompt.text(), true);
    }

    /** One generation with its timings: a separate prefill forward of the prompt, then the whole generation. */
    public record Timed(Generation generation, long prefillNanos, long totalNanos) {}

    public Timed generate(int[] promptIds, SamplingParams params) {
        long t0 = System.nanoTime();
        try (NDManager m = model.manager().newSubManager()) {
            model.forwardLast(m.create(promptIds, new Shape(1, promptIds.length)), null, null).toFloatArray();
        }
        long t1 = System.nanoTime();
        Generation g = new Generator(model, tokenizer).generate(promptIds, params.withStops(eosIds, params.stopStrings()));
        long t2 = System.nanoTime();
        return new Timed(g, t1 - t0, t2 - t1);
    }

    @Override
    public void close() {
        model.close();
        tokenizer.close();
    }
}
