#!/usr/bin/env bash
# Batch-1 decode against the memory-bandwidth roofline: read bandwidth, then per model its roofline tokens/s and the
# measured tokens/s of DJL and of the inference engine (F32, int8). Models: llama-10M and llama-25M (random init, the
# shapes of docs/benchmarks.md's model-forward section) and, when given, a trained student folder (the demo's). Given
# a teacher folder too, it measures both as the demo's scorecard does (eval's formula, greedy, the same chat
# prompts: PROMPTS, default the house corpus's held-out prompts) and prints student / teacher decode tokens/s.
# Ends with issue 15's three targets, each as measured in this run. Prints the load average before and after: on a
# shared machine, compare only figures of one run.
# Usage: bench/decode/run.sh [repeats] [student-folder] [teacher-folder]   (from the repository root; figures in
#        docs/benchmarks.md). ENGINE_ONLY=1 skips DJL (quicker A/B runs of the engine).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
bench_build model
cache=${XDG_CACHE_HOME:-$HOME/.cache}/distill4j
prompts=${PROMPTS:-$cache/corpus-default-1/prompts/heldout.jsonl}
if [ -n "${3:-}" ] && [ ! -f "$prompts" ]; then
  echo "no prompts at $prompts: run 'distill demo' once (it writes the house corpus there) or set PROMPTS to a JSONL" \
       "file of {\"messages\": [...]} lines" >&2
  exit 2
fi
# 2>&1 | grep -v: the JVM's one-line notice that the Vector API module is an incubator module
exec "${BENCH_JAVA[@]}" -Xmx6g -Dbench.prompts="$prompts" \
  -Dbench.djl="$([ -n "${ENGINE_ONLY:-}" ] && echo false || echo true)" ${JAVA_OPTS:-} -cp "$BENCH_CP" \
  dev.distill4j.model.bench.DecodeBench "${1:-5}" ${2:+"$2"} ${3:+"$3"} 2> >(bench_quiet_incubator)
