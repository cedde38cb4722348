package dev.distill4j.train.data;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import dev.distill4j.core.Capability;
import dev.distill4j.core.Prompt;
import dev.distill4j.core.Sample;
import dev.distill4j.core.TokenDistribution;
import dev.distill4j.core.TokenLogprob;
import dev.distill4j.core.TokenPosition;
import dev.distill4j.core.store.RunStore;
import dev.distill4j.model.tokenizer.HfTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Not a test: how many of a GPT-2 student's reply positions get a top-k KD target from a teacher with GPT-4o's
 * tokenizer, through the real {@link ExampleBuilder} (run store in, {@link AlignmentStats} out).
 *
 * <ul>
 *   <li><b>Replies</b>: real English prose from the Debian Reference and the Debian FAQ (packages
 *       {@code debian-reference-en} and {@code debian-faq}, their plain-text editions): paragraphs of one section, hard line wraps and the no-break spaces that indent paragraphs undone in prose (command lines and other
 *       indented blocks kept line by line), tables and tables of contents dropped, joined until a reply reaches 400 characters; replies
 *       under 150 characters are dropped.</li>
 *   <li><b>Teacher</b>: the reply's {@code o200k_base} tokens (jtokkit) are the chosen tokens. Their top-k
 *       alternatives are synthetic, from a Witten–Bell smoothed bigram model over the o200k tokens of all replies:
 *       {@code p(x | prev) = (n(prev, x) + D(prev)·u(x)) / (N(prev) + D(prev))}, with {@code n} the bigram count,
 *       {@code N(prev)} the count of {@code prev}, {@code D(prev)} its number of distinct followers and {@code u}
 *       the unigram distribution ({@code prev} = start of reply for the first token). The alternatives are the k
 *       most probable tokens under it (the chosen one is listed only when it is among them, as with OpenAI's
 *       {@code top_logprobs}), the chosen token's logprob is its own {@code log p}.</li>
 *   <li><b>Student</b>: {@code r50k_base} (GPT-2) converted to a {@code tokenizer.json} by {@link TiktokenBpe}, loaded
 *       by {@link HfTokenizer}; raw-text prompts (a base model, no chat template).</li>
 * </ul>
 *
 * Prints the alignment figures, the student positions by how their bytes meet the teacher's tokens, how many of
 * each kind get a KD target, and the mean probability those targets list on student tokens (the rest is their
 * tail), against the teacher's own mean listed probability.
 *
 * <pre>bench/xtok/run.sh [k=20] [corpus files (.txt or .txt.gz) = the two above]</pre>
 */
public final class CrossTokenizerBench {
    private static final int MIN_REPLY = 150;
    private static final int TARGET_REPLY = 400;
    private static final java.util.regex.Pattern NUMBERED = java.util.regex.Pattern.compile("[0-9A-Z]{1,2}(\\.[0-9]+)*\\. ");
    static final List<Path> DEFAULT_CORPUS = List.of(
            Path.of("/usr/share/debian-reference/debian-reference.en.txt.gz"),
            Path.of("/usr/share/doc/debian/FAQ/debian-faq.en.txt.gz"));

