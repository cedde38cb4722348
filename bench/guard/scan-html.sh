#!/usr/bin/env bash
# Writes the scan report (scan.json, scan.html) of one simulated window of the extraction benchmark — benign traffic
# with the hydra and the paraphrasing campaign at 10 % each — and renders scan.html with headless Chromium, to look
# at what a reader of `distill guard scan --out` gets (docs/guard.md, "Output").
#
#   bench/guard/scan-html.sh [OUT_DIR=bench/out/guard/scan-html] [WIDTH=1400] [HEIGHT=2400]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT/bench/out/guard/scan-html}" && cd "${1:-$ROOT/bench/out/guard/scan-html}" && pwd)"
# no benchmark windows: only the report's window (dev users and dev campaigns)
JAVA_OPTS="-Dtraffic.html=$OUT ${JAVA_OPTS:-}" "$ROOT/bench/guard/traffic.sh" dev 0 0 0 >/dev/null
if ! command -v chromium >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${2:-1400},${3:-2400}" \
  --screenshot="$OUT/scan.png" "file://$OUT/scan.html" 2>/dev/null
echo "report: $OUT/scan.html, screenshot: $OUT/scan.png"
