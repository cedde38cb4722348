#!/usr/bin/env bash
# The guard benchmarks of docs/benchmarks.md ("guard: watermark calibration, power, robustness"): runs a class of
# guard's test sources (dev.distill4j.guard.bench) on the built modules. Builds first if needed.
#
#   bench/guard/run.sh Calibration corpus TOKENIZER_DIR bench/out/guard/corpus.txt TESTS [SEGMENT] [POOLED_KEYS]
#   bench/guard/run.sh Calibration teacher TOKENIZER_DIR SAMPLES.jsonl TESTS 0 [POOLED_KEYS]
#   bench/guard/run.sh TeacherSamples TEACHER_DIR PROMPTS.jsonl OUT.jsonl SCHEME|none SECONDS [MAX_PROMPTS]
#   bench/guard/run.sh Power TEACHER_DIR OUT_DIR
#   bench/guard/run.sh Robustness TEACHER_DIR OUT_DIR bench/out/guard/corpus.txt
#
# bench/guard/all.sh runs the whole set in order. -Dthreads=N (JAVA_OPTS) sets the worker threads (default 2).
set -euo pipefail
[[ $# -gt 0 ]] || { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }
source "$(dirname "$0")/../lib.sh"
bench_build guard
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
CLASS="$1"; shift
exec "${BENCH_JAVA[@]}" ${JAVA_OPTS:-} \
  -Dai.djl.pytorch.num_threads="$OMP_NUM_THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
  -cp "$BENCH_CP" "dev.distill4j.guard.bench.$CLASS" "$@" 2> >(bench_quiet_incubator)