    public static void main(String[] args) throws Exception {
        int k = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        List<Path> corpus = new ArrayList<>();
        for (int i = 1; i < args.length; i++) corpus.add(Path.of(args[i]));
        if (corpus.isEmpty()) corpus = DEFAULT_CORPUS;
        List<String[]> replies = new ArrayList<>(); // {heading, reply}
        for (Path file : corpus) replies.addAll(replies(file));
        Encoding o200k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
        List<int[]> teacherIds = new ArrayList<>();
        for (String[] r : replies) teacherIds.add(o200k.encodeOrdinary(r[1]).toArray());
        Bigram bigram = new Bigram(teacherIds, k);
        Map<Integer, TokenLogprob> cache = new HashMap<>();

        Path tmp = Files.createTempDirectory("xtok-bench");
        Path tokDir = Files.createDirectories(tmp.resolve("r50k"));
        long chars = 0;
        long teacherPositions = 0;
        double teacherListed = 0;
        try (HfTokenizer student = HfTokenizer.load(TiktokenBpe.write("r50k_base", tokDir));
             RunStore store = RunStore.open(tmp.resolve("run"))) {
            List<Prompt> prompts = new ArrayList<>();
            List<Sample> samples = new ArrayList<>();
            for (int i = 0; i < replies.size(); i++) {
                String reply = replies.get(i)[1];
                chars += reply.length();
                int[] ids = teacherIds.get(i);
                List<TokenPosition> positions = new ArrayList<>(ids.length);
                for (int j = 0; j < ids.length; j++) {
                    int prev = j == 0 ? -1 : ids[j - 1];
                    List<TokenLogprob> alts = new ArrayList<>(k);
                    for (int a : bigram.top(prev)) alts.add(token(o200k, cache, a, bigram.logprob(prev, a)));
                    TokenLogprob chosen = token(o200k, cache, ids[j], bigram.logprob(prev, ids[j]));
                    TokenPosition p = TokenPosition.of(chosen, alts);
                    teacherListed += 1 - p.tail();
                    positions.add(p);
                }
                teacherPositions += ids.length;
                String id = "r" + i;
                prompts.add(Runs.text(id, replies.get(i)[0] + "\n\n"));
                samples.add(Runs.done(id, 0, reply, Capability.topK(k), new TokenDistribution(positions)));
            }
            store.putPrompts(prompts);
            store.upsertSamples(samples);

            ExampleBuilder builder = ExampleBuilder.builder().setTokenizer(student).optMaxSeqLen(1 << 16)
                    .optEvalFraction(0).build();
            long t0 = System.nanoTime();
            ExampleSet set = builder.examples(store);
            double seconds = (System.nanoTime() - t0) / 1e9;

            // the student positions by how their bytes meet the teacher's token boundaries
            Map<String, TrainingExample> byPrompt = new HashMap<>();
            for (TrainingExample e : set.train()) byPrompt.put(e.promptId(), e);
            for (TrainingExample e : set.eval()) byPrompt.put(e.promptId(), e);
            long[] kinds = new long[Kind.values().length];
            long[] withTarget = new long[Kind.values().length];
            double[] listedByKind = new double[Kind.values().length];
            for (int i = 0; i < replies.size(); i++) {
                TrainingExample e = byPrompt.get("r" + i);
                KdTargets kd = e.kd();
                int[] studentIds = student.encode(replies.get(i)[1], false);
                // raw text: the prompt's tokens, the reply's, then <|endoftext|>
                int promptLength = e.length() - studentIds.length - 1;
                if (!Arrays.equals(e.inputIds(), promptLength, promptLength + studentIds.length, studentIds, 0,
                        studentIds.length)) {
                    throw new IllegalStateException("reply " + i + " is not where it was expected in its example");
                }
                Kind[] kind = classify(studentIds, student, teacherIds.get(i), o200k, cache);
                for (int r = 0; r < studentIds.length; r++) {
                    kinds[kind[r].ordinal()]++;
                    int row = promptLength + r - (kd == null ? 0 : kd.start());
                    if (kd != null && row >= 0 && row < kd.length() && kd.present()[row]) {
                        withTarget[kind[r].ordinal()]++;
                        for (int j = 0; j < kd.k(); j++) {
                            listedByKind[kind[r].ordinal()] += Math.exp(kd.logprobs()[row * kd.k() + j]);
                        }
                    }
                }
            }
            AlignmentStats a = set.report().alignment();
            System.out.printf(Locale.ROOT, "corpus: %s: %d replies, %,d characters (%,.0f per reply)%n", corpus,
                    replies.size(), chars, (double) chars / replies.size());
            System.out.printf(Locale.ROOT, "teacher o200k_base: %,d tokens, top-%d synthetic alternatives (bigram, "
                    + "Witten-Bell), mean listed probability %.3f%n", teacherPositions, k,
                    teacherListed / teacherPositions);
            System.out.printf(Locale.ROOT, "student r50k_base: %s%n", a);
            System.out.printf(Locale.ROOT, "KD target coverage: %.1f%% of %,d student reply positions (built in %.1f s)"
                    + "%n", 100 * a.share(), a.responsePositions(), seconds);
            System.out.printf(Locale.ROOT, "  %-58s %15s %15s %14s%n", "student position", "positions",
                    "with KD target", "listed prob.");
            for (Kind kd : Kind.values()) {
                int o = kd.ordinal();
                System.out.printf(Locale.ROOT, "  %-58s %,8d %5.1f%% %,8d %5.1f%% %14.3f%n", kd.label, kinds[o],
                        100.0 * kinds[o] / Math.max(1, Arrays.stream(kinds).sum()), withTarget[o],
                        kinds[o] == 0 ? 0 : 100.0 * withTarget[o] / kinds[o],
                        withTarget[o] == 0 ? 0 : listedByKind[o] / withTarget[o]);
            }
            long rows = Arrays.stream(withTarget).sum();
            System.out.printf(Locale.ROOT, "  %-58s %,8d %6s %,8d %5.1f%% %14.3f%n", "all", Arrays.stream(kinds).sum(),
                    "", rows, 100.0 * rows / Math.max(1, Arrays.stream(kinds).sum()),
                    rows == 0 ? 0 : Arrays.stream(listedByKind).sum() / rows);
        }
    }

