package dev.distill4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill import} as a user runs it, and the run it makes read back by inspect and export. */
class ImportCliTest {
    @TempDir Path tmp;

    @Test
    void importsAnAlpacaFileListsWhatItSkippedAndTheRunReadsBack() throws Exception {
        Path data = tmp.resolve("alpaca_data.json");
        Files.writeString(data, """
                [{"instruction": "Name a prime.", "input": "", "output": "7"},
                 {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"},
                 {"instruction": "Broken", "input": ""}]
                """);
        Path run = tmp.resolve("gold");
        var r = DistillProcess.run(Map.of(), tmp.resolve("l1"), "import", "--run", run.toString(), "--format",
                "alpaca", data.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("as dataset/alpaca_data").contains("2 read, 2 new samples stored")
                .contains("skipped   1 malformed").contains("alpaca_data.json:3: no \"output\"");
        var inspect = DistillProcess.run(Map.of(), tmp.resolve("l2"), "inspect", run.toString());
        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        assertThat(inspect.stdout()).contains("dataset");
        Path out = tmp.resolve("out.jsonl");
        var export = DistillProcess.run(Map.of(), tmp.resolve("l3"), "export", run.toString(), "--format",
                "openai-chat", "--out", out.toString());
        assertThat(export.exitCode()).as(export.toString()).isZero();
        assertThat(Files.readString(out)).contains("Add the numbers.\\n\\n2 and 3").contains("\"content\":\"5\"");

        var bad = DistillProcess.run(Map.of(), tmp.resolve("l4"), "import", "--run", run.toString(), "--format",
                "parquet", data.toString());
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.stderr()).contains("unknown import format 'parquet'");
    }
}
