#!/usr/bin/env bash
# Prefill/decode throughput of ~10M and ~25M llama-style models in distill4j (DJL, PyTorch engine, CPU).
# Usage: bench/model-forward.sh [repeats]      (from the repository root; results go in docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -o -pl model -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$PWD/model/target/bench.classpath" -Dmdep.includeScope=test
# glibc keeps big buffers instead of returning and page-faulting them every step (see docs/benchmarks.md)
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
export DJL_OFFLINE=true
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx4g \
  -cp "model/target/test-classes:model/target/classes:$(cat model/target/bench.classpath)" \
  dev.distill4j.model.bench.ForwardBench "${1:-5}"
