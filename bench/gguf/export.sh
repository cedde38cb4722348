#!/usr/bin/env bash
# GGUF export of a random llama student (hidden 256, 10 layers, 8/4 heads, intermediate 704, the 356-token test
# tokenizer): file size and wall time for each --quantize. Usage: bench/gguf/export.sh [WORKDIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
cd "$root"
if [ ! -f "$work/student/config.json" ]; then
  ./distill model init --family llama --layers 10 --hidden 256 --heads 8 --kv-heads 4 --intermediate 704 \
    --no-tie-embeddings --seed 1 --tokenizer model/src/test/resources/tiny-tokenizer --out "$work/student" >/dev/null
fi
st=$(stat -c %s "$work/student/model.safetensors")
echo "student: $(./distill model info "$work/student" | head -1)"
echo "model.safetensors: $st bytes"
printf '%-6s %12s %8s %8s\n' quant bytes 'vs f32' seconds
f32=0
for q in f32 f16 q8_0; do
  start=$(date +%s.%N)
  ./distill model export --model "$work/student" --quantize "$q" --overwrite --out "$work/student-$q.gguf" \
    >/dev/null 2>&1
  end=$(date +%s.%N)
  size=$(stat -c %s "$work/student-$q.gguf")
  [ "$q" = f32 ] && f32=$size
  printf '%-6s %12d %8.3f %8.2f\n' "$q" "$size" "$(echo "$size / $f32" | bc -l)" "$(echo "$end - $start" | bc -l)"
done
