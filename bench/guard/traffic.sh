#!/usr/bin/env bash
# The extraction-campaign detection benchmark of docs/benchmarks.md ("guard: extraction-campaign detection"):
# simulated API traffic from hundreds of users whose prompts are built from Debian's documentation (corpus.sh),
# with four campaigns mixed in at 5, 10 and 25 % of windows of 500 queries, scanned by guard's Scanner.
#
#   bench/guard/traffic.sh [dev|eval|test|holdout|blind|fresh] [BENIGN_WINDOWS=1000] [ATTACK_WINDOWS=100] [DELAY_WINDOWS=20]
#   bench/guard/traffic.sh fresh 1000 50 10
#
# dev: the users and campaign templates the scanner was tuned on; eval (default): other users, documents and
# templates (held out in sessions 6 and 7, reported, so seen since); test: the held-out split of session 8 (users on
# a second corpus, corpus-test.sh, with phrasings and campaign texts of their own; seen since); holdout: the held-out
# split of session 9 (a third corpus, corpus-holdout.sh, users and campaign texts of its own, and benign automated
# clients: evaluation harnesses, support bots, classifiers, batch jobs, RAG clients; seen since); blind: the held-out
# split of session 10 (a fourth corpus, corpus-blind.sh, users and campaign texts of its own, and automated clients
# of kinds no earlier split has: code completion, extraction to JSON, moderation, summarisation, agents); fresh: the
# split of session 13, written by a helper that had not read the scanner (a fifth corpus, corpus-fresh.sh, users,
# 30 automated clients of what API customers ran in 2026, and campaigns with texts and settings of its own).
# JAVA_OPTS=-Dtraffic.warmOnly=true only embeds a split's prompts into the cache, scanning nothing. Embeddings are
# cached in $TRAFFIC_CACHE (default /work/cache/traffic, else bench/out/guard/traffic-cache) so only the first run
# pays for bge-small; results in bench/out/guard/traffic-*.json.
# The end-to-end check through the real server and request log is guard's HarvestScanTest.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${TRAFFIC_CACHE:-$([[ -d /work/cache ]] && echo /work/cache/traffic || echo "$ROOT/bench/out/guard/traffic-cache")}"
CORPUS="${CORPUS:-$CACHE/corpus.txt}"
mkdir -p "$CACHE" "$ROOT/bench/out/guard"
TEST_CORPUS="${TEST_CORPUS:-$CACHE/corpus-test.txt}"
HOLDOUT_CORPUS="${HOLDOUT_CORPUS:-$CACHE/corpus-holdout.txt}"
BLIND_CORPUS="${BLIND_CORPUS:-$CACHE/corpus-blind.txt}"
FRESH_CORPUS="${FRESH_CORPUS:-$CACHE/corpus-fresh.txt}"
[[ -s "$CORPUS" ]] || "$ROOT/bench/guard/corpus.sh" "$CORPUS"
[[ "${1:-eval}" != test && "${1:-eval}" != holdout && "${1:-eval}" != blind && "${1:-eval}" != fresh \
   || -s "$TEST_CORPUS" ]] \
  || "$ROOT/bench/guard/corpus-test.sh" "$TEST_CORPUS" "$CORPUS"
[[ "${1:-eval}" != holdout && "${1:-eval}" != blind && "${1:-eval}" != fresh || -s "$HOLDOUT_CORPUS" ]] \
  || "$ROOT/bench/guard/corpus-holdout.sh" "$HOLDOUT_CORPUS" "$CORPUS" "$TEST_CORPUS"
[[ "${1:-eval}" != blind && "${1:-eval}" != fresh || -s "$BLIND_CORPUS" ]] \
  || "$ROOT/bench/guard/corpus-blind.sh" "$BLIND_CORPUS" "$CORPUS" "$TEST_CORPUS" "$HOLDOUT_CORPUS"
[[ "${1:-eval}" != fresh || -s "$FRESH_CORPUS" ]] \
  || "$ROOT/bench/guard/corpus-fresh.sh" "$FRESH_CORPUS" "$CORPUS" "$TEST_CORPUS" "$HOLDOUT_CORPUS" "$BLIND_CORPUS"
source "$ROOT/bench/lib.sh"
bench_build guard
exec "${BENCH_JAVA[@]}" -Xmx6g -Dtraffic.testCorpus="$TEST_CORPUS" \
  -Dtraffic.holdoutCorpus="$HOLDOUT_CORPUS" -Dtraffic.blindCorpus="$BLIND_CORPUS" \
  -Dtraffic.freshCorpus="$FRESH_CORPUS" ${JAVA_OPTS:-} -cp "$BENCH_CP" dev.distill4j.guard.bench.Traffic "$CORPUS" \
  "$ROOT/bench/out/guard" "$CACHE" "${1:-eval}" "${2:-1000}" "${3:-100}" "${4:-20}" 2> >(bench_quiet_incubator)
