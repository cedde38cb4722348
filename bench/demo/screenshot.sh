#!/usr/bin/env bash
# Renders a report.html in headless Chromium and writes a PNG to look at (docs/eval.md, "Looking at the report").
# usage: bench/demo/screenshot.sh [REPORT.html] [OUT.png]
set -euo pipefail
REPORT="${1:-runs/demo/kd/eval/report.html}"
OUT="${2:-/tmp/report.png}"
if ! command -v chromium >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,2600 \
  --screenshot="$OUT" "file://$(realpath "$REPORT")" 2>/dev/null
echo "screenshot: $OUT"
