package dev.distill4j.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill4j.core.InvalidInputException;
import dev.distill4j.core.Json;
import java.io.IOException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * Model2Vec's recipe for a static student: the teacher embeds every vocabulary token on its own (wrapped in the
 * model's special tokens, as a one-token sentence), PCA reduces the vectors to {@code dims}, and each row is scaled
 * by a SIF weight from a Zipf estimate of the token's frequency by its rank in the vocabulary,
 * {@code w(r) = a / (a + p(r))} with {@code p(r) ∝ 1/(r+2)}, so frequent tokens count less in a sentence.
 */
public final class StaticDistiller {
    /**
     * @param dims           output dimensions (PCA); at most the teacher's dimension
     * @param vocabLimit     distil only the first N distillable tokens by id (0 = all); others get zero rows
     * @param sifCoefficient the SIF constant {@code a}; 0 turns the weighting off
     * @param tokenPooling   how each one-token input is pooled; null = the teacher's own pooling
     */
    public record Options(int dims, int vocabLimit, double sifCoefficient, Pooling tokenPooling) {
        public Options(int dims, int vocabLimit, double sifCoefficient) { this(dims, vocabLimit, sifCoefficient, null); }

        public static final double DEFAULT_SIF = 1e-4;

        public Options {
            if (dims < 1) throw new InvalidInputException("--dims must be at least 1, got " + dims);
            if (vocabLimit < 0) throw new InvalidInputException("--vocab-limit must be 0 (all) or positive");
            if (sifCoefficient < 0) throw new InvalidInputException("the SIF coefficient must be ≥ 0");
        }
    }

    private static final Pattern UNUSED = Pattern.compile("\\[unused\\d+]|<unused\\d+>");
    private static final int CHUNK = 1024;

    private StaticDistiller() {}

    /** Builds the student; {@code progress} is told (tokens embedded, tokens to embed) after every chunk. */
    public static StaticEmbeddingModel distill(OnnxEmbeddingModel teacher, Options o, BiConsumer<Integer, Integer> progress)
            throws IOException {
        return distillWithBasis(teacher, o, progress).model();
    }

    /**
     * The teacher's vector for each distillable token id (null for special, unused and, past {@code vocabLimit},
     * skipped tokens): the expensive step, separate so one run can feed several PCA/weighting choices.
     */
    public static float[][] embedVocabulary(OnnxEmbeddingModel teacher, int vocabLimit, BiConsumer<Integer, Integer> progress)
            throws IOException {
        return embedVocabulary(teacher, teacher.pooling(), vocabLimit, progress);
    }

    /** As above, pooling each one-token input with {@code pooling} rather than the teacher's own. */
    public static float[][] embedVocabulary(OnnxEmbeddingModel teacher, Pooling pooling, int vocabLimit,
                                            BiConsumer<Integer, Integer> progress)
            throws IOException {
        Vocabulary v = vocabulary(teacher.tokenizerJson(), teacher.name(), vocabLimit);
        int vocab = v.size(), n = v.ids().length;
        int[] ids = v.ids();
        float[][] rows = new float[vocab][];
        for (int start = 0; start < n; start += CHUNK) {
            int end = Math.min(n, start + CHUNK);
            long[][] inputs = new long[end - start][];
            for (int i = start; i < end; i++) inputs[i - start] = teacher.withSpecialTokens(new long[] {ids[i]});
            float[][] vs = teacher.embedIds(inputs, pooling);
            for (int i = start; i < end; i++) rows[ids[i]] = vs[i - start];
            if (progress != null) progress.accept(end, n);
        }
        return rows;
    }

    /** A static student and the PCA basis its rows were projected on (what {@link StaticTuner} maps targets with). */
    public record Distilled(StaticEmbeddingModel model, Pca.Fit pca) {}

    /** As {@link #distill}, keeping the PCA basis for tuning the student on sentence embeddings afterwards. */
    public static Distilled distillWithBasis(OnnxEmbeddingModel teacher, Options o, BiConsumer<Integer, Integer> progress)
            throws IOException {
        if (o.dims() > teacher.dimension()) {
            throw new InvalidInputException("--dims " + o.dims() + " exceeds the teacher's " + teacher.dimension() + " dimensions");
        }
        Pooling pooling = o.tokenPooling() != null ? o.tokenPooling() : teacher.pooling();
        return fromTokenVectorsWithBasis(teacher, embedVocabulary(teacher, pooling, o.vocabLimit(), progress), o);
    }

    /** PCA to {@code o.dims()} and SIF weighting of token vectors from {@link #embedVocabulary}. */
    public static StaticEmbeddingModel fromTokenVectors(OnnxEmbeddingModel teacher, float[][] rows, Options o) throws IOException {
        return fromTokenVectorsWithBasis(teacher, rows, o).model();
    }

