#!/usr/bin/env bash
# What a `distill serve --guard` decision costs: OnlineGuard.admit (on the request path) and OnlineGuard.observe (on
# the server's guard thread: one request into a full window, every feature recomputed), 1,000 accounts with full
# windows, 7 features.
#
#   bench/guard/online.sh [WINDOW=200] [ROUNDS=5]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; export JAVA_HOME
OUT="$ROOT/bench/out/guard-online"; mkdir -p "$OUT"
cd "$ROOT"
./mvnw -q -B -o -pl guard -am test-compile dependency:build-classpath -Dmdep.outputFile="$OUT/cp.txt" >/dev/null
CP="$ROOT/guard/target/test-classes:$ROOT/guard/target/classes:$(cat "$OUT/cp.txt")"
"$JAVA_HOME/bin/java" -Xmx2g -cp "$CP" dev.distill4j.guard.online.OnlineGuardBench "${1:-200}" "${2:-5}"
