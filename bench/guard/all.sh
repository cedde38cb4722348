#!/usr/bin/env bash
# Every guard benchmark in order, as docs/benchmarks.md ("guard: watermark calibration, power, robustness") reports
# them; output in bench/out/guard/*.log. About 40 minutes on the 2 shared cores (corpus 3 min, samples 10 + 4×2.5 min,
# calibration 5 min, power and robustness 5 min).
#   bench/guard/all.sh [TEACHER_DIR] [CORPUS_DIR]
# TEACHER_DIR: the house teacher `distill demo` trains (default ~/.cache/distill4j/teacher-default-1; run
# `./distill demo` first); CORPUS_DIR: its task corpus (default beside it, corpus-default-1). Env: NULL_SECONDS
# (clean teacher samples, default 600), WM_SECONDS (each watermarked scheme, default 150).
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/distill4j"
T="${1:-$CACHE/teacher-default-1}"; C="${2:-$(dirname "$T")/corpus-default-1}"
O=bench/out/guard; mkdir -p "$O"
quiet() { grep --line-buffered -v ' DEBUG \| INFO \| WARN '; }
[[ -f $O/corpus.txt ]] || bench/guard/corpus.sh "$O/corpus.txt"
bench/guard/run.sh Calibration corpus "$C/tokenizer" "$O/corpus.txt" 100000 200 4 2>&1 | quiet | tee "$O/null-corpus.log"
SKIP_BUILD=1 bench/guard/samples.sh "$T" "$C"
SKIP_BUILD=1 bench/guard/run.sh Calibration teacher "$C/tokenizer" "$O/samples-none.jsonl" 200000 0 10 2>&1 | quiet | tee "$O/null-teacher.log"
SKIP_BUILD=1 bench/guard/run.sh Power "$T" "$O" 400 2>&1 | quiet | tee "$O/power.log"
SKIP_BUILD=1 bench/guard/run.sh Robustness "$T" "$O" "$O/corpus.txt" 300 32 2>&1 | quiet | tee "$O/robustness.log"
