package dev.distill4j.train.data;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.AtomicFiles;
import dev.distill4j.core.Json;
import dev.distill4j.model.tokenizer.ByteLevel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a Hugging Face {@code tokenizer.json} (byte-level BPE, GPT-2's pre-tokenizer) for a tiktoken encoding
 * whose ranks ship in jtokkit ({@code r50k_base} is GPT-2's vocabulary: rank = GPT-2 token id).
 *
 * <p>tiktoken keeps only ranks: encoding repeatedly merges the adjacent pair whose concatenation has the lowest
 * rank. A BPE {@code tokenizer.json} needs merges, ordered by priority. Every way of splitting a token of rank
 * {@code r} into two tokens of lower rank becomes a merge of priority {@code r} (as Hugging Face's own tiktoken
 * converter does): tiktoken would merge any such pair into that token. With {@code ignore_merges} (a pre-token that
 * is in the vocabulary is taken whole, as tiktoken does) this reproduces tiktoken's encoding, which
 * {@code TiktokenBpeTest} checks against jtokkit.
 */
final class TiktokenBpe {
    private TiktokenBpe() {}

    /** The ranks of a jtokkit encoding resource, e.g. {@code "r50k_base"}: index = rank, value = token bytes. */
    static List<byte[]> ranks(String encoding) throws IOException {
        String resource = "/com/knuddels/jtokkit/" + encoding + ".tiktoken";
        List<byte[]> byRank = new ArrayList<>();
        try (InputStream in = TiktokenBpe.class.getResourceAsStream(resource)) {
            if (in == null) throw new IOException("no " + resource + " on the class path (jtokkit missing?)");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) continue;
                int sp = line.indexOf(' ');
                int rank = Integer.parseInt(line.substring(sp + 1).trim());
                while (byRank.size() <= rank) byRank.add(null);
                byRank.set(rank, Base64.getDecoder().decode(line.substring(0, sp)));
            }
        }
        for (int i = 0; i < byRank.size(); i++) {
            if (byRank.get(i) == null) throw new IOException(resource + ": rank " + i + " is missing");
        }
        return byRank;
    }

    /**
     * Writes {@code tokenizer.json} and {@code tokenizer_config.json} for {@code encoding} into {@code dir}, with
     * {@code <|endoftext|>} after the ranks as GPT-2 has it (id 50256 for r50k_base), and returns {@code dir}.
     */
    static Path write(String encoding, Path dir) throws IOException {
        List<byte[]> byRank = ranks(encoding);
        Map<ByteBuffer, Integer> rankOf = new HashMap<>(byRank.size() * 2);
        for (int i = 0; i < byRank.size(); i++) rankOf.put(ByteBuffer.wrap(byRank.get(i)), i);

        ObjectNode root = Json.object();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        String eot = "<|endoftext|>";
        int eotId = byRank.size();
        root.putArray("added_tokens").addObject().put("id", eotId).put("content", eot).put("single_word", false)
                .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        ObjectNode model = TestTokenizers.byteLevelBpe(root, true);
        // tiktoken takes a pre-token that is itself in the vocabulary as one token before merging anything
        model.put("ignore_merges", true);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < byRank.size(); i++) vocab.put(ByteLevel.encode(byRank.get(i)), i);
        ArrayNode merges = model.putArray("merges");
        for (int rank = 0; rank < byRank.size(); rank++) {
            byte[] t = byRank.get(rank);
            for (int cut = 1; cut < t.length; cut++) {
                Integer left = rankOf.get(ByteBuffer.wrap(t, 0, cut));
                Integer right = rankOf.get(ByteBuffer.wrap(t, cut, t.length - cut));
                if (left == null || right == null || left >= rank || right >= rank) continue;
                // byte-level strings have no space (it is "Ġ"), so the "left right" form is unambiguous
                merges.add(ByteLevel.encode(Arrays.copyOfRange(t, 0, cut)) + " "
                        + ByteLevel.encode(Arrays.copyOfRange(t, cut, t.length)));
            }
        }
        AtomicFiles.writeString(dir.resolve("tokenizer.json"), Json.write(root));
        ObjectNode cfg = Json.object();
        cfg.put("bos_token", eot).put("eos_token", eot).put("unk_token", eot).put("add_bos_token", false)
                .put("model_max_length", 1024);
        cfg.putObject("added_tokens_decoder").putObject(Integer.toString(eotId)).put("content", eot)
                .put("special", true);
        AtomicFiles.writeString(dir.resolve("tokenizer_config.json"), Json.writePretty(cfg));
        return dir;
    }
}
