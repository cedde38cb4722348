#!/usr/bin/env bash
# On-policy distillation from the served house teacher (scored over HTTP) vs off-policy top-k KD at the same
# teacher-token spend, on the demo's tasks (docs/benchmarks.md, "On-policy distillation over HTTP"). Builds first.
# usage: bench/train/onpolicy.sh continue OUT HARVEST_RUN TEACHER_DIR STUDENT_DIR NEW_PROMPTS N STEPS BATCH LR TOP_K
#        bench/train/onpolicy.sh OUT HARVEST_RUN TEACHER_DIR TOKENIZER_DIR SIZES OFF_STEPS ON_STEPS ON_TOP_K [ON_LR]
#   HARVEST_RUN: the demo's harvest (distill demo's run folder: 2,400 prompts of the house teacher, top-5 logprobs)
#   TEACHER_DIR: the house teacher (distill demo's cache: <cache>/teacher-default-1)
#   e.g. bench/train/onpolicy.sh /tmp/onpolicy runs/demo cache/teacher-default-1 cache/corpus-default-1/tokenizer \
#        300,600,1200 300 60 0
# results.tsv in OUT: arm, point, step, teacher tokens, accuracy, its 95 % interval, prompts, top-1 agreement, KL
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
./mvnw -q -B -o -pl demo -am test-compile -DskipTests >/dev/null
[[ -d cli/target/lib ]] || ./mvnw -q -B -o -DskipTests package >/dev/null
CP="demo/target/test-classes"
for m in core teacher model train serve eval embed demo; do CP="$CP:$m/target/classes"; done
CP="$CP:$(ls cli/target/lib/*.jar | grep -v distill4j | tr '\n' ':')"
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824 DJL_OFFLINE=true
exec "$JAVA_HOME/bin/java" $(cat cli/jvm.options 2>/dev/null) ${LIMIT:+-Dlimit=$LIMIT} ${ON_POLICY_ONLY:+-DonPolicyOnly=true} -Dai.djl.offline=true \
  -cp "$CP" dev.distill4j.demo.OnPolicyExperiment "$@"
