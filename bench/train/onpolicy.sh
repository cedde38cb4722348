#!/usr/bin/env bash
# On-policy distillation from the served house teacher (scored over HTTP) vs off-policy top-k KD at the same
# teacher-token spend, on the demo's tasks (docs/benchmarks.md, "On-policy distillation over HTTP"). Builds first.
# usage: bench/train/onpolicy.sh continue OUT HARVEST_RUN TEACHER_DIR STUDENT_DIR NEW_PROMPTS N STEPS BATCH LR TOP_K
#        bench/train/onpolicy.sh OUT HARVEST_RUN TEACHER_DIR TOKENIZER_DIR SIZES OFF_STEPS ON_STEPS ON_TOP_K [ON_LR]
#        bench/train/onpolicy.sh scale OUT TEACHER_DIR CORPUS_DIR POOL_N S0_N S0_STEPS SPENDS OFF_STEPS OFF_LR ON_TOP_K ON_LR
#   scale: both arms continue one off-policy student S0 on a pool of POOL_N new tasks harvested from the teacher
#          (OnPolicyScale's Javadoc); SPENDS: the extra teacher tokens (,-separated) at which both are scored
#   HARVEST_RUN: the demo's harvest (distill demo's run folder: 2,400 prompts of the house teacher, top-5 logprobs)
#   TEACHER_DIR: the house teacher (distill demo's cache: <cache>/teacher-default-1)
#   e.g. bench/train/onpolicy.sh /tmp/onpolicy runs/demo cache/teacher-default-1 cache/corpus-default-1/tokenizer \
#        300,600,1200 300 60 0
# results.tsv in OUT: arm, point, step, teacher tokens, accuracy, its 95 % interval, prompts, top-1 agreement, KL
set -euo pipefail
[[ $# -gt 0 ]] || { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2; exit 2; }
source "$(dirname "$0")/../lib.sh"
bench_build demo
main=dev.distill4j.demo.OnPolicyExperiment
[[ $1 == scale ]] && { main=dev.distill4j.demo.OnPolicyScale; shift; }
exec "${BENCH_JAVA[@]}" ${LIMIT:+-Dlimit=$LIMIT} ${ON_POLICY_ONLY:+-DonPolicyOnly=true} ${JAVA_OPTS:-} -cp "$BENCH_CP" "$main" "$@" 2> >(bench_quiet_incubator)
