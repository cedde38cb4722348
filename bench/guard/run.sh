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
cd "$(dirname "$0")/../.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
[[ -n "${SKIP_BUILD:-}" ]] || ./mvnw -q -B -o -pl guard -am test-compile -DskipTests >/dev/null
[[ -d cli/target/lib ]] || ./mvnw -q -B -o -DskipTests package >/dev/null
CP="guard/target/test-classes"
for m in core teacher model train serve eval embed guard; do CP="$CP:$m/target/classes"; done
CP="$CP:$(ls cli/target/lib/*.jar | grep -v distill4j | tr '\n' ':')"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824 DJL_OFFLINE=true
CLASS="$1"; shift
exec "$JAVA_HOME/bin/java" $(cat cli/jvm.options 2>/dev/null) ${JAVA_OPTS:-} -Dai.djl.offline=true \
  -Dai.djl.pytorch.num_threads="$OMP_NUM_THREADS" -Dai.djl.pytorch.num_interop_threads=1 \
  -cp "$CP" "dev.distill4j.guard.bench.$CLASS" "$@"
