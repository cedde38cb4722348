#!/usr/bin/env bash
# Batch vs online harvest cost: the same prompts harvested online and with `--batch`, against the OpenAI and the
# Anthropic stubs (standalone processes on loopback that reproduce both providers' online and batch wire formats),
# priced at list prices (gpt-4o-mini $0.15/$0.60, claude-sonnet-4-5 $3/$15 per 1 M tokens). Prints, per provider and
# mode, the samples stored, the billed tokens and the spend `distill inspect` reports, and the batch/online ratio.
#
#   bench/harvest/batch-cost.sh [PROMPTS]        default 2000
#
# Prompts: sentences of the Debian Reference (package debian-reference-en, installed when missing), real English
# prose the project did not write, each asked as "Explain this in plain words: <sentence>".
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
N="${1:-2000}"
OUT="$ROOT/bench/out/harvest-batch"; mkdir -p "$OUT"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; export JAVA_HOME
SRC=/usr/share/debian-reference/debian-reference.en.txt.gz
if [[ ! -f "$SRC" ]]; then
  SUDO=""; [[ "$(id -u)" != 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq debian-reference-en >/dev/null
fi

"$ROOT/distill" --version >/dev/null                      # builds on first use
[[ -f "$ROOT/teacher/target/distill4j-teacher-0.1.0-SNAPSHOT-tests.jar" ]] || (cd "$ROOT" && ./mvnw -q -B -o -DskipTests package)

# the text's prose paragraphs (lines joined, blank-line separated), cut into sentences of 40-300 characters that
# start with a capital letter and hold no table or command-line characters; one prompt each, JSON-escaped
zcat "$SRC" | python3 -c 'import json, re, sys
n = int(sys.argv[1]); out = 0
for para in re.split(r"\n\s*\n", sys.stdin.read()):
    text = " ".join(l.strip() for l in para.splitlines())
    for s in re.split(r"(?<=[.!?])\s+", text):
        if out < n and 40 <= len(s) <= 300 and re.match(r"[A-Z][a-z]", s) and not re.search(r"[│┌└├─$#|<>{}]", s):
            print(json.dumps({"id": "d%d" % out, "prompt": "Explain this in plain words: " + s})); out += 1' "$N" \
  > "$OUT/prompts.jsonl"
PROMPTS=$(wc -l < "$OUT/prompts.jsonl")

STUB_CP="$ROOT/teacher/target/distill4j-teacher-0.1.0-SNAPSHOT-tests.jar:$ROOT/cli/target/lib/*"
start_stub() {  # class, name -> sets PORT, registers the pid for cleanup
  "$JAVA_HOME/bin/java" -Xmx1g -cp "$STUB_CP" "dev.distill4j.teacher.stub.$1" --port 0 --api-key sk-bench \
    --answer-tokens 64 > "$OUT/$2.port" 2>"$OUT/$2.err" &
  PIDS+=($!)
  for _ in $(seq 300); do [[ -s "$OUT/$2.port" ]] && break; sleep 0.1; done
  [[ -s "$OUT/$2.port" ]] || { echo "the $2 stub did not start: see $OUT/$2.err" >&2; exit 1; }
  PORT="$(head -1 "$OUT/$2.port")"
}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

harvest() {  # name provider url model price-in price-out env-var [--batch ...]
  local name=$1 provider=$2 url=$3 model=$4 pin=$5 pout=$6 env=$7; shift 7
  rm -rf "$OUT/run-$name"
  local start end
  start=$(date +%s.%N)
  env "$env=sk-bench" "$ROOT/distill" harvest --run "$OUT/run-$name" --prompts "$OUT/prompts.jsonl" \
    --provider "$provider" --base-url "$url" --model "$model" --max-tokens 128 --price-in "$pin" --price-out "$pout" \
    --concurrency 64 --quiet "$@" > "$OUT/summary-$name.txt"
  end=$(date +%s.%N)
  "$ROOT/distill" inspect "$OUT/run-$name" --json > "$OUT/inspect-$name.json"
  python3 - "$OUT/inspect-$name.json" "$name" "$start" "$end" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); s = j["stats"]
u = s.get("totalUsage") or s.get("total_usage") or {}
done = (s.get("byStatus") or s.get("by_status") or {}).get("DONE", 0)
print("%-18s %6d done  %9d prompt + %8d completion tokens  spend $%.6f  (%.1f s)" % (sys.argv[2], done,
      u.get("promptTokens", u.get("prompt_tokens", 0)), u.get("completionTokens", u.get("completion_tokens", 0)),
      j["spend_usd"], float(sys.argv[4]) - float(sys.argv[3])))
PY
}

echo "prompts: $PROMPTS sentences of the Debian Reference; 64-token stub answers, max_tokens 128"
start_stub OpenAiStub openai
harvest openai-online openai "http://127.0.0.1:$PORT/v1" gpt-4o-mini 0.15 0.60 OPENAI_API_KEY
harvest openai-batch openai "http://127.0.0.1:$PORT/v1" gpt-4o-mini 0.15 0.60 OPENAI_API_KEY \
  --batch --poll-interval 0.2 --max-poll-interval 1
start_stub AnthropicStub anthropic
harvest anthropic-online anthropic "http://127.0.0.1:$PORT" claude-sonnet-4-5 3 15 ANTHROPIC_API_KEY
harvest anthropic-batch anthropic "http://127.0.0.1:$PORT" claude-sonnet-4-5 3 15 ANTHROPIC_API_KEY \
  --batch --poll-interval 0.2 --max-poll-interval 1
python3 - "$OUT" <<'PY'
import json, sys
for p in ("openai", "anthropic"):
    on = json.load(open(f"{sys.argv[1]}/inspect-{p}-online.json"))["spend_usd"]
    ba = json.load(open(f"{sys.argv[1]}/inspect-{p}-batch.json"))["spend_usd"]
    print(f"{p:10s} batch / online spend = {ba:.6f} / {on:.6f} = {ba / on:.4f}")
PY
