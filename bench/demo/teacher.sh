#!/usr/bin/env bash
# Trains a house teacher with the given settings and prints its per-kind accuracy on held-out tasks
# (docs/benchmarks.md, "Demo", the table of teacher configurations). Builds first if needed.
# usage: bench/demo/teacher.sh OUT TASKS VOCAB HIDDEN LAYERS HEADS KV_HEADS EPOCHS LR BATCH_TOKENS WARMUP [HELD_OUT]
#        KINDS=string bench/demo/teacher.sh ...        (only some task kinds)
#        bench/demo/teacher.sh acc MODEL_DIR GOLD.jsonl N      (accuracy of a trained model on N gold tasks)
set -euo pipefail
[[ $# -gt 0 ]] || { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }
source "$(dirname "$0")/../lib.sh"
bench_build demo
exec "${BENCH_JAVA[@]}" ${KINDS:+-Dkinds=$KINDS} -cp "$BENCH_CP" dev.distill4j.demo.TeacherExperiment "$@" 2> >(bench_quiet_incubator)
