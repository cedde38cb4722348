#!/usr/bin/env bash
# Embedding benchmark: distil a static student from an ONNX teacher over the whole vocabulary, then score it
# against the teacher (Spearman of pairwise cosines, recall@10, linear CKA) and time both on this CPU.
#
#   bench/embed/run.sh [TEACHER=bge-small-en-v1.5] [DIMS=256] [CORPUS=generated 1,000 sentences]
#   bench/embed/run.sh sweep [TEACHER] [CORPUS]    # one vocabulary pass, then dims × SIF grid (fidelity only)
#   bench/embed/run.sh layers [TEACHER] [LAYERS=0,4,8,11] [EPOCHS=4] [TRAIN_SENTENCES=4000] [LR=1e-3]
#       # layer-dropped BERT student trained on the real-text corpus's first TRAIN_SENTENCES training sentences
#       # (distill embed corpus), scored on its 1,000 evaluation sentences (other documents); PyTorch runs at
#       # PyTorch's default threads; OMP_NUM_THREADS=1 helps only on a loaded machine (docs/benchmarks.md)
#   bench/embed/run.sh layers-real [RECIPE...]   # layers students on real text (bench/embed/layers-corpus.py):
#       recipes trained on train.txt, chosen on val.txt, scored on eval.txt; teacher vectors cached in
#       bench/out/embed/real/teacher-cache/; RECIPE = layers=0,4,8,11:n=6000:epochs=1:lr=3e-4:pair=1:batch=32
#   bench/embed/run.sh tuned [TEACHER] [DIMS] [CORPUS] [-- distill options]   # --student static-tuned
#       e.g. bench/embed/run.sh tuned bge-small-en-v1.5 256 "" --train-sentences 10000 --loss cosine --epochs 10
#   bench/embed/run.sh tune-sweep TEACHER DIMS TRAIN_SENTENCES LOSS:LR:EPOCHS:BATCH...   # static vs tuned settings
#   bench/embed/run.sh static-scale "1000 10000 100000" "128 256 384" [VARIANT=tuned:vocab:1e-2:6:64]
#       # the tuned static student of bge-small at each training-set size × dimension (bench/embed/Static.java:
#       # real-text corpus, teacher vectors from the on-disk cache, which `Static.java teach N` fills first),
#       # scored on the 1,000 evaluation sentences; lines appended to bench/out/embed/static-scale.txt
#
#   bench/embed/run.sh int8 [ROUNDS=7] STUDENT_DIR... [teacher]   # int8 copies (distill embed quantize's
#       SmoothQuant; STUDENT_DIR:tokens or teacher:tokens for the copy with --token-ranges, :erf for --exact-gelu) of each student and of
#       the teacher, scored against the float teacher on the real corpus's 1,000
#       evaluation sentences, speed in alternating rounds in one JVM (bench/embed/Int8.java); int8 folders in
#       bench/out/embed/int8/
#   bench/embed/run.sh int8-groups MODEL_DIR GROUPS [ALPHAS]   # fidelity of the int8 copy with one group of
#       projections left in float (bench/embed/Int8Groups.java), e.g. int8-groups L11 ffnout-all,qkv-all 0.7,0.75
#       ("tokens": all int8 with --token-ranges);
#       VAL=1 scores on 1,000 held-out training sentences instead of the evaluation sentences
#   bench/embed/run.sh tokenize [STATIC_DIR...]   # the Java WordPiece tokenizer against DJL's tokenizers on the
#       whole real corpus: sentences taken, ids that differ, µs per sentence (bench/embed/Tokenize.java)
#   bench/embed/run.sh profile MODEL...   # per-operator time of each ONNX encoder (folder or built-in id) on the
#       1,000 evaluation sentences, from ONNX Runtime's profiler (bench/embed/Profile.java); traces in bench/out/embed/profile/
#
# Prints the scorecard (also in bench/out/embed/<teacher>-static-<dims>/scorecard.json) and the load average.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; export JAVA_HOME
OUT="$ROOT/bench/out/embed"; mkdir -p "$OUT"
cd "$ROOT"
# every bench JVM: the CLI's classpath, offline DJL, and the CLI's logging (no library DEBUG lines on stdout)
bench_java() {
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Dai.djl.offline=true \
    -Dlogback.configurationFile="$ROOT/cli/src/main/resources/logback.xml" -cp "$ROOT/cli/target/lib/*" "$@"
}
if [[ "${1:-}" == "sweep" ]]; then
  shift
  ./distill --help >/dev/null   # builds the CLI (and its lib/ folder) when sources changed
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  bench_java "$ROOT/bench/embed/Sweep.java" "$@"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi
if [[ "${1:-}" == "layers" ]]; then
  TEACHER="${2:-bge-small-en-v1.5}"; LAYERS="${3:-0,4,8,11}"; EPOCHS="${4:-4}"; TRAIN="${5:-4000}"; LR="${6:-1e-3}"
  CPUS="$(nproc)"   # before OMP_NUM_THREADS, which nproc obeys
  DIR="$OUT/$(basename "$TEACHER")-layers-${LAYERS//,/-}"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $CPUS CPUs, OMP_NUM_THREADS=${OMP_NUM_THREADS:-default}"
  ./distill embed distill --teacher "$TEACHER" --student "layers:$LAYERS" --epochs "$EPOCHS" --train-sentences "$TRAIN" --lr "$LR" --out "$DIR"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi
