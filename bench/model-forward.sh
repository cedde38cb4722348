#!/usr/bin/env bash
# Prefill/decode throughput of ~10M and ~25M llama-style models in distill4j (DJL, PyTorch engine, CPU).
# Usage: bench/model-forward.sh [repeats]      (from the repository root; results go in docs/benchmarks.md)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build model
exec "${BENCH_JAVA[@]}" -Xmx4g -cp "$BENCH_CP" dev.distill4j.model.bench.ForwardBench "${1:-5}" 2> >(bench_quiet_incubator)
