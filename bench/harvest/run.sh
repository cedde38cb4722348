#!/usr/bin/env bash
# Harvest throughput benchmark: `distill harvest` against a local OpenAI-compatible stub that answers at once
# (top-5 logprobs, 8 tokens per answer), in a separate process on the same machine.
#
#   bench/harvest/run.sh [PROMPTS] [CONCURRENCY ...]      default: 1000000 prompts, 256 and 1024 in flight
#
# Prints, per concurrency: requests/s, CPU ms per request (harvest process; the stub's separately), peak heap before
# GC (the most the heap held, garbage included), peak heap after GC (the most it held live) and max RSS, the heap
# figures from the unified GC log's "Pause ... 120M->35M(512M)" lines. The harvest runs with -Xmx512m, so finishing
# at all proves heap < 512 MB.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PROMPTS="${1:-1000000}"; shift || true
CONCURRENCIES=("${@:-256 1024}"); [[ $# -eq 0 ]] && CONCURRENCIES=(256 1024)
OUT="$ROOT/bench/out/harvest"; mkdir -p "$OUT"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; export JAVA_HOME

"$ROOT/distill" --version >/dev/null                      # builds on first use
[[ -f "$ROOT/teacher/target/distill4j-teacher-0.1.0-SNAPSHOT-tests.jar" ]] || (cd "$ROOT" && ./mvnw -q -B -o -DskipTests package)

if [[ ! -f "$OUT/prompts-$PROMPTS.jsonl" ]]; then
  echo "writing $PROMPTS prompts..." >&2
  seq 1 "$PROMPTS" | awk '{printf "{\"id\":\"p%d\",\"prompt\":\"Question %d: what is %d plus %d, and why?\"}\n",$1,$1,$1,$1}' \
    > "$OUT/prompts-$PROMPTS.jsonl"
fi

STUB_CP="$ROOT/teacher/target/distill4j-teacher-0.1.0-SNAPSHOT-tests.jar:$ROOT/cli/target/lib/*"
"$JAVA_HOME/bin/java" -Xmx1g -cp "$STUB_CP" dev.distill4j.teacher.stub.OpenAiStub --port 0 --api-key sk-bench \
  > "$OUT/stub.port" 2>"$OUT/stub.err" &
STUB_PID=$!
trap 'kill $STUB_PID 2>/dev/null || true' EXIT
for _ in $(seq 300); do [[ -s "$OUT/stub.port" ]] && break; sleep 0.1; done
[[ -s "$OUT/stub.port" ]] || { echo "the stub did not start: see $OUT/stub.err" >&2; exit 1; }
PORT="$(head -1 "$OUT/stub.port")"

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
echo "prompts: $PROMPTS; stub on 127.0.0.1:$PORT (pid $STUB_PID)"
for C in "${CONCURRENCIES[@]}"; do
  RUN="$OUT/run-$C"; rm -rf "$RUN"
  S0=$(cpu_ticks $STUB_PID)
  START=$(date +%s.%N)
  DISTILL_JAVA_OPTS="-Xmx512m -Xlog:gc:file=$OUT/gc-$C.log" OPENAI_API_KEY=sk-bench \
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/time-$C" \
    "$ROOT/distill" harvest --run "$RUN" --prompts "$OUT/prompts-$PROMPTS.jsonl" --base-url "http://127.0.0.1:$PORT/v1" \
      --model bench --top-logprobs 5 --max-tokens 8 --concurrency "$C" --quiet > "$OUT/summary-$C.txt"
  S1=$(cpu_ticks $STUB_PID)
  read -r WALL USR SYS RSS < "$OUT/time-$C"
  DONE=$(sed -n 's/.*samples *\([0-9,]*\) answered now.*/\1/p' "$OUT/summary-$C.txt" | tr -d ,)
  # "A->B": A the heap before the collection, B after it
  PEAK_BEFORE=$(grep -o '[0-9]*M->[0-9]*M' "$OUT/gc-$C.log" | sed 's/M->.*//' | sort -n | tail -1)
  PEAK_AFTER=$(grep -o '[0-9]*M->[0-9]*M' "$OUT/gc-$C.log" | sed 's/.*->//; s/M$//' | sort -n | tail -1)
  awk -v c="$C" -v n="$DONE" -v w="$WALL" -v u="$USR" -v s="$SYS" -v rss="$RSS" -v before="${PEAK_BEFORE:-0}" \
      -v after="${PEAK_AFTER:-0}" -v st="$(( S1 - S0 ))" -v tick="$TICK" 'BEGIN {
    printf "concurrency %5d: %d requests in %.1f s = %.0f req/s | harvest CPU %.3f ms/req (user %.0f s, sys %.0f s) | stub CPU %.3f ms/req | peak heap before GC %d MB, after GC %d MB | max RSS %.0f MB\n",
      c, n, w, n / w, (u + s) * 1000 / n, u, s, st / tick * 1000 / n, before, after, rss / 1024 }'
done
