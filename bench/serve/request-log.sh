#!/usr/bin/env bash
# What --request-log costs: the tiny test model (about 60 k parameters, so per-request overhead is what shows)
# served without and with --keys + --request-log, in alternating rounds of closed-loop HTTP clients over loopback.
#
#   bench/serve/request-log.sh [SECONDS_PER_ROUND=10] [MAX_TOKENS=4] [CLIENTS=8] [ROUNDS=3]
#
# Prints requests/s, p50/p99 latency and the load average per round, and the mean of each side.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; export JAVA_HOME
OUT="$ROOT/bench/out/serve-request-log"; mkdir -p "$OUT"
cd "$ROOT"
./mvnw -q -B -o -pl serve -am test-compile dependency:build-classpath -Dmdep.outputFile="$OUT/cp.txt" >/dev/null
CP="$ROOT/serve/target/test-classes:$ROOT/serve/target/classes:$(cat "$OUT/cp.txt")"
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
export DJL_OFFLINE=true
TORCH_THREADS="${TORCH_THREADS:-1}"; export OMP_NUM_THREADS="$TORCH_THREADS"
JAVA=("$JAVA_HOME/bin/java" -Xmx2g --enable-native-access=ALL-UNNAMED -Dai.djl.offline=true
      -Dai.djl.pytorch.num_threads="$TORCH_THREADS" -Dai.djl.pytorch.num_interop_threads=1
      -Dlogback.configurationFile="$ROOT/serve/src/test/resources/logback-serve-test.xml" -cp "$CP")
MODEL="$OUT/tiny"
[[ -f "$MODEL/model.safetensors" ]] || "${JAVA[@]}" dev.distill4j.serve.TinyModel "$MODEL" >/dev/null
"${JAVA[@]}" dev.distill4j.serve.RequestLogBench "$MODEL" "${1:-10}" "${2:-4}" "${3:-8}" "${4:-3}"
