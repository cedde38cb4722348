package dev.distill4j.guard.watermark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.model.tokenizer.HfTokenizer;
import dev.distill4j.serve.TinyModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatermarkKeyTest {
    @TempDir Path dir;

    @Test
    void aKeyFileRoundTripsIsPrivateAndNeverShowsItsSecret() throws Exception {
        try (HfTokenizer tok = HfTokenizer.load(TinyModel.write(dir.resolve("m")))) {
            WatermarkKey key = WatermarkKey.generate(WatermarkKey.Scheme.KGW, Map.of("gamma", 0.5), tok);
            Path file = dir.resolve("wm.key");
            key.write(file);
            assertThat(WatermarkKey.read(file)).isEqualTo(key);
            assertThat(key.params()).containsEntry("gamma", 0.5).containsEntry("delta", 2.0)
                    .containsEntry("context", 1).containsEntry("hash", "left");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
            String secret = Base64.getEncoder().encodeToString(key.secret());
            assertThat(key.toString()).doesNotContain(secret).contains(key.keyId());
            assertThat(Files.readString(file)).contains(secret);
            key.requireTokenizer(tok, "the model");
        }
    }

    @Test
    void aKeyForAnotherTokenizerIsAClearError() throws Exception {
        try (HfTokenizer tok = HfTokenizer.load(TinyModel.write(dir.resolve("m")))) {
            WatermarkKey key = Keys.of(WatermarkKey.Scheme.GUMBEL, Map.of(), new TokenizerFingerprint("ab".repeat(32), 356), 1);
            assertThatThrownBy(() -> key.requireTokenizer(tok, "model folder m"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("was made for a tokenizer with fingerprint abababababab")
                    .hasMessageContaining("model folder m has");
        }
    }

    @Test
    void badKeyFilesAndParametersAreRejectedWithTheReason() throws Exception {
        Path file = dir.resolve("k.json");
        assertThatThrownBy(() -> WatermarkKey.read(file)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("does not exist").hasMessageContaining("distill guard keygen");
        Files.writeString(file, "{\"format\": \"something-else\"}");
        assertThatThrownBy(() -> WatermarkKey.read(file)).hasMessageContaining("is not a watermark key file");
        TokenizerFingerprint t = new TokenizerFingerprint("0".repeat(64), 10);
        WatermarkKey good = Keys.of(WatermarkKey.Scheme.SYNTHID, Map.of(), t, 3);
        good.write(file);
        Files.writeString(file, Files.readString(file).replace(good.keyId(), "0000000000000000"));
        assertThatThrownBy(() -> WatermarkKey.read(file)).hasMessageContaining("does not match its secret");
        assertThatThrownBy(() -> Watermark.of(Keys.of(WatermarkKey.Scheme.KGW, Map.of("gamma", 1.5), t, 1)))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("gamma");
        assertThatThrownBy(() -> Watermark.of(Keys.of(WatermarkKey.Scheme.KGW, Map.of("hash", "middle"), t, 1)))
                .hasMessageContaining("'left' or 'self'");
        assertThatThrownBy(() -> WatermarkKey.Scheme.parse("rot13")).hasMessageContaining("kgw, gumbel or synthid");
    }
}
