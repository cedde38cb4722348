#!/usr/bin/env bash
# What --request-log costs: the tiny test model (about 60 k parameters, so per-request overhead is what shows)
# served without and with --keys + --request-log, in alternating rounds of closed-loop HTTP clients over loopback.
#
#   bench/serve/request-log.sh [SECONDS_PER_ROUND=10] [MAX_TOKENS=4] [CLIENTS=8] [ROUNDS=3]
#
# Prints requests/s, p50/p99 latency and the load average per round, and the mean of each side.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
bench_build serve
ROOT="$BENCH_ROOT"
OUT="$ROOT/bench/out/serve-request-log"; mkdir -p "$OUT"
TORCH_THREADS="${TORCH_THREADS:-1}"; export OMP_NUM_THREADS="$TORCH_THREADS"
JAVA=("${BENCH_JAVA[@]}" -Xmx2g
      -Dai.djl.pytorch.num_threads="$TORCH_THREADS" -Dai.djl.pytorch.num_interop_threads=1
      -Dlogback.configurationFile="$ROOT/serve/src/test/resources/logback-serve-test.xml" -cp "$BENCH_CP")
MODEL="$OUT/tiny"
[[ -f "$MODEL/model.safetensors" ]] || "${JAVA[@]}" dev.distill4j.serve.TinyModel "$MODEL" >/dev/null
"${JAVA[@]}" dev.distill4j.serve.RequestLogBench "$MODEL" "${1:-10}" "${2:-4}" "${3:-8}" "${4:-3}"
