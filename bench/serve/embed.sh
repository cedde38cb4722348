#!/usr/bin/env bash
# /v1/embeddings benchmark: the bge-small teacher and a static table of its vocabulary served by OpenAiServer
# in-process, driven by closed-loop HTTP clients over loopback (1 and 8 clients; 1 and 32 sentences per request).
#
#   bench/serve/embed.sh [SECONDS_PER_LEVEL=10] [DIMS=256] [SENTENCES_PER_REQUEST...=1 32]
#
# Prints requests/s, sentences/s, p50/p99 latency, errors and the 1-minute load average around each level.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; export JAVA_HOME
OUT="$ROOT/bench/out/serve-embed"; mkdir -p "$OUT"
cd "$ROOT"
./mvnw -q -B -o -pl serve -am test-compile dependency:build-classpath -Dmdep.outputFile="$OUT/cp.txt" >/dev/null
CP="$ROOT/serve/target/test-classes:$ROOT/serve/target/classes:$(cat "$OUT/cp.txt")"
export DJL_OFFLINE=true
"$JAVA_HOME/bin/java" -Xmx2g --enable-native-access=ALL-UNNAMED -Dai.djl.offline=true \
    -Dlogback.configurationFile="$ROOT/serve/src/test/resources/logback-serve-test.xml" -cp "$CP" \
    dev.distill4j.serve.EmbedServeBench "${1:-10}" "${2:-256}" "${@:3}"
