#!/usr/bin/env bash
# Cross-tokenizer top-k KD coverage: a GPT-2 (r50k_base) student taught by a teacher with GPT-4o's tokenizer
# (o200k_base), over the real English prose of the Debian Reference and the Debian FAQ (packages debian-reference-en
# and debian-faq, installed here when missing). Builds the train test classes, then runs dev.distill4j.train.data.CrossTokenizerBench, which says
# how the teacher's synthetic top-k alternatives are made. Results go in docs/benchmarks.md ("Cross-tokenizer KD").
#
#   bench/xtok/run.sh [k=20] [corpus files, plain text or .gz, in the Debian Reference's text layout]
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
K="${1:-20}"; shift || true
if [[ $# -eq 0 ]]; then
  set -- /usr/share/debian-reference/debian-reference.en.txt.gz /usr/share/doc/debian/FAQ/debian-faq.en.txt.gz
  if [[ ! -f "$1" || ! -f "$2" ]]; then
    SUDO=""; [[ "$(id -u)" != 0 ]] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq debian-reference-en debian-faq >/dev/null
  fi
fi
./mvnw -B -q -o -pl train -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$PWD/train/target/bench.classpath" -Dmdep.includeScope=test
export DJL_OFFLINE=true
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx2g \
  -cp "train/target/test-classes:train/target/classes:$(cat train/target/bench.classpath)" \
  dev.distill4j.train.data.CrossTokenizerBench "$K" "$@"
