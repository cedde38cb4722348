// Records what a current llama.cpp (the one npm's node-llama-cpp ships, prebuilt, CPU) answers on distill4j's GGUF
// exports, for model/src/test/.../GgufQwen3ReferenceTest: written from node-llama-cpp's documented API, not from
// distill4j's code. Input: request.json from GgufQwen3ReferenceTest.main. Output (stdout path argument): per variant
// and file, the file's SHA-256, llama.cpp's own greedy decoding of each prompt (temperature 0), and its next-token
// logits teacher-forced along distill4j's sequences (full rows as little-endian float32 base64 for f32, the argmax
// for f16 and q8_0), plus llama.cpp's tokenization of the texts (special tokens parsed, as llama_tokenize does).
//
//   node llamacpp_reference.mjs REQUEST.json OUT.json
import {createHash} from "node:crypto";
import {readFileSync, writeFileSync} from "node:fs";
import {getLlama} from "node-llama-cpp";

const [requestPath, outPath] = process.argv.slice(2);
const request = JSON.parse(readFileSync(requestPath, "utf8"));
const version = JSON.parse(readFileSync(new URL("./node_modules/node-llama-cpp/package.json", import.meta.url))).version;
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const release = llama.llamaCppRelease ? `${llama.llamaCppRelease.repo}@${llama.llamaCppRelease.release}` : "unknown";

function argmax(row) {
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    return best;
}

// The full next-token logit row of one position, as a Float32Array indexed by token id.
function row(output, vocab) {
    if (output.next.logits.size !== vocab) throw new Error(`${output.next.logits.size} logits, want ${vocab}`);
    const r = new Float32Array(vocab);
    for (const [token, logit] of output.next.logits) r[token] = logit;
    return r;
}

const out = {llama_cpp: `node-llama-cpp ${version}, llama.cpp ${release}`, variants: []};
for (const v of request.variants) {
    const rec = {variant: v.variant, seed: v.seed, files: {}};
    for (const [kind, path] of Object.entries(v.files)) {
        const model = await llama.loadModel({modelPath: path});
        // F32 KV cache and no flash attention: the defaults (F16 cache) round the keys and values, which moves F32 logits
        // by ~1e-2 and is not what the export is tested for
        const context = await model.createContext({contextSize: 256, batchSize: 256, threads: 1, sequences: 1,
            flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"});
        const file = {sha256: createHash("sha256").update(readFileSync(path)).digest("hex"), greedy: [], argmax: []};
        const sequence = context.getSequence();
        if (kind === "f32") {
            file.logits = [];
            rec.tokenize = v.texts.map(t => Array.from(model.tokenize(t, true)));
        }
        for (let s = 0; s < v.prompts.length; s++) {
            const prompt = v.prompts[s];
            const seq = v.sequences[s];
            // llama.cpp's own greedy decoding from the prompt: its sampler at temperature 0 picks each token, one
            // evaluation at a time (sequence.evaluate would stop at an end-of-generation token without yielding it,
            // where distill4j returns it)
            await sequence.clearHistory();
            const greedy = [];
            const pick = {generateNext: {token: true, options: {temperature: 0}}};
            let input = [...prompt.slice(0, -1), [prompt[prompt.length - 1], pick]];
            while (greedy.length < v.new_tokens) {
                const results = await sequence.controlledEvaluate(input);
                const t = results[input.length - 1].next.token;
                greedy.push(t);
                if (v.stop.includes(t)) break;
                input = [[t, pick]];
            }
            file.greedy.push(greedy);
            // teacher-forced along distill4j's sequence: the logits after each position from the prompt's last on
            await sequence.clearHistory();
            const forced = seq.slice(0, seq.length - 1).map((t, i) =>
                i >= prompt.length - 1 ? [t, {generateNext: {logits: true}}] : t);
            const results = await sequence.controlledEvaluate(forced);
            const size = v.vocab_size;
            const rows = [];
            for (let i = prompt.length - 1; i < seq.length - 1; i++) rows.push(row(results[i], size));
            file.argmax.push(rows.map(argmax));
            if (kind === "f32") {
                const flat = new Float32Array(rows.length * size);
                rows.forEach((r, i) => flat.set(r, i * size));
                file.logits.push(Buffer.from(flat.buffer).toString("base64"));
            }
        }
        rec.files[kind] = file;
        await context.dispose();
        await model.dispose();
        console.error(`${v.variant} ${kind}: ${file.greedy.map(g => g.length).reduce((a, b) => a + b)} greedy tokens`);
    }
    out.variants.push(rec);
}
writeFileSync(outPath, JSON.stringify(out, null, 1) + "\n");
console.error(`wrote ${outPath} (${out.llama_cpp})`);