    enum Kind {
        EXACT("exactly one teacher token"),
        SEVERAL("several whole teacher tokens"),
        ENDS_INSIDE("starts at a teacher boundary, ends inside a teacher token"),
        STARTS_INSIDE("starts inside a teacher token");

        final String label;

        Kind(String label) { this.label = label; }
    }

    static Kind[] classify(int[] studentIds, HfTokenizer student, int[] teacherIds, Encoding teacher,
                           Map<Integer, TokenLogprob> cache) {
        java.util.Set<Integer> starts = new java.util.HashSet<>();
        int off = 0;
        for (int t : teacherIds) {
            starts.add(off);
            off += token(teacher, cache, t, 0).bytes().length;
        }
        starts.add(off);
        Kind[] kinds = new Kind[studentIds.length];
        int s = 0;
        for (int r = 0; r < studentIds.length; r++) {
            int e = s + student.tokenBytes(studentIds[r]).length;
            int inner = 0;
            for (int b = s + 1; b < e; b++) if (starts.contains(b)) inner++;
            kinds[r] = !starts.contains(s) ? Kind.STARTS_INSIDE : !starts.contains(e) ? Kind.ENDS_INSIDE
                    : inner == 0 ? Kind.EXACT : Kind.SEVERAL;
            s = e;
        }
        return kinds;
    }

    private static TokenLogprob token(Encoding enc, Map<Integer, TokenLogprob> cache, int id, double logprob) {
        TokenLogprob t = cache.computeIfAbsent(id, i -> {
            IntArrayList one = new IntArrayList(1);
            one.add(i);
            byte[] b = enc.decodeBytes(one);
            return new TokenLogprob(new String(b, StandardCharsets.UTF_8), b, 0f);
        });
        return new TokenLogprob(t.token(), t.bytes(), (float) logprob);
    }

    /** Witten–Bell smoothed bigram over token ids; -1 stands for the start of a reply. */
    static final class Bigram {
        private final Map<Integer, Map<Integer, Integer>> follow = new HashMap<>();
        private final Map<Integer, Integer> unigram = new HashMap<>();
        private final Map<Integer, Long> followers = new HashMap<>();
        private final Map<Integer, int[]> top = new HashMap<>();
        private final int[] topUnigram;
        private final long total;
        private final int k;

        Bigram(List<int[]> sequences, int k) {
            this.k = k;
            long n = 0;
            for (int[] seq : sequences) {
                for (int j = 0; j < seq.length; j++) {
                    follow.computeIfAbsent(j == 0 ? -1 : seq[j - 1], x -> new HashMap<>()).merge(seq[j], 1, Integer::sum);
                    unigram.merge(seq[j], 1, Integer::sum);
                    n++;
                }
            }
            this.total = n;
            follow.forEach((prev, f) -> followers.put(prev, f.values().stream().mapToLong(Integer::longValue).sum()));
            this.topUnigram = unigram.entrySet().stream()
                    .sorted((x, y) -> y.getValue() != x.getValue().intValue() ? y.getValue() - x.getValue()
                            : x.getKey() - y.getKey())
                    .limit(k).mapToInt(Map.Entry::getKey).toArray();
        }

