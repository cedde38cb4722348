#!/usr/bin/env bash
# Re-records a current llama.cpp's answers on distill4j's Qwen3 GGUF exports into the test resource that
# GgufQwen3ReferenceTest reads (model/src/test/resources/gguf/qwen3-llamacpp.json). Needs Node ≥ 20 and npm (the
# prebuilt llama.cpp comes with node-llama-cpp from the npm registry; nothing is compiled). Run it after changing the
# GGUF export: the test fails, by SHA-256, until the answers are recorded for the new files.
#
#   tools/gguf/llamacpp_reference.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; export JAVA_HOME
WORK="${WORK:-$ROOT/bench/out/gguf-reference}"; mkdir -p "$WORK"
cd "$ROOT/tools/gguf"
[[ -d node_modules/node-llama-cpp ]] || npm install --no-audit --no-fund --ignore-scripts >/dev/null
cd "$ROOT"
./mvnw -q -B -o -pl model -am test-compile dependency:build-classpath -Dmdep.outputFile="$WORK/cp.txt" >/dev/null
CP="$ROOT/model/target/test-classes:$ROOT/model/target/classes:$(cat "$WORK/cp.txt")"
rm -rf "$WORK/files"
# the test tokenizer is a path relative to the model module
(cd "$ROOT/model" && DJL_OFFLINE=true "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Dai.djl.offline=true \
    -cp "$CP" dev.distill4j.model.ops.gguf.GgufQwen3ReferenceTest "$WORK/files")
mkdir -p "$ROOT/model/src/test/resources/gguf"
node "$ROOT/tools/gguf/llamacpp_reference.mjs" "$WORK/files/request.json" \
    "$ROOT/model/src/test/resources/gguf/qwen3-llamacpp.json"
