#!/usr/bin/env bash
# Training-step throughput (tokens/s, MFU) of ~10M and ~25M llama students in distill4j, and RSS over many steps.
# Usage (from anywhere; results go in docs/benchmarks.md, "Training"):
#   bench/train/run.sh throughput [timedSteps] [warmupSteps] [batch] [seqLen]
#   bench/train/run.sh rss [steps] [every]
#   bench/train/run.sh phases [model: 0 = llama-10M, 1 = llama-25M] [chunkRows: 0 = the trainer's default]
# NO_MALLOC_TUNING=1 leaves glibc's allocator at its defaults (to measure what the launcher's settings buy).
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -o -pl train -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$PWD/train/target/bench.classpath" -Dmdep.includeScope=test
if [[ -z "${NO_MALLOC_TUNING:-}" ]]; then
  # the distill launcher's settings: glibc keeps big buffers instead of returning and page-faulting them every step
  export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
fi
export DJL_OFFLINE=true
main=dev.distill4j.train.bench.TrainBench
if [[ "${1:-}" == phases ]]; then main=dev.distill4j.train.bench.TrainStepPhases; shift; set -- "${1:-1}" "${2:-0}"; fi
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx2g \
  -cp "train/target/test-classes:train/target/classes:$(cat train/target/bench.classpath)" \
  "$main" "$@"