    /** As {@link #fromTokenVectors}, keeping the PCA basis. */
    public static Distilled fromTokenVectorsWithBasis(OnnxEmbeddingModel teacher, float[][] rows, Options o) throws IOException {
        return build(teacher.name(), teacher.pooling(), teacher.tokenizerJson(), rows, o);
    }

    /**
     * As {@link #fromTokenVectorsWithBasis(OnnxEmbeddingModel, float[][], Options)} for a student with another
     * tokenizer than the teacher's: an extended vocabulary ({@link VocabularyExtension}, rows from {@link #withWords}).
     */
    public static Distilled fromTokenVectorsWithBasis(OnnxEmbeddingModel teacher, float[][] rows, byte[] tokenizerJson,
                                                      Options o) throws IOException {
        return build(teacher.name(), teacher.pooling(), tokenizerJson, rows, o);
    }

    /**
     * The token vectors of an extended vocabulary: {@code rows} (the teacher's vocabulary pass) followed by each
     * added word as the teacher embeds it as text, a one-word sentence ({@code [CLS] con ##fi ##gur ##ation [SEP]}
     * pooled as the teacher pools), which is what Model2Vec does for words it adds.
     *
     * @param teacher embeds the words; pass a {@link CachedEmbeddingModel} to keep them
     */
    public static float[][] withWords(float[][] rows, VocabularyExtension.Result ext, EmbeddingModel teacher) {
        if (ext.firstId() != rows.length) {
            throw new IllegalArgumentException("the extension starts at id " + ext.firstId() + " but the vocabulary has " + rows.length + " rows");
        }
        float[][] out = Arrays.copyOf(rows, rows.length + ext.added());
        for (int from = 0; from < ext.added(); from += CHUNK) {
            List<String> chunk = ext.words().subList(from, Math.min(ext.added(), from + CHUNK));
            float[][] v = teacher.embed(chunk);
            for (int i = 0; i < v.length; i++) out[rows.length + from + i] = v[i];
        }
        return out;
    }

    /** @param teacherPooling the teacher's own pooling where it is known (in-process teachers), else null */
    private static Distilled build(String teacherName, Pooling teacherPooling, byte[] tokenizerJson,
                                   float[][] rows, Options o) throws IOException {
        int vocab = rows.length, n = 0;
        for (float[] r : rows) if (r != null) n++;
        Pca.Fit pca = Pca.fit(rows, o.dims());
        float[] table = new float[vocab * o.dims()];
        double[] weight = sifWeights(vocab, o.sifCoefficient());
        for (int id = 0; id < vocab; id++) {
            if (rows[id] == null) continue;
            float[] y = pca.project(rows[id]);
            for (int k = 0; k < y.length; k++) table[id * o.dims() + k] = (float) (y[k] * weight[id]);
        }
        ObjectNode cfg = Json.object();
        cfg.put("model_type", "static");
        cfg.put("teacher", teacherName);
        if (teacherPooling != null) cfg.put("teacher_pooling", teacherPooling.name().toLowerCase(java.util.Locale.ROOT));
        if (o.tokenPooling() != null) cfg.put("token_pooling", o.tokenPooling().name().toLowerCase(java.util.Locale.ROOT));
        cfg.put("hidden_dim", o.dims());
        cfg.put("vocab_size", vocab);
        cfg.put("distilled_tokens", n);
        cfg.put("pca_explained_variance", pca.explained());
        cfg.put("sif_coefficient", o.sifCoefficient());
        cfg.put("normalize", true);
        return new Distilled(new StaticEmbeddingModel("static-" + o.dims() + "-from-" + teacherName, tokenizerJson,
                table, vocab, o.dims(), cfg), pca);
    }

    /**
     * The token ids a student distils: every id of tokenizer.json's vocabulary but special tokens and
     * {@code [unusedN]}, the first {@code vocabLimit} of them (0 = all); {@code size} is the whole vocabulary.
     */
    record Vocabulary(int size, int[] ids, JsonNode tokenizer) {}

