package dev.distill4j.cli;

import dev.distill4j.core.Json;
import dev.distill4j.embed.corpus.RealCorpus;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "corpus", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Build or show the real-English corpus the embedding commands use by default: sentences "
                + "from Debian documentation (manuals, the Debian Reference and Handbook, FAQs, the Jargon File, "
                + "Perl documentation, man pages) rendered to DIR/docs by " + RealCorpus.SCRIPT + ", split into "
                + "sentences, filtered to prose, de-duplicated (exact and near) and split into training and "
                + "evaluation sets by source document, so no evaluation sentence comes from a document, or "
                + "duplicates a sentence, that training saw.",
                "",
                "Writes DIR/train.txt, DIR/eval.txt (one sentence a line, shuffled) and DIR/corpus.json (sources, "
                        + "counts, what each filter dropped, the overlap check)."},
        footer = {"", "Examples:", "  bench/embed/corpus.sh            (installs, renders, then runs this)",
                "  distill embed corpus", "  distill embed corpus --dir /data/embed-corpus --rebuild --json"})
final class EmbedCorpusCommand implements Callable<Integer> {
    @Option(names = "--dir", paramLabel = "DIR", description = "Corpus folder. Default: $" + RealCorpus.ENV
            + ", else $XDG_CACHE_HOME/distill4j/embed-corpus (~/.cache/… without XDG_CACHE_HOME).")
    Path dir;

    @Option(names = "--rebuild", description = "Build again from DIR/docs even if a built corpus is there.")
    boolean rebuild;

    @Option(names = "--json", description = "Print corpus.json.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Path d = dir != null ? dir : RealCorpus.defaultDir();
        long t0 = System.nanoTime();
        RealCorpus c = RealCorpus.open(d, rebuild);
        if (json) {
            System.out.println(Json.writePretty(c.manifest()));
            return 0;
        }
        var m = c.manifest();
        System.out.println("real-text corpus " + d + (rebuild ? String.format(java.util.Locale.ROOT, " (built in %.1f s)",
                (System.nanoTime() - t0) / 1e9) : ""));
        System.out.println("  " + c.summary());
        var dr = m.path("dropped");
        System.out.printf(java.util.Locale.ROOT, "  %,d candidate sentences: %,d not prose or outside %d-%d words, "
                        + "%,d exact and %,d near duplicates dropped%n", dr.path("candidates").asLong(),
                dr.path("not_prose_or_length").asLong(), m.path("limits").path("min_words").asInt(),
                m.path("limits").path("max_words").asInt(), dr.path("exact_duplicates").asLong(),
                dr.path("near_duplicates").asLong());
        var it = m.path("sources").fields();
        while (it.hasNext()) {
            var e = it.next();
            var s = e.getValue();
            System.out.printf(java.util.Locale.ROOT, "  %-22s %,6d + %,5d documents, %,7d + %,6d sentences (train + eval)%n",
                    e.getKey(), s.path("train_documents").asLong(), s.path("eval_documents").asLong(),
                    s.path("train_sentences").asLong(), s.path("eval_sentences").asLong());
        }
        System.out.println("  files    " + c.trainFile() + ", " + c.evalFile());
        return 0;
    }
}
