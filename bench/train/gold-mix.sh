#!/usr/bin/env bash
# What a little gold data adds to top-k KD, on the demo's tasks (issue 17 item 5).
#
#   bench/train/gold-mix.sh [OUT] [GOLD_EXAMPLES] [WEIGHT]
#
# 1. `distill demo --run OUT/demo` (house teacher served, 2,400 prompts harvested with top-5 logprobs, KD student
#    and SFT control trained and evaluated; everything cached is reused).
# 2. GOLD_EXAMPLES (default 240, a tenth of the harvest) worked answers from the house teacher's own training
#    corpus (prompts the harvest never asked), written as OpenAI fine-tuning JSONL and brought in with
#    `distill import`.
# 3. The demo's student init (rebuilt with `distill model init`), steps, learning rate, seed and batch size: one
#    student on the demo run alone (top-k KD, a rerun of the demo's KD student) and one on the mixture
#    `--run OUT/demo --run OUT/gold:WEIGHT` (default weight 0.25 of an epoch's examples).
# 4. `distill eval` of both on the demo's held-out prompts, beside the demo's own KD and SFT scorecards.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/gold-mix}
N=${2:-240}
W=${3:-0.25}
CACHE=${DISTILL_CACHE:-$HOME/.cache/distill4j}
mkdir -p "$OUT"

./distill demo --run "$OUT/demo" --cache-dir "$CACHE" --quiet | tee "$OUT/demo.txt"

corpus=$(ls -d "$CACHE"/corpus-*/ | head -1)
python3 - "$corpus/gold/teacher.jsonl" "$corpus/gold/heldout.jsonl" "$N" > "$OUT/gold.jsonl" <<'PY'
import json, sys
teacher, heldout, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
held = {json.loads(l)["prompt"] for l in open(heldout)}
out = 0
for line in open(teacher):
    t = json.loads(line)
    if t["prompt"] in held:
        continue
    print(json.dumps({"messages": [{"role": "user", "content": t["prompt"]},
                                   {"role": "assistant", "content": t["rationale"]}]}))
    out += 1
    if out == n:
        break
PY
rm -rf "$OUT/gold"
./distill import --run "$OUT/gold" --format openai-chat "$OUT/gold.jsonl"

record="$OUT/demo/kd/student/distill_training.json"
read -r STEPS LR WARM BT SEED EVF < <(python3 - "$record" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
s = r["schedule"]
print(s["total_steps"], s["lr"], s["warmup_steps"], s["batch_tokens"], s["seed"], r["examples"]["eval_fraction"])
PY
)
# the demo's student init (DemoPipeline.DEFAULT: llama 2 x 96, 3 / 1 heads, context 512, tied, seed 7), rebuilt
rm -rf "$OUT/init"
./distill model init --family llama --layers 2 --hidden 96 --heads 3 --kv-heads 1 --context 512 --seed 7 \
    --tokenizer "$corpus/tokenizer" --out "$OUT/init" > /dev/null
for arm in kd kdgold; do
  runs=(--run "$OUT/demo")
  [[ $arm == kdgold ]] && runs+=(--run "$OUT/gold:$W")
  rm -rf "$OUT/$arm"
  ./distill train "${runs[@]}" --student "$OUT/init" --output-dir "$OUT/$arm" --loss topk --alpha 0.5 \
      --max-steps "$STEPS" --lr "$LR" --warmup-steps "$WARM" --batch-tokens "$BT" --max-seq-len 256 \
      --eval-fraction "$EVF" --seed "$SEED" --save-every 0 --quiet
  # a text student's eval goes to <run>/eval: keep each arm's copy
  ./distill eval --run "$OUT/demo" --student "$OUT/$arm/student" --max-seq-len 256 --eval-fraction "$EVF" --quiet
  rm -rf "$OUT/$arm/eval" && cp -r "$OUT/demo/eval" "$OUT/$arm/eval"
done
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
for name, d in [("demo KD", "demo/kd"), ("demo SFT", "demo/sft"), ("KD (rerun)", "kd"), ("KD + gold", "kdgold")]:
    c = json.load(open(f"{out}/{d}/eval/scorecard.json"))
    a = c["task_accuracy"]
    tf = c["teacher_forced"]
    print(f"{name:12s} accuracy {a['student']:.3f} [{a['student_ci95'][0]:.3f}, {a['student_ci95'][1]:.3f}]"
          f"  teacher {a['teacher']:.3f}  n={a['prompts']}  NLL {tf['nll']:.3f}")
PY
