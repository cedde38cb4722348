#!/usr/bin/env bash
# The house teacher's answers for the guard benchmarks, sampled in-process at temperature 1: unwatermarked for
# NULL_SECONDS (default 600; held-out, harvest and then training prompts), and under each scheme for WM_SECONDS
# (default 150; held-out then harvest prompts). Output: bench/out/guard/samples-{none,SCHEME}.jsonl.
# NULL_SECONDS=0 skips the unwatermarked samples; SCHEMES="..." picks schemes. PyTorch runs on one thread
# (on 2 shared cores, two spinning OpenMP threads made decoding several times slower).
#   bench/guard/samples.sh TEACHER_DIR CORPUS_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
T="$1"; C="$2"; O=bench/out/guard; mkdir -p "$O"
P="$C/prompts/heldout.jsonl,$C/prompts/harvest.jsonl"
[[ "${NULL_SECONDS:-600}" == 0 ]] || bench/guard/run.sh TeacherSamples "$T" "$P,$C/gold/teacher.jsonl" "$O/samples-none.jsonl" none "${NULL_SECONDS:-600}" 2>&1 | grep --line-buffered -v ' DEBUG \| INFO \| WARN ' | tee "$O/samples.log"
for s in ${SCHEMES:-kgw-left-h1 kgw-self-h4 gumbel-h4 synthid-m30-h4}; do
  SKIP_BUILD=1 bench/guard/run.sh TeacherSamples "$T" "$P" "$O/samples-$s.jsonl" "$s" "${WM_SECONDS:-150}" 2>&1 | grep --line-buffered -v ' DEBUG \| INFO \| WARN ' | tee -a "$O/samples.log"
done