if [[ "${1:-}" == "layers-real" ]]; then
  shift
  REAL="$OUT/real"; mkdir -p "$REAL"
  [[ -s "$REAL/train.txt" ]] || python3 "$ROOT/bench/embed/layers-corpus.py" "$REAL"
  ./distill --help >/dev/null
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}"
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" bench_java -Xmx6g "$ROOT/bench/embed/Layers.java" bge-small-en-v1.5 "$REAL/train.txt" "$REAL/${VAL:-val.txt}" \
    "$REAL/eval.txt" "$REAL/teacher-cache" "$@"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi
if [[ "${1:-}" == "int8" ]]; then
  shift
  ROUNDS=7; [[ "${1:-}" =~ ^[0-9]+$ ]] && { ROUNDS="$1"; shift; }
  ./distill --help >/dev/null
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
  bench_java -Xmx6g "$ROOT/bench/embed/Int8.java" bge-small-en-v1.5 "$ROUNDS" "$OUT/int8" "$@"
  exit 0
fi
if [[ "${1:-}" == "int8-groups" ]]; then
  shift
  ./distill --help >/dev/null
  bench_java -Xmx6g ${VAL:+-Dval=1} "$ROOT/bench/embed/Int8Groups.java" "$@" 2> >(grep -v -e DEBUG -e WARN -e INFO >&2)
  exit 0
fi
if [[ "${1:-}" == "tokenize" ]]; then
  shift
  ./distill --help >/dev/null
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  bench_java -Xmx4g "$ROOT/bench/embed/Tokenize.java" "$@" 2> >(grep -v -e DEBUG -e WARN -e INFO >&2)
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi
if [[ "${1:-}" == "profile" ]]; then
  shift
  ./distill --help >/dev/null
  bench_java -Xmx4g "$ROOT/bench/embed/Profile.java" "$OUT/profile" "$@" 2> >(grep -v -e DEBUG -e WARN -e INFO >&2)
  exit 0
fi
if [[ "${1:-}" == "tune-sweep" ]]; then
  shift
  ./distill --help >/dev/null
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  bench_java "$ROOT/bench/embed/Tune.java" "$@"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi
if [[ "${1:-}" == "static-scale" ]]; then
  SIZES="${2:-1000 10000 100000}"; DIMSET="${3:-128 256 384}"; VARIANT="${4:-tuned:vocab:1e-2:6:64}"
  ./distill --help >/dev/null
  for n in $SIZES; do
    for d in $DIMSET; do
      echo "== $n sentences, $d dims; load average $(cut -d' ' -f1-3 /proc/loadavg), OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}"
      OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" bench_java -Xmx8g "$ROOT/bench/embed/Static.java" "$n" "$d" "$VARIANT" \
        | tee -a "$OUT/static-scale.txt"
    done
  done
  exit 0
fi
STUDENT=static
if [[ "${1:-}" == "tuned" ]]; then STUDENT=static-tuned; shift; fi
TEACHER="${1:-bge-small-en-v1.5}"; DIMS="${2:-256}"; CORPUS="${3:-}"
shift $(( $# < 3 ? $# : 3 )); [[ "${1:-}" == "--" ]] && shift
DIR="$OUT/$(basename "$TEACHER")-$STUDENT-$DIMS"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
./distill embed distill --teacher "$TEACHER" --student "$STUDENT" --dims "$DIMS" --out "$DIR" ${CORPUS:+--corpus "$CORPUS"} "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
