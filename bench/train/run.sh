#!/usr/bin/env bash
# Training-step throughput (tokens/s, MFU) of ~10M and ~25M llama students in distill4j, and RSS over many steps.
# Usage (from anywhere; results go in docs/benchmarks.md, "Training"):
#   bench/train/run.sh throughput [timedSteps] [warmupSteps] [batch] [seqLen]
#   bench/train/run.sh rss [steps] [every]
#   bench/train/run.sh phases [model: 0 = llama-10M, 1 = llama-25M] [chunkRows: 0 = the trainer's default]
# NO_MALLOC_TUNING=1 leaves glibc's allocator at its defaults (to measure what the launcher's settings buy).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
bench_build train
main=dev.distill4j.train.bench.TrainBench
if [[ "${1:-}" == phases ]]; then main=dev.distill4j.train.bench.TrainStepPhases; shift; set -- "${1:-1}" "${2:-0}"; fi
exec "${BENCH_JAVA[@]}" -Xmx2g -cp "$BENCH_CP" "$main" "$@" 2> >(bench_quiet_incubator)
