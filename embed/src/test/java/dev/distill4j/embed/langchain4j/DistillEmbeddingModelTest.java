package dev.distill4j.embed.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.distill4j.embed.OnnxEmbeddingModel;
import dev.distill4j.embed.StaticDistiller;
import dev.distill4j.embed.StaticEmbeddingModel;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.request.EmbeddingRequest;
import dev.langchain4j.model.embedding.response.EmbeddingResponse;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.retriever.ContentRetriever;
import dev.langchain4j.rag.content.retriever.EmbeddingStoreContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.store.embedding.CosineSimilarity;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingSearchResult;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.RelevanceScore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A distilled static student used through LangChain4j's own API: embedding, an embedding store, a retriever. */
class DistillEmbeddingModelTest {
    static final List<String> DOCS = List.of(
            "The orchestra played a symphony at the concert hall.",
            "The band released a new album of rock songs.",
            "The government passed a law on taxes.",
            "The president signed the new law yesterday.",
            "We ate a good dinner at the restaurant.",
            "The food in the kitchen was hot.");

    // the first 4,000 distillable tokens reach ids of about 5,000: the documents use words inside that range
    @TempDir static Path tmp;
    static StaticEmbeddingModel student;
    static Path studentDir;

    @BeforeAll
    static void distil() throws IOException {
        try (OnnxEmbeddingModel bge = OnnxEmbeddingModel.load("bge-small-en-v1.5")) {
            student = StaticDistiller.distill(bge, new StaticDistiller.Options(64, 4000, StaticDistiller.Options.DEFAULT_SIF), null);
        }
        studentDir = tmp.resolve("student");
        student.save(studentDir);
    }

    @AfterAll
    static void close() { student.close(); }

    @Test
    void embedAllGivesTheStudentsVectorsAndItsTokenCount() {
        try (DistillEmbeddingModel model = new DistillEmbeddingModel(student)) {
            List<TextSegment> segments = DOCS.stream().map(TextSegment::from).toList();
            Response<List<Embedding>> r = model.embedAll(segments);
            float[][] expected = student.embed(DOCS);
            assertThat(r.content()).hasSize(DOCS.size());
            for (int i = 0; i < DOCS.size(); i++) assertThat(r.content().get(i).vector()).containsExactly(expected[i]);
            int tokens = DOCS.stream().mapToInt(student::countTokens).sum();
            assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(tokens);
            assertThat(r.tokenUsage().totalTokenCount()).isEqualTo(tokens);
            assertThat(model.dimension()).isEqualTo(64);
            assertThat(model.modelName()).isEqualTo(student.name());

            // LangChain4j's request/response path (listeners included) ends in embedAll too
            EmbeddingResponse viaRequest = model.embed(EmbeddingRequest.builder().textSegments(segments.subList(0, 2)).build());
            assertThat(viaRequest.embeddings().get(1).vector()).containsExactly(expected[1]);
            assertThat(model.embed("We ate a good dinner at the restaurant.").content().vector()).containsExactly(expected[4]);
        }
        // the caller's model stays open
        assertThat(student.embed("still open")).hasSize(64);
    }

    @Test
    void aStudentFolderRetrievesTheRightDocumentsThroughAContentRetriever() throws IOException {
        try (DistillEmbeddingModel model = DistillEmbeddingModel.load(studentDir)) {
            ListStore store = new ListStore();
            List<TextSegment> segments = DOCS.stream().map(TextSegment::from).toList();
            store.addAll(model.embedAll(segments).content(), segments);
            ContentRetriever retriever = EmbeddingStoreContentRetriever.builder().embeddingStore(store)
                    .embeddingModel(model).maxResults(2).build();
            assertThat(texts(retriever.retrieve(Query.from("a law about taxes signed by the president"))))
                    .containsExactlyInAnyOrder(DOCS.get(2), DOCS.get(3));
            assertThat(texts(retriever.retrieve(Query.from("music played by a band at a concert"))))
                    .containsExactlyInAnyOrder(DOCS.get(0), DOCS.get(1));
            assertThat(texts(retriever.retrieve(Query.from("food for dinner"))))
                    .containsExactlyInAnyOrder(DOCS.get(4), DOCS.get(5));
        }
    }

    @Test
    void aFolderThatIsNoStudentIsAClearError() {
        assertThatThrownBy(() -> DistillEmbeddingModel.load(tmp.resolve("missing")))
                .isInstanceOf(IOException.class).hasMessageContaining("distill embed distill");
    }

    private static List<String> texts(List<Content> contents) {
        return contents.stream().map(c -> c.textSegment().text()).toList();
    }

    /** The smallest real EmbeddingStore (langchain4j-core ships none): a list scanned by cosine similarity. */
    static final class ListStore implements EmbeddingStore<TextSegment> {
        record Entry(String id, Embedding embedding, TextSegment segment) {}

        final List<Entry> entries = new ArrayList<>();

        @Override
        public String add(Embedding embedding) { return add(embedding, null); }

        @Override
        public void add(String id, Embedding embedding) { entries.add(new Entry(id, embedding, null)); }

        @Override
        public String add(Embedding embedding, TextSegment segment) {
            String id = UUID.randomUUID().toString();
            entries.add(new Entry(id, embedding, segment));
            return id;
        }

        @Override
        public List<String> addAll(List<Embedding> embeddings) {
            return embeddings.stream().map(this::add).toList();
        }

        @Override
        public List<String> addAll(List<Embedding> embeddings, List<TextSegment> segments) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < embeddings.size(); i++) ids.add(add(embeddings.get(i), segments.get(i)));
            return ids;
        }

        @Override
        public EmbeddingSearchResult<TextSegment> search(EmbeddingSearchRequest request) {
            List<EmbeddingMatch<TextSegment>> matches = new ArrayList<>();
            for (Entry e : entries) {
                double score = RelevanceScore.fromCosineSimilarity(CosineSimilarity.between(e.embedding(), request.queryEmbedding()));
                if (score >= request.minScore()) matches.add(new EmbeddingMatch<>(score, e.id(), e.embedding(), e.segment()));
            }
            matches.sort(Comparator.comparingDouble((EmbeddingMatch<TextSegment> m) -> m.score()).reversed());
            return new EmbeddingSearchResult<>(matches.subList(0, Math.min(request.maxResults(), matches.size())));
        }
    }

    @Test
    void isALangChain4jEmbeddingModel() {
        EmbeddingModel m = new DistillEmbeddingModel(student);
        assertThat(m.embed(TextSegment.from("hello")).content().dimension()).isEqualTo(64);
    }
}