        double logprob(int prev, int x) {
            Map<Integer, Integer> f = follow.getOrDefault(prev, Map.of());
            long count = followers.getOrDefault(prev, 0L);
            int distinct = f.size();
            double u = unigram.getOrDefault(x, 0) / (double) total;
            return Math.log((f.getOrDefault(x, 0) + distinct * u) / (count + distinct));
        }

        /** The k most probable next tokens after {@code prev}, most probable first (ties: lower id). */
        int[] top(int prev) {
            return top.computeIfAbsent(prev, p -> {
                java.util.Set<Integer> candidates = new java.util.HashSet<>(follow.getOrDefault(p, Map.of()).keySet());
                for (int u : topUnigram) candidates.add(u);
                return candidates.stream()
                        .sorted((x, y) -> {
                            int c = Double.compare(logprob(p, y), logprob(p, x));
                            return c != 0 ? c : Integer.compare(x, y);
                        })
                        .limit(k).mapToInt(Integer::intValue).toArray();
            });
        }
    }

    /** {heading, reply} pairs from the Debian Reference's plain text (see the class comment). */
    static List<String[]> replies(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                // the text edition indents the first line of many paragraphs with no-break spaces: layout only
                int lead = 0;
                while (lead < line.length() && (line.charAt(lead) == '\u00A0' || line.charAt(lead) == ' ')) lead++;
                lines.add(" ".repeat(lead) + line.substring(lead));
            }
        }
        List<String[]> out = new ArrayList<>();
        String heading = "";
        int headingLines = 0; // a heading (a FAQ's question) may wrap over several lines
        List<String> block = new ArrayList<>();
        StringBuilder reply = new StringBuilder();
        for (int i = 0; i <= lines.size(); i++) {
            String line = i < lines.size() ? lines.get(i) : "";
            boolean isHeading = !line.isEmpty() && !Character.isWhitespace(line.charAt(0));
            if (!isHeading) headingLines = 0;
            if (line.isBlank() || isHeading) {
                String paragraph = paragraph(block);
                block.clear();
                if (paragraph != null) {
                    if (!reply.isEmpty()) reply.append("\n\n");
                    reply.append(paragraph);
                }
                if (reply.length() >= TARGET_REPLY || (isHeading || i == lines.size()) && !reply.isEmpty()) {
                    if (reply.length() >= MIN_REPLY) out.add(new String[] {heading, reply.toString()});
                    reply.setLength(0);
                }
                if (isHeading) heading = headingLines++ == 0 ? line.strip() : heading + " " + line.strip();
            } else {
                block.add(line);
            }
        }
        return out;
    }

    /** A block of indented lines as reply text, or null for tables, rules and tables of contents. */
    private static String paragraph(List<String> block) {
        if (block.isEmpty()) return null;
        boolean contents = true;
        for (String l : block) {
            String s = l.strip();
            if (s.startsWith("|") || s.startsWith("+--") || s.startsWith("----")) return null;
            contents &= NUMBERED.matcher(s).lookingAt();
        }
        if (contents) return null;
        int indent = Integer.MAX_VALUE;
        for (String l : block) indent = Math.min(indent, l.length() - l.stripLeading().length());
        // prose is wrapped at one indentation; commands, lists and aligned columns keep their lines
        boolean prose = true;
        for (String l : block) {
            String s = l.substring(indent);
            prose &= !s.startsWith(" ") && !s.startsWith("$ ") && !s.startsWith("# ") && !s.strip().contains("   ");
        }
        StringBuilder sb = new StringBuilder();
        for (String l : block) {
            // the text edition also breaks lines inside URLs and paths, after a '/'
            if (!sb.isEmpty()) sb.append(!prose ? "\n" : sb.charAt(sb.length() - 1) == '/' ? "" : " ");
            sb.append(prose ? l.strip() : l.substring(indent).stripTrailing());
        }
        return sb.toString();
    }
}
