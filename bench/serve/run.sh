#!/usr/bin/env bash
# Serving benchmark: a ~10 M-parameter random llama (tiny 356-token byte-level vocabulary) served by OpenAiServer
# in-process, driven by closed-loop HTTP clients over loopback at 1, 8 and 32 concurrent clients.
#
#   [SAMPLING=greedy,default] bench/serve/run.sh [SECONDS_PER_LEVEL=20] [MAX_TOKENS=32] [MAX_BATCH=16] [CLIENTS...=1 8 32]
#
# SAMPLING lists the request kinds run at each level: greedy (temperature 0) and/or default (no temperature, no
# seed: OpenAI's default sampling, temperature 1 with a random seed per request). Default: greedy.
#
# Prints requests/s, generated tokens/s, p50/p99 latency, errors and the 1-minute load average around each level.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
bench_build serve
ROOT="$BENCH_ROOT"
OUT="$ROOT/bench/out/serve"; mkdir -p "$OUT"
# libtorch's intra-op threads spin-wait: on a shared, loaded machine 2 threads made one 32-token answer 8x slower
# than 1 thread (5.6 s vs 0.65 s at load average 9.5 on 2 cores). TORCH_THREADS=2 to compare.
TORCH_THREADS="${TORCH_THREADS:-1}"; export OMP_NUM_THREADS="$TORCH_THREADS"
JAVA=("${BENCH_JAVA[@]}" -Xmx2g
      -Dai.djl.pytorch.num_threads="$TORCH_THREADS" -Dai.djl.pytorch.num_interop_threads=1
      -Dlogback.configurationFile="$ROOT/serve/src/test/resources/logback-serve-test.xml" -cp "$BENCH_CP")
MODEL="$OUT/model-10m"
# hidden 384, 6 layers, 6 heads (2 kv), MLP 1024, context 512: 9.6 M parameters
[[ -f "$MODEL/model.safetensors" ]] || "${JAVA[@]}" dev.distill4j.serve.TinyModel "$MODEL" 384 6 6 2 1024 512 >/dev/null
"${JAVA[@]}" -Dserve.sampling="${SAMPLING:-greedy}" dev.distill4j.serve.ServeBench "$MODEL" "${1:-20}" "${2:-32}" "${3:-16}" "${@:4}"
