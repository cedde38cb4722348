#!/usr/bin/env bash
# Serving benchmark: a ~10 M-parameter random llama (tiny 356-token byte-level vocabulary) served by OpenAiServer
# in-process, driven by closed-loop HTTP clients over loopback at 1, 8 and 32 concurrent clients.
#
#   [SAMPLING=greedy,default] bench/serve/run.sh [SECONDS_PER_LEVEL=20] [MAX_TOKENS=32] [MAX_BATCH=16] [CLIENTS...=1 8 32]
#
# SAMPLING lists the request kinds run at each level: greedy (temperature 0) and/or default (no temperature, no
# seed: OpenAI's default sampling, temperature 1 with a random seed per request). Default: greedy.
#
# Prints requests/s, generated tokens/s, p50/p99 latency, errors and the 1-minute load average around each level.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; export JAVA_HOME
OUT="$ROOT/bench/out/serve"; mkdir -p "$OUT"
cd "$ROOT"
./mvnw -q -B -o -pl serve -am test-compile dependency:build-classpath -Dmdep.outputFile="$OUT/cp.txt" >/dev/null
CP="$ROOT/serve/target/test-classes:$ROOT/serve/target/classes:$(cat "$OUT/cp.txt")"
# the allocator settings the launcher uses (docs/architecture.md: big buffers are not handed back every step)
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824
export DJL_OFFLINE=true
# libtorch's intra-op threads spin-wait: on a shared, loaded machine 2 threads made one 32-token answer 8x slower
# than 1 thread (5.6 s vs 0.65 s at load average 9.5 on 2 cores). TORCH_THREADS=2 to compare.
TORCH_THREADS="${TORCH_THREADS:-1}"; export OMP_NUM_THREADS="$TORCH_THREADS"
JAVA=("$JAVA_HOME/bin/java" -Xmx2g --enable-native-access=ALL-UNNAMED --add-modules=jdk.incubator.vector -Dai.djl.offline=true
      -Dai.djl.pytorch.num_threads="$TORCH_THREADS" -Dai.djl.pytorch.num_interop_threads=1
      -Dlogback.configurationFile="$ROOT/serve/src/test/resources/logback-serve-test.xml" -cp "$CP")
MODEL="$OUT/model-10m"
# hidden 384, 6 layers, 6 heads (2 kv), MLP 1024, context 512: 9.6 M parameters
[[ -f "$MODEL/model.safetensors" ]] || "${JAVA[@]}" dev.distill4j.serve.TinyModel "$MODEL" 384 6 6 2 1024 512 >/dev/null
"${JAVA[@]}" -Dserve.sampling="${SAMPLING:-greedy}" dev.distill4j.serve.ServeBench "$MODEL" "${1:-20}" "${2:-32}" "${3:-16}" "${@:4}"
