#!/usr/bin/env bash
# End-to-end check of the extraction benchmark through the real stack: `distill serve` (the house teacher) with
# --keys and --request-log on loopback; `distill harvest` sweeping 60 prompts with --top-logprobs 5 through one key
# while 12 held-out simulated users (bench/guard/traffic.sh's eval population) send their requests through theirs;
# then `distill guard scan --log ... --baseline ...` against the baseline population's traffic.
#
#   bench/guard/traffic-e2e.sh [TEACHER_DIR]     default: the house teacher (~/.cache/distill4j or /work/cache)
#
# Prints the scan's ranking; exits 0 when the harvester is flagged and no simulated user is, 1 otherwise.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TEACHER="${1:-$( [[ -d "$HOME/.cache/distill4j/teacher-default-1" ]] && echo "$HOME/.cache/distill4j/teacher-default-1" \
  || echo /work/cache/teacher-default-1)}"
CACHE="${TRAFFIC_CACHE:-$([[ -d /work/cache ]] && echo /work/cache/traffic || echo "$ROOT/bench/out/guard/traffic-cache")}"
CORPUS="${CORPUS:-$CACHE/corpus.txt}"
OUT="$ROOT/bench/out/guard/e2e"; rm -rf "$OUT"; mkdir -p "$OUT"
[[ -s "$CORPUS" ]] || "$ROOT/bench/guard/corpus.sh" "$CORPUS"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; export JAVA_HOME
cd "$ROOT"
./mvnw -q -B -o -pl guard -am test-compile dependency:build-classpath -DskipTests \
  -Dmdep.outputFile="$ROOT/bench/out/guard/traffic-cp.txt" >/dev/null
CP="$ROOT/guard/target/test-classes:$ROOT/guard/target/classes:$(cat "$ROOT/bench/out/guard/traffic-cp.txt")"
"$JAVA_HOME/bin/java" -cp "$CP" dev.distill4j.guard.bench.Traffic export "$CORPUS" "$OUT"
./distill --version >/dev/null   # builds the CLI once, before the clock starts

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
./distill serve --model "$TEACHER" --served-model-name teacher --port "$PORT" --keys "$OUT/keys.jsonl" \
  --request-log "$OUT/log" --default-max-tokens 16 > "$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 1; done

# the benign users, in their own process, at their simulated pace
python3 - "$OUT/benign.jsonl" "$PORT" > "$OUT/benign.log" 2>&1 <<'PY' &
import json, sys, time, urllib.request, concurrent.futures
reqs = [json.loads(l) for l in open(sys.argv[1])]
url = f"http://127.0.0.1:{sys.argv[2]}/v1/chat/completions"
def send(r):
    body = {"model": "teacher", "messages": [{"role": "user", "content": r["content"]}], "max_tokens": 16,
            "temperature": r["temperature"]}
    if r["logprobs"]: body.update(logprobs=True, top_logprobs=5)
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Authorization": "Bearer " + r["key"],
                                 "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as resp: return resp.status
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    futs = []
    for r in reqs:
        time.sleep(r["delay_ms"] / 1000); futs.append(pool.submit(send, r))
    codes = [f.result() for f in futs]
print(f"benign: {len(codes)} requests, statuses {sorted(set(codes))}")
PY
BENIGN=$!
OPENAI_API_KEY=sk-harvest ./distill harvest --run "$OUT/run" --prompts "$OUT/prompts.jsonl" \
  --base-url "http://127.0.0.1:$PORT/v1" --model teacher --top-logprobs 5 --max-tokens 16 --concurrency 16 --quiet
wait $BENIGN; cat "$OUT/benign.log"
kill $SERVER; wait $SERVER 2>/dev/null || true; trap - EXIT

set +e
./distill guard scan --log "$OUT/log" --baseline "$OUT/baseline" --out "$OUT/scan" | tee "$OUT/scan.txt"
echo "scan exit code: ${PIPESTATUS[0]}"
set -e
python3 - "$OUT/scan/scan.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
flagged = [e for e in r["ranked"] if e["flagged"]]
harvest = any("harvester" in e["accounts"] for e in flagged)
benign = [e["name"] for e in flagged if "harvester" not in e["accounts"]]
print(f"harvester flagged: {harvest}; benign entities flagged: {benign or 'none'}")
sys.exit(0 if harvest and not benign else 1)
PY
