package dev.distill4j.model.ops.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.CacheType;
import de.kherud.llama.args.LogFormat;
import dev.distill4j.core.Message;
import dev.distill4j.model.generate.Generation;
import dev.distill4j.model.io.DType;
import dev.distill4j.model.local.LocalModel;
import dev.distill4j.model.ops.ModelInit;
import dev.distill4j.model.ops.gguf.GgufExport.Quantization;
import dev.distill4j.model.testing.TinyModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The binding's own Java API, as an application would use it: {@code LlamaModel} loads the exported file, takes the
 * prompt as text (llama.cpp tokenizes it, parsing the ChatML special tokens) and completes it with temperature 0.
 * The text equals distill4j's greedy text for the same prompt.
 */
class GgufKherudApiTest {
    @TempDir Path tmp;

    @Test
    void llamaModelCompletesAsDistill4jDoes() throws IOException {
        Path dir = tmp.resolve("student");
        ModelInit.create(new ModelInit.Spec("mistral", 2, 64, 4, 2, 128, null, 10000, 256, false, null, 11,
                DType.F32), TinyModels.tokenizerDir(), dir, false);
        TinyModels.wholeCharactersOnly(dir);   // every generated token is whole UTF-8, so text is exact
        Path gguf = tmp.resolve("student.gguf");
        GgufExport.export(dir, gguf, Quantization.F32, (d, t) -> { });

        LlamaModel.setLogger(LogFormat.TEXT, (level, msg) -> { });
        try (LocalModel ours = LocalModel.load(dir);
             LlamaModel theirs = new LlamaModel(new ModelParameters().setModel(gguf.toString()).setCtxSize(256)
                     .setThreads(1).setThreadsBatch(1).setCacheTypeK(CacheType.F32).setCacheTypeV(CacheType.F32)
                     .setGpuLayers(0))) {
            List<String> prompts = List.of("Hello world, how can I help you with this question?",
                    ours.renderChat(List.of(Message.user("What is the answer?"))));
            for (String prompt : prompts) {
                assertThat(theirs.encode(prompt)).as(prompt).containsExactly(ours.encodeText(prompt));
                Generation g = ours.generate(ours.encodeText(prompt), ours.sampling(new LocalModel.SamplingRequest(
                        24, 0.0, null, null, null, null, 0, true)));
                String text = theirs.complete(new InferenceParameters(prompt).setTemperature(0).setNPredict(24)
                        .setCachePrompt(false));
                System.out.printf("kherud LlamaModel: %d tokens, equal text: %s%n", g.tokenIds().length,
                        text.equals(g.text()));
                assertThat(text).as(prompt).isEqualTo(g.text());
            }
        }
    }
}
