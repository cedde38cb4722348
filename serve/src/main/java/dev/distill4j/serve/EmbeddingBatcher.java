package dev.distill4j.serve;

import dev.distill4j.core.InvalidInputException;
import dev.distill4j.embed.EmbeddingModel;
import dev.distill4j.embed.EmbeddingModel.Embedded;
import dev.distill4j.serve.Embeddings.Input;
import dev.distill4j.serve.Embeddings.Texts;
import dev.distill4j.serve.Embeddings.TokenArrays;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dynamic batching for {@code /v1/embeddings}, as Hugging Face text-embeddings-inference does it: concurrent
 * requests queue, and one worker thread merges whatever is waiting when the model becomes free into one
 * {@link EmbeddingModel#embedCounting} (or {@link EmbeddingModel#embedTokenIds}) call, then hands each request its
 * own slice of the result. There is no waiting window: an idle server runs a lone request at once, and a busy one
 * batches exactly the requests that arrived during the previous call, so batches grow with the load.
 *
 * <p>One call at a time is enough because a merged call already uses every core: ONNX Runtime runs each batch on
 * its intra-op threads, and the static student embeds large batches on a parallel stream.
 *
 * <p>A batch holds either texts or token arrays, never both (they take different model calls). The oldest waiting
 * request is always taken, whole, even when it alone exceeds {@code maxBatch}; later requests of the same kind join
 * while the batch stays within {@code maxBatch} inputs. When a merged call fails (a token id outside the
 * vocabulary, say), its requests are run again one by one, so only the guilty one fails, with the error it would
 * have got alone (indices in the message count within its own input).
 */
final class EmbeddingBatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddingBatcher.class);

    /** Most inputs merged into one model call (a single larger request still runs, alone). */
    static final int DEFAULT_MAX_BATCH = 256;

    /** One request waiting for its vectors. */
    private record Pending(Input input, CompletableFuture<Embedded> result) {}

    private final EmbeddingModel model;
    private final int maxBatch;
    private final Metrics metrics;
    private final WorkQueue<Pending> queue;

    EmbeddingBatcher(EmbeddingModel model, int maxBatch, Metrics metrics) {
        if (maxBatch < 1) throw new InvalidInputException("max batch must be >= 1, got " + maxBatch);
        this.model = model;
        this.maxBatch = maxBatch;
        this.metrics = metrics;
        this.queue = new WorkQueue<>("distill4j-embedder", metrics::embeddingQueue, this::pick, this::run);
    }

    /**
     * Queues one request's inputs. The future gets its vectors and per-input token counts (for token arrays, the
     * number of ids), or the exception the model threw for this request alone. Cancelling it before its batch is
     * taken drops it from the queue.
     */
    CompletableFuture<Embedded> submit(Input input) {
        Pending p = new Pending(input, new CompletableFuture<>());
        queue.add(List.of(p), Integer.MAX_VALUE);
        // a cancelled wait leaves the queue at once rather than when the worker next looks at it
        p.result().whenComplete((r, e) -> {
            if (p.result().isCancelled()) queue.removeIf(w -> w == p);
        });
        return p.result();
    }

    /** Requests waiting for the model now. */
    int queueDepth() { return queue.size(); }

    /** The oldest waiting request, and the later ones of the same kind that fit beside it within maxBatch inputs. */
    private List<Pending> pick(ArrayDeque<Pending> waiting) {
        Pending head = waiting.poll();
        if (head.result().isDone()) return List.of();     // cancelled: its client is gone
        List<Pending> batch = new ArrayList<>();
        batch.add(head);
        int inputs = head.input().size();
        for (Iterator<Pending> it = waiting.iterator(); it.hasNext() && inputs < maxBatch; ) {
            Pending p = it.next();
            if (p.result().isDone()) {
                it.remove();
            } else if (p.input().getClass() == head.input().getClass() && inputs + p.input().size() <= maxBatch) {
                batch.add(p);
                inputs += p.input().size();
                it.remove();
            }
        }
        return batch;
    }

    private void run(List<Pending> batch) {
        try {
            List<Embedded> out = embed(batch);
            for (int i = 0; i < batch.size(); i++) batch.get(i).result().complete(out.get(i));
        } catch (RuntimeException | Error e) {
            if (batch.size() == 1) {
                batch.getFirst().result().completeExceptionally(e);
                return;
            }
            log.debug("a merged batch of {} requests failed ({}); running them one by one", batch.size(), e.toString());
            for (Pending p : batch) {
                try {
                    p.result().complete(embed(List.of(p)).getFirst());
                } catch (RuntimeException | Error alone) {
                    p.result().completeExceptionally(alone);
                }
            }
        }
    }

    /** One model call for all of {@code batch}'s inputs (all of one kind), cut back into one result per request. */
    private List<Embedded> embed(List<Pending> batch) {
        int total = 0;
        for (Pending p : batch) total += p.input().size();
        metrics.embeddingBatch(batch.size(), total);
        Embedded all = switch (batch.getFirst().input()) {
            case Texts t -> {
                List<String> texts = new ArrayList<>(total);
                for (Pending p : batch) texts.addAll(((Texts) p.input()).texts());
                yield model.embedCounting(texts);
            }
            case TokenArrays t -> {
                List<long[]> ids = new ArrayList<>(total);
                for (Pending p : batch) ids.addAll(((TokenArrays) p.input()).ids());
                int[] tokens = new int[total];
                for (int i = 0; i < total; i++) tokens[i] = ids.get(i).length;
                yield new Embedded(model.embedTokenIds(ids), tokens);
            }
        };
        if (all.vectors().length != total || all.tokens().length != total) {
            throw new IllegalStateException(model.name() + " returned " + all.vectors().length + " vectors and "
                    + all.tokens().length + " token counts for " + total + " inputs");
        }
        List<Embedded> out = new ArrayList<>(batch.size());
        int from = 0;
        for (Pending p : batch) {
            int to = from + p.input().size();
            out.add(new Embedded(Arrays.copyOfRange(all.vectors(), from, to), Arrays.copyOfRange(all.tokens(), from, to)));
            from = to;
        }
        return out;
    }

    /** Fails the waiting requests and stops the worker after its current batch. */
    @Override
    public void close() {
        OpenAiError shutdown = OpenAiError.internal("the server is shutting down");
        queue.close(p -> p.result().completeExceptionally(shutdown));
    }
}