    static Vocabulary vocabulary(byte[] tokenizerJson, String teacherName, int vocabLimit) throws IOException {
        JsonNode root = Json.MAPPER.readTree(tokenizerJson);
        JsonNode vocabNode = root.path("model").path("vocab");
        if (!vocabNode.isObject()) throw new IOException(teacherName + ": tokenizer.json has no token→id vocabulary (WordPiece/BPE)");
        int vocab = HfTokenizers.vocabSize(root);
        BitSet skip = new BitSet(vocab);
        for (JsonNode t : root.path("added_tokens")) if (t.path("special").asBoolean()) skip.set(t.path("id").asInt());
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (UNUSED.matcher(e.getKey()).matches()) skip.set(e.getValue().asInt());
        }
        int[] ids = new int[vocab];
        int n = 0;
        for (int id = 0; id < vocab && (vocabLimit == 0 || n < vocabLimit); id++) if (!skip.get(id)) ids[n++] = id;
        return new Vocabulary(vocab, Arrays.copyOf(ids, n), root);
    }

    /**
     * Builds the student from a teacher that embeds text only (an API teacher): each vocabulary token is sent as its
     * text, a one-token sentence for the teacher's own tokenizer as near as text allows. WordPiece continuations
     * ({@code ##ing}) go without their prefix; other tokens as the tokenizer decodes them alone; tokens that decode
     * to nothing but spaces get zero rows, as skipped tokens do.
     *
     * @param tokenizerJson the student's tokenizer (the teacher's own is unknown behind an API)
     */
    public static StaticEmbeddingModel distill(EmbeddingModel teacher, byte[] tokenizerJson, Options o,
                                               BiConsumer<Integer, Integer> progress) throws IOException {
        return distillWithBasis(teacher, tokenizerJson, o, progress).model();
    }

    /**
     * The static student of any teacher: an in-process ONNX teacher with no other {@code tokenizer} asked for is
     * distilled through its own tokenizer, token by token ({@link #distillWithBasis(OnnxEmbeddingModel, Options,
     * BiConsumer)}); any other teacher (an API) embeds each token's text of {@code tokenizer}, by default
     * {@link EmbeddingModels#DEFAULT_STUDENT_TOKENIZER}'s.
     *
     * @param tokenizer a tokenizer.json, a folder with one, a built-in teacher id, or null
     */
    public static Distilled distillFor(EmbeddingModel teacher, String tokenizer, Options o,
                                       BiConsumer<Integer, Integer> progress) throws IOException {
        if (teacher instanceof OnnxEmbeddingModel onnx && tokenizer == null) return distillWithBasis(onnx, o, progress);
        return distillWithBasis(teacher, EmbeddingModels.tokenizerJson(tokenizer == null
                ? EmbeddingModels.DEFAULT_STUDENT_TOKENIZER : tokenizer), o, progress);
    }

    /** As {@link #distill(EmbeddingModel, byte[], Options, BiConsumer)}, keeping the PCA basis for {@link StaticTuner}. */
    public static Distilled distillWithBasis(EmbeddingModel teacher, byte[] tokenizerJson, Options o,
                                             BiConsumer<Integer, Integer> progress) throws IOException {
        if (teacher instanceof OnnxEmbeddingModel onnx && java.util.Arrays.equals(onnx.tokenizerJson(), tokenizerJson)) {
            return distillWithBasis(onnx, o, progress);
        }
        Vocabulary v = vocabulary(tokenizerJson, teacher.name(), o.vocabLimit());
        String[] texts = tokenTexts(v, tokenizerJson);
        List<Integer> ids = new ArrayList<>();
        for (int id : v.ids()) if (texts[id] != null) ids.add(id);
        float[][] rows = new float[v.size()][];
        for (int start = 0; start < ids.size(); start += CHUNK) {
            int end = Math.min(ids.size(), start + CHUNK);
            List<String> chunk = new ArrayList<>(end - start);
            for (int i = start; i < end; i++) chunk.add(texts[ids.get(i)]);
            float[][] vs = teacher.embed(chunk);
            // checked on the first answer: asking an API teacher its dimension up front would cost a request
            if (start == 0 && o.dims() > vs[0].length) {
                throw new InvalidInputException("--dims " + o.dims() + " exceeds the teacher's " + vs[0].length + " dimensions");
            }
            for (int i = start; i < end; i++) rows[ids.get(i)] = vs[i - start];
            if (progress != null) progress.accept(end, ids.size());
        }
        return build(teacher.name(), null, tokenizerJson, rows, o);
    }

    /** The text each distillable token is sent as (null where it has none). */
    static String[] tokenTexts(Vocabulary v, byte[] tokenizerJson) throws IOException {
        JsonNode model = v.tokenizer().path("model");
        String prefix = model.path("type").asText("").equals("WordPiece")
                ? model.path("continuing_subword_prefix").asText("##") : null;
        String[] texts = new String[v.size()];
        try (var tokenizer = HfTokenizers.load(tokenizerJson, false, 0)) {
            for (int id : v.ids()) {
                String t = tokenizer.decode(new long[] {id}, false);
                if (prefix != null && !prefix.isEmpty() && t.startsWith(prefix) && t.length() > prefix.length()) {
                    t = t.substring(prefix.length());
                }
                texts[id] = t.isBlank() ? null : t;
            }
        }
        return texts;
    }

    /** Model2Vec's SIF weights with token id as the frequency rank (BERT-style vocabularies are roughly frequency ordered). */
    static double[] sifWeights(int vocab, double a) {
        double[] w = new double[vocab];
        if (a == 0) {
            Arrays.fill(w, 1);
            return w;
        }
        double z = 0;
        for (int r = 0; r < vocab; r++) z += 1.0 / (r + 2);
        for (int r = 0; r < vocab; r++) w[r] = a / (a + (1.0 / (r + 2)) / z);
        return w;
    }
}
