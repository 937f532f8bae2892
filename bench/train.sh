#!/usr/bin/env bash
# The training benchmark (run it as: bin/oflab bench train [--steps N] [--warmup N] [--warmup-s S]).
# Times training steps of the same Pre-LN model in Outlier Lab (ND4J) and in PyTorch (Debian python3-torch on
# OpenBLAS), side by side, for two shapes: small (L=4, d=256, H=4, T=128, B=16, V=8192) and the paper's
# CodeParrot 130M shape (L=6, d=768, H=12, T=128, V=50257) at batch 4. Each also measures the machine's sgemm
# peak, for the fraction of peak reached. Prints one JSON object per line and a summary line with the ratios.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Warm-up: untimed steps, at least --warmup of them and for at least --warmup-s seconds, on both sides. The JVM
# compiles SameDiff's Java side for the first 30-40 s of a run, on a share of the cores the step needs; a training
# run lasts far longer, so the benchmark times the steady state.
STEPS=10 WARMUP=3 WARMUP_S=45
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) STEPS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --warmup-s) WARMUP_S="$2"; shift 2 ;;
    *) echo "bench train: unknown option $1 (see bench/train.sh)" >&2; exit 2 ;;
  esac
done
: "${OFLAB_JAVA_CMD:?run this through bin/oflab bench train}"
PYTHON=/usr/bin/python3
"$PYTHON" -c "import torch" 2>/dev/null || { echo "bench train: needs PyTorch: apt-get install python3-torch libopenblas0-pthread" >&2; exit 2; }
THREADS=$(nproc --all)  # not plain nproc: it obeys the launcher's OMP_NUM_THREADS=1
RESULTS=()
for shape in "small 4 256 4 128 16 8192" "codeparrot-130m-b4 6 768 12 128 4 50257"; do
  # shellcheck disable=SC2086  # OFLAB_JAVA_CMD is a command line; shape is a list of numbers
  # ND4J's off-heap limit well above the 130M shape's ~3.7 GB (MemoryCheck's estimate at 2 threads): within a few
  # hundred MB of the limit JavaCPP runs the garbage collector on allocations (3.7 s a step at 4 GB, 3.0 s at 10 GB)
  OURS=$($OFLAB_JAVA_CMD -Dorg.bytedeco.javacpp.maxbytes=12g -Dorg.bytedeco.javacpp.maxphysicalbytes=16g \
    org.outlierlab.jobs.bench.TrainBenchmark $shape "$STEPS" "$WARMUP" "$THREADS" "$WARMUP_S")
  echo "$OURS"
  # shellcheck disable=SC2086
  PEER=$(OMP_NUM_THREADS=$THREADS "$PYTHON" "$ROOT/bench/torch_train.py" $shape "$STEPS" "$WARMUP" "$THREADS" "$WARMUP_S")
  echo "$PEER"
  RESULTS+=("$OURS" "$PEER")
done
"$PYTHON" - "${RESULTS[@]}" <<'PY'
import json, sys
rows = [json.loads(a) for a in sys.argv[1:]]
for ours, peer in zip(rows[0::2], rows[1::2]):
    print(json.dumps({"summary": "train", "config": ours["config"],
                      "tokens_per_s_ratio_vs_pytorch": round(ours["tokens_per_s"] / peer["tokens_per_s"], 3),
                      "ours_fraction_of_peak": ours["fraction_of_peak"], "pytorch_fraction_of_peak": peer["fraction_of_peak"]}))
PY
