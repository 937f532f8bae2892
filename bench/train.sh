#!/usr/bin/env bash
# The training benchmark (run it as: bin/oflab bench train [--steps N] [--warmup N] [--warmup-s S] [--blas KERNELS]
# [--shapes LIST]). Times training steps of the same Pre-LN model in Outlier Lab (ND4J) and in two PyTorch peers, side
# by side, on the same threads:
#   pytorch-wheel   the CPU wheel a researcher installs with `pip install torch` (MKL and oneDNN), in a virtual
#                   environment this script makes once in bench/.torch-venv;
#   pytorch-debian  Debian's python3-torch (1.13, on OpenBLAS), when installed.
# Shapes: quickstart (the README's first model: L=6, d=128, H=4, T=128, B=16, V=257 bytes), small (L=4, d=256, H=4,
# T=128, B=16, V=8192) and the paper's CodeParrot 130M shape (L=6, d=768, H=12, T=128, V=50257) at batch 4. Each
# side also measures its own sgemm peak, for the fraction of the machine's limit reached, and Outlier Lab names the
# BLAS path it chose (blas.kernels; --blas overrides auto). Prints one JSON object per line, then one summary line per
# shape with the ratios.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Warm-up: untimed steps, at least --warmup of them and for at least --warmup-s seconds, on every side. The JVM
# compiles SameDiff's Java side for the first 30-40 s of a run, on a share of the cores the step needs; a training
# run lasts far longer, so the benchmark times the steady state.
STEPS=10 WARMUP=3 WARMUP_S=45 BLAS=auto SHAPES=quickstart,small,codeparrot-130m-b4
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) STEPS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --warmup-s) WARMUP_S="$2"; shift 2 ;;
    --blas) BLAS="$2"; shift 2 ;;
    --shapes) SHAPES="$2"; shift 2 ;;
    *) echo "bench train: unknown option $1 (see bench/train.sh)" >&2; exit 2 ;;
  esac
done
: "${OFLAB_JAVA_CMD:?run this through bin/oflab bench train}"
declare -A SHAPE=(
  [quickstart]="6 128 4 128 16 257"
  [small]="4 256 4 128 16 8192"
  [codeparrot-130m-b4]="6 768 12 128 4 50257"
)
for shape in ${SHAPES//,/ }; do
  [[ -n "${SHAPE[$shape]:-}" ]] || { echo "bench train: unknown shape $shape; allowed: ${!SHAPE[*]}" >&2; exit 2; }
done

# The wheel, installed once into a virtual environment of the benchmark's own (pip's index as the machine has it).
VENV="$ROOT/bench/.torch-venv"
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "bench train: installing PyTorch's CPU wheel into $VENV (once; pip install torch numpy) ..." >&2
  python3 -m venv "$VENV" || { echo "bench train: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 2; }
  "$VENV/bin/pip" install -q torch numpy >&2 || { echo "bench train: pip install torch numpy failed" >&2; exit 2; }
fi
PEERS=("pytorch-wheel=$VENV/bin/python")
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  PEERS+=("pytorch-debian=/usr/bin/python3")
else
  echo "bench train: Debian's PyTorch is not installed (apt-get install python3-torch libopenblas0-pthread); running the wheel alone" >&2
fi

THREADS=$(nproc --all)  # not plain nproc: it obeys the launcher's OMP_NUM_THREADS=1
RESULTS=()
for shape in ${SHAPES//,/ }; do
  # shellcheck disable=SC2086  # OFLAB_JAVA_CMD is a command line; the shape is a list of numbers
  # ND4J's off-heap limit well above the 130M shape's ~3.7 GB (MemoryCheck's estimate at 2 threads): within a few
  # hundred MB of the limit JavaCPP runs the garbage collector on allocations (3.7 s a step at 4 GB, 3.0 s at 10 GB)
  OURS=$($OFLAB_JAVA_CMD -Dorg.bytedeco.javacpp.maxbytes=12g -Dorg.bytedeco.javacpp.maxphysicalbytes=16g \
    -Doflab.blas.kernels="$BLAS" org.outlierlab.bench.TrainBenchmark "$shape" ${SHAPE[$shape]} "$STEPS" "$WARMUP" \
    "$THREADS" "$WARMUP_S")
  echo "$OURS"
  RESULTS+=("$OURS")
  for peer in "${PEERS[@]}"; do
    # shellcheck disable=SC2086
    PEER=$(OMP_NUM_THREADS=$THREADS "${peer#*=}" "$ROOT/bench/torch_train.py" "$shape" ${SHAPE[$shape]} "$STEPS" \
      "$WARMUP" "$THREADS" "$WARMUP_S" "${peer%%=*}")
    echo "$PEER"
    RESULTS+=("$PEER")
  done
done
python3 - "${RESULTS[@]}" <<'PY'
import json, sys
rows = [json.loads(a) for a in sys.argv[1:]]
for ours in (r for r in rows if r["impl"].startswith("outlier-lab")):
    summary = {"summary": "train", "config": ours["config"], "ours_fraction_of_peak": ours["fraction_of_peak"]}
    for peer in (r for r in rows if r["config"] == ours["config"] and "peer" in r):
        summary["tokens_per_s_ratio_vs_" + peer["peer"]] = round(ours["tokens_per_s"] / peer["tokens_per_s"], 3)
        summary[peer["peer"] + "_fraction_of_peak"] = peer["fraction_of_peak"]
    print(json.dumps(summary))
PY
