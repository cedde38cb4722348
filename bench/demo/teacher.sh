#!/usr/bin/env bash
# Trains a house teacher with the given settings and prints its per-kind accuracy on held-out tasks
# (docs/benchmarks.md, "Demo", the table of teacher configurations). Builds first if needed.
# usage: bench/demo/teacher.sh OUT TASKS VOCAB HIDDEN LAYERS HEADS KV_HEADS EPOCHS LR BATCH_TOKENS WARMUP [HELD_OUT]
#        KINDS=string bench/demo/teacher.sh ...        (only some task kinds)
#        bench/demo/teacher.sh acc MODEL_DIR GOLD.jsonl N      (accuracy of a trained model on N gold tasks)
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
./mvnw -q -B -o -pl demo -am test-compile -DskipTests >/dev/null
[[ -d cli/target/lib ]] || ./mvnw -q -B -o -DskipTests package >/dev/null
CP="demo/target/test-classes"
for m in core teacher model train serve eval embed demo; do CP="$CP:$m/target/classes"; done
CP="$CP:$(ls cli/target/lib/*.jar | grep -v distill4j | tr '\n' ':')"
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824 DJL_OFFLINE=true
exec "$JAVA_HOME/bin/java" $(cat cli/jvm.options 2>/dev/null) ${KINDS:+-Dkinds=$KINDS} -Dai.djl.offline=true \
  -cp "$CP" dev.distill4j.demo.TeacherExperiment "$@"
