#!/usr/bin/env bash
# The accuracy cost of int8 weights: NLL and top-1 agreement of the int8 engine against the F32 engine of the same
# model, teacher-forced over held-out task replies and over English text from Debian packages.
# Usage: bench/decode/int8-accuracy.sh MODEL_DIR... (from the repository root; figures in docs/benchmarks.md)
#   TASKS=held-out JSONL ({"prompt","rationale"}; default: the demo corpus's gold/heldout.jsonl under runs/ or $CORPUS)
#   TEXTS="files..."      plain English text (default: /usr/share/common-licenses/GPL-3 and Apache-2.0, from Debian's
#                         base-files package)
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -o -pl model -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$PWD/model/target/bench.classpath" -Dmdep.includeScope=test
export DJL_OFFLINE=true
args=()
for m in "$@"; do args+=(--model "$m"); done
[[ -n "${TASKS:-}" ]] && args+=(--tasks "$TASKS" --limit "${LIMIT:-100}")
for t in ${TEXTS:-/usr/share/common-licenses/GPL-3 /usr/share/common-licenses/Apache-2.0}; do args+=(--text "$t"); done
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules=jdk.incubator.vector -Xmx4g \
  -cp "model/target/test-classes:model/target/classes:$(cat model/target/bench.classpath)" \
  dev.distill4j.model.bench.Int8AccuracyBench "${args[@]}" 2> >(grep -v '^WARNING: Using incubator modules' >&2)
