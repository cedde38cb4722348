#!/usr/bin/env bash
# The accuracy cost of int8 weights: NLL and top-1 agreement of the int8 engine against the F32 engine of the same
# model, teacher-forced over held-out task replies and over English text from Debian packages.
# Usage: bench/decode/int8-accuracy.sh MODEL_DIR... (from the repository root; figures in docs/benchmarks.md)
#   TASKS=held-out JSONL ({"prompt","rationale"}; default: the demo corpus's gold/heldout.jsonl under runs/ or $CORPUS)
#   TEXTS="files..."      plain English text (default: /usr/share/common-licenses/GPL-3 and Apache-2.0, from Debian's
#                         base-files package)
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
bench_build model
args=()
for m in "$@"; do args+=(--model "$m"); done
[[ -n "${TASKS:-}" ]] && args+=(--tasks "$TASKS" --limit "${LIMIT:-100}")
for t in ${TEXTS:-/usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0}; do args+=(--text "$t"); done
exec "${BENCH_JAVA[@]}" -Xmx4g -cp "$BENCH_CP" dev.distill4j.model.bench.Int8AccuracyBench "${args[@]}" \
  2> >(bench_quiet_incubator)
