#!/usr/bin/env bash
# Every guard benchmark in order, as docs/benchmarks.md reports them; output in bench/out/guard/*.log.
#   bench/guard/all.sh [TEACHER_DIR] [CORPUS_DIR]
# TEACHER_DIR: the house teacher `distill demo` trains (default ~/.cache/distill4j/teacher-default-1);
# CORPUS_DIR: its task corpus (default beside it, corpus-default-1). Time budgets by env: NULL_SECONDS (clean
# teacher samples, default 300), WM_SECONDS (each watermarked scheme, default 150), TESTS (null tests per scheme,
# default 100000).
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/distill4j"
T="${1:-$CACHE/teacher-default-1}"; C="${2:-$(dirname "$T")/corpus-default-1}"
O=bench/out/guard; mkdir -p "$O"
[[ -f $O/corpus.txt ]] || bench/guard/corpus.sh "$O/corpus.txt"
bench/guard/run.sh Calibration corpus "$C/tokenizer" "$O/corpus.txt" "${TESTS:-100000}" 200 4 2>&1 | grep --line-buffered -v ' DEBUG \| INFO \| WARN ' | tee "$O/null-corpus.log"
SKIP_BUILD=1 bench/guard/samples.sh "$T" "$C"
SKIP_BUILD=1 bench/guard/run.sh Calibration teacher "$C/tokenizer" "$O/samples-none.jsonl" "${TESTS:-100000}" 0 4 2>&1 | grep --line-buffered -v ' DEBUG \| INFO \| WARN ' | tee "$O/null-teacher.log"
SKIP_BUILD=1 bench/guard/run.sh Power "$T" "$O" 2>&1 | grep --line-buffered -v ' DEBUG \| INFO \| WARN ' | tee "$O/power.log"
SKIP_BUILD=1 bench/guard/run.sh Robustness "$T" "$O" "$O/corpus.txt" 2>&1 | grep --line-buffered -v ' DEBUG \| INFO \| WARN ' | tee "$O/robustness.log"
