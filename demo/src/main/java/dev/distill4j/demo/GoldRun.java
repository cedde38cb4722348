package dev.distill4j.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Json;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.RunManifest;
import dev.distill4j.core.Sample;
import dev.distill4j.core.SampleKey;
import dev.distill4j.core.SampleStatus;
import dev.distill4j.core.Version;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.demo.TaskCorpus.Task;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A run whose "teacher" is the corpus itself: one done TEXT sample per task whose text is the worked response,
 * from provider {@value #PROVIDER}, model {@value #MODEL}. The trainer reads it like any harvested run, so the
 * house teacher is trained with the ordinary {@code sft} loss.
 */
public final class GoldRun {
    public static final String PROVIDER = "corpus";
    public static final String MODEL = "gold";
    public static final String ENDPOINT = "chat";
    public static final String SOURCE = "TaskCorpus";

    private GoldRun() {}

    /**
     * Writes run.json and stores the tasks' prompts and gold samples in {@code runDir}'s store; filling again with
     * the same tasks changes nothing. Returns the number of samples stored.
     */
    public static int fill(Path runDir, List<Task> tasks) throws IOException {
        ObjectNode sampling = Json.object();
        Instant now = Instant.now();
        List<Prompt> prompts = new ArrayList<>(tasks.size());
        List<Sample> samples = new ArrayList<>(tasks.size());
        for (int i = 0; i < tasks.size(); i++) {
            Task t = tasks.get(i);
            Prompt p = CorpusFiles.prompt(t, SOURCE, i + 1);
            prompts.add(p);
            samples.add(Sample.builder(SampleKey.of(p, PROVIDER, MODEL, ENDPOINT, sampling, 0), p.id(), 0)
                    .status(SampleStatus.DONE).text(t.rationale()).finishReason("stop").attempts(1).stored(now)
                    .build());
        }
        Instant created = RunManifest.exists(runDir) ? RunManifest.read(runDir).created() : now;
        RunManifest manifest = new RunManifest(PROVIDER, null, MODEL, ENDPOINT, null, Capability.TEXT.toString(),
                sampling, SOURCE, SampleKey.sha256Hex(CorpusFiles.promptsJsonl(tasks)), Version.VERSION, created, now);
        try (RunStore store = RunStore.open(runDir)) {
            manifest.write(runDir);
            store.putPrompts(prompts);
            store.upsertSamples(samples);
        }
        return samples.size();
    }
}
