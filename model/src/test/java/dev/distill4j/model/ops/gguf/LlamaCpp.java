package dev.distill4j.model.ops.gguf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * llama.cpp's C API ({@code llama.h} at build b4916, the one {@code de.kherud:llama} 4.2.0 ships) called through the
 * FFM API, for what the binding's Java API does not expose: prompts as token ids, the next-token logits, and
 * token ids (not text) out. The native library is the binding's own {@code libjllama.so}, loaded by its loader;
 * its llama.cpp symbols are exported, so this is the same llama.cpp that {@code LlamaModel} runs.
 *
 * <p>{@code llama_model_params} and {@code llama_context_params} are passed by value as opaque blobs larger than
 * the real structs: on x86-64 System V a struct over 16 bytes goes in memory (returned through a hidden pointer,
 * passed as a stack copy), and as the last argument its extra tail is never read. Only {@code n_ctx},
 * {@code n_batch}, {@code n_ubatch}, {@code n_threads(_batch)} and the KV cache types are set (offsets 0, 4, 8, 16,
 * 20, 88, 92), after checking known defaults at known offsets.
 */
final class LlamaCpp implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout PARAMS_BLOB = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(64, JAVA_LONG));
    /** {@code llama_batch}: n_tokens, token, embd, pos, n_seq_id, seq_id, logits. */
    private static final MemoryLayout BATCH = MemoryLayout.structLayout(JAVA_INT, MemoryLayout.paddingLayout(4),
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);

    private static final MethodHandle MODEL_DEFAULT_PARAMS, LOAD_MODEL, CONTEXT_DEFAULT_PARAMS, INIT_FROM_MODEL,
            GET_VOCAB, N_TOKENS, BATCH_GET_ONE, DECODE, GET_LOGITS_ITH, TOKENIZE, CHAT_TEMPLATE, META_VAL_STR,
            KV_CLEAR, FREE, MODEL_FREE;

    static {
        try {
            // the binding's loader extracts libjllama.so and System.loads it into this class loader
            Class.forName("de.kherud.llama.LlamaModel", true, LlamaCpp.class.getClassLoader());
            SymbolLookup lib = SymbolLookup.loaderLookup();
            MethodHandle logSet = h(lib, "llama_log_set", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
            MethodHandle quiet = MethodHandles.lookup().findStatic(LlamaCpp.class, "quiet",
                    MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment stub = LINKER.upcallStub(quiet, FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS),
                    Arena.global());
            logSet.invokeExact(stub, MemorySegment.NULL);
            h(lib, "llama_backend_init", FunctionDescriptor.ofVoid()).invokeExact();
            MODEL_DEFAULT_PARAMS = h(lib, "llama_model_default_params", FunctionDescriptor.of(PARAMS_BLOB));
            LOAD_MODEL = h(lib, "llama_model_load_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, PARAMS_BLOB));
            CONTEXT_DEFAULT_PARAMS = h(lib, "llama_context_default_params", FunctionDescriptor.of(PARAMS_BLOB));
            INIT_FROM_MODEL = h(lib, "llama_init_from_model", FunctionDescriptor.of(ADDRESS, ADDRESS, PARAMS_BLOB));
            GET_VOCAB = h(lib, "llama_model_get_vocab", FunctionDescriptor.of(ADDRESS, ADDRESS));
            N_TOKENS = h(lib, "llama_vocab_n_tokens", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            BATCH_GET_ONE = h(lib, "llama_batch_get_one", FunctionDescriptor.of(BATCH, ADDRESS, JAVA_INT));
            DECODE = h(lib, "llama_decode", FunctionDescriptor.of(JAVA_INT, ADDRESS, BATCH));
            GET_LOGITS_ITH = h(lib, "llama_get_logits_ith", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
            TOKENIZE = h(lib, "llama_tokenize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS,
                    JAVA_INT, JAVA_BOOLEAN, JAVA_BOOLEAN));
            CHAT_TEMPLATE = h(lib, "llama_model_chat_template", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
            META_VAL_STR = h(lib, "llama_model_meta_val_str", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                    ADDRESS, JAVA_LONG));
            KV_CLEAR = h(lib, "llama_kv_self_clear", FunctionDescriptor.ofVoid(ADDRESS));
            FREE = h(lib, "llama_free", FunctionDescriptor.ofVoid(ADDRESS));
            MODEL_FREE = h(lib, "llama_model_free", FunctionDescriptor.ofVoid(ADDRESS));
        } catch (Throwable e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static MethodHandle h(SymbolLookup lib, String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(lib.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)), d);
    }

    @SuppressWarnings("unused")
    private static void quiet(int level, MemorySegment text, MemorySegment user) {
        // llama.cpp logs every load at length; only its warnings and errors (ggml_log_level 3, 4) are shown
        if (level == 3 || level == 4) System.err.print("llama.cpp: " + text.reinterpret(Long.MAX_VALUE).getString(0));
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment model;
    private final MemorySegment ctx;
    private final MemorySegment vocab;
    private final int nVocab;

    /** Loads a GGUF file on the CPU with a context of {@code nCtx} tokens; fails with llama.cpp's verdict. */
    LlamaCpp(Path gguf, int nCtx) {
        try {
            MemorySegment mp = (MemorySegment) MODEL_DEFAULT_PARAMS.invokeExact((SegmentAllocator) arena);
            model = (MemorySegment) LOAD_MODEL.invokeExact(arena.allocateFrom(gguf.toAbsolutePath().toString()), mp);
            if (model.equals(MemorySegment.NULL)) {
                arena.close();
                throw new IllegalStateException("llama.cpp refused to load " + gguf);
            }
            MemorySegment cp = (MemorySegment) CONTEXT_DEFAULT_PARAMS.invokeExact((SegmentAllocator) arena);
            // llama.h b4916: yarn_ext_factor (44) and defrag_thold (64) default to -1, type_k / type_v (88, 92)
            // to GGML_TYPE_F16; checked so that a different struct layout fails loudly instead of misconfiguring
            if (cp.get(JAVA_FLOAT, 44) != -1f || cp.get(JAVA_FLOAT, 64) != -1f || cp.get(JAVA_INT, 88) != 1
                    || cp.get(JAVA_INT, 92) != 1) {
                throw new IllegalStateException("llama_context_params has an unexpected layout: "
                        + Arrays.toString(cp.asSlice(0, 128).toArray(JAVA_INT)));
            }
            cp.set(JAVA_INT, 0, nCtx);     // n_ctx
            cp.set(JAVA_INT, 4, nCtx);     // n_batch: a whole prompt in one decode
            cp.set(JAVA_INT, 8, nCtx);     // n_ubatch
            // one thread: for a tiny model ggml's spinning workers only contend for the test machine's cores
            cp.set(JAVA_INT, 16, 1);       // n_threads
            cp.set(JAVA_INT, 20, 1);       // n_threads_batch
            // an F32 KV cache: llama.cpp's default F16 cache rounds keys and values (~1e-3 relative)
            cp.set(JAVA_INT, 88, 0);       // type_k = GGML_TYPE_F32
            cp.set(JAVA_INT, 92, 0);       // type_v
            ctx = (MemorySegment) INIT_FROM_MODEL.invokeExact(model, cp);
            if (ctx.equals(MemorySegment.NULL)) throw new IllegalStateException("llama.cpp: no context for " + gguf);
            vocab = (MemorySegment) GET_VOCAB.invokeExact(model);
            nVocab = (int) N_TOKENS.invokeExact(vocab);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    int vocabSize() { return nVocab; }

    /** Forgets the KV cache: the next {@link #logits} starts a new sequence at position 0. */
    void reset() {
        try {
            KV_CLEAR.invokeExact(ctx);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Appends {@code ids} to the sequence and returns the next-token logits after the last of them. */
    float[] logits(int... ids) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment toks = call.allocateFrom(JAVA_INT, ids);
            MemorySegment batch = (MemorySegment) BATCH_GET_ONE.invokeExact((SegmentAllocator) call,
                    toks, ids.length);
            int rc = (int) DECODE.invokeExact(ctx, batch);
            if (rc != 0) throw new IllegalStateException("llama_decode returned " + rc);
            MemorySegment p = (MemorySegment) GET_LOGITS_ITH.invokeExact(ctx, -1);
            return p.reinterpret(4L * nVocab).toArray(JAVA_FLOAT);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Greedy decoding from {@code prompt}: up to {@code n} ids, stopping after any id in {@code stop}. */
    int[] greedy(int[] prompt, int n, int... stop) {
        reset();
        int[] out = new int[n];
        float[] l = logits(prompt);
        for (int i = 0; i < n; i++) {
            out[i] = argmax(l);
            for (int s : stop) if (out[i] == s) return Arrays.copyOf(out, i + 1);
            if (i + 1 < n) l = logits(out[i]);
        }
        return out;
    }

    /** llama.cpp's tokenization of {@code text}: special tokens parsed, BOS only if the file says add_bos. */
    int[] tokenize(String text) {
        try (Arena call = Arena.ofConfined()) {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            MemorySegment s = call.allocate(b.length + 1L);
            s.copyFrom(MemorySegment.ofArray(b));
            int max = b.length + 8;
            MemorySegment toks = call.allocate(JAVA_INT, max);
            int n = (int) TOKENIZE.invokeExact(vocab, s, b.length, toks, max, true, true);
            if (n < 0) throw new IllegalStateException("llama_tokenize needs " + -n + " slots");
            return Arrays.copyOf(toks.toArray(JAVA_INT), n);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** The file's {@code tokenizer.chat_template}, as llama.cpp reads it; null when absent. */
    String chatTemplate() {
        try {
            MemorySegment p = (MemorySegment) CHAT_TEMPLATE.invokeExact(model, MemorySegment.NULL);
            return p.equals(MemorySegment.NULL) ? null : p.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** A metadata value as llama.cpp prints it; null when the key is absent. */
    String meta(String key) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment buf = call.allocate(4096);
            int n = (int) META_VAL_STR.invokeExact(model, call.allocateFrom(key), buf, 4096L);
            return n < 0 ? null : buf.getString(0);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    @Override
    public void close() {
        try {
            FREE.invokeExact(ctx);
            MODEL_FREE.invokeExact(model);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        } finally {
            arena.close();
        }
    }
}
