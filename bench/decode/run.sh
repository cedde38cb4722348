#!/usr/bin/env bash
# Batch-1 decode against the memory-bandwidth roofline: read bandwidth, then per model its roofline tokens/s and the
# measured tokens/s of DJL and of the inference engine (F32, int8). Models: llama-10M and llama-25M (random init, the
# shapes of docs/benchmarks.md's model-forward section) and, when given, a trained student folder (the demo's).
# Usage: bench/decode/run.sh [repeats] [student-folder]      (from the repository root; figures in docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -o -pl model -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$PWD/model/target/bench.classpath" -Dmdep.includeScope=test
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
export DJL_OFFLINE=true
# 2>&1 | grep -v: the JVM's one-line notice that the Vector API module is an incubator module
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules=jdk.incubator.vector -Xmx6g \
  ${JAVA_OPTS:-} -cp "model/target/test-classes:model/target/classes:$(cat model/target/bench.classpath)" \
  dev.distill4j.model.bench.DecodeBench "${1:-5}" ${2:+"$2"} 2> >(grep -v '^WARNING: Using incubator modules' >&2)
