#!/usr/bin/env bash
# The cross-check (run it as: bin/oflab bench crosscheck [--steps N] [--block pre-ln|op|both]
#   [--dtype float|double] [--tokens DIR] [--out DIR]).
# Trains the same model from the same initial weights on the same batches in Outlier Lab (CrossCheck.java) and
# in PyTorch (torch_crosscheck.py, Debian python3-torch), and compares their loss curves and the kurtosis of the
# residual stream entering each block. Shape of bin/oflab quickstart: L=6, d=128, H=4, byte-level tokens of this
# repository's sources (warehouse/tokens/demo, made by data-prep --conf conf/demo.conf when missing), T=127,
# batch 8, lr 3e-3 with the train job's defaults otherwise. Both sides run OMP_NUM_THREADS threads (the
# launcher's default: 1). Prints JSON lines per block and a summary line each; exits non-zero when a check fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STEPS=300 BLOCK=both DTYPE=float TOKENS=warehouse/tokens/demo OUT=warehouse/crosscheck
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) STEPS="$2"; shift 2 ;;
    --block) BLOCK="$2"; shift 2 ;;
    --dtype) DTYPE="$2"; shift 2 ;;
    --tokens) TOKENS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "bench crosscheck: unknown option $1 (see bench/crosscheck.sh)" >&2; exit 2 ;;
  esac
done
case "$BLOCK" in
  pre-ln|op) BLOCKS=("$BLOCK") ;;
  both) BLOCKS=(pre-ln op) ;;
  *) echo "bench crosscheck: --block must be pre-ln, op or both" >&2; exit 2 ;;
esac
[[ "$STEPS" =~ ^[1-9][0-9]*$ ]] || { echo "bench crosscheck: --steps must be a positive number" >&2; exit 2; }
[[ "$DTYPE" == float || "$DTYPE" == double ]] || { echo "bench crosscheck: --dtype must be float or double" >&2; exit 2; }
: "${OFLAB_JAVA_CMD:?run this through bin/oflab bench crosscheck}"
PYTHON=/usr/bin/python3
"$PYTHON" -c "import torch" 2>/dev/null || { echo "bench crosscheck: needs PyTorch: apt-get install python3-torch libopenblas0-pthread" >&2; exit 2; }
cd "$ROOT"
if [[ ! -f "$TOKENS/_manifest.json" ]]; then
  [[ "$TOKENS" == warehouse/tokens/demo ]] || { echo "bench crosscheck: no data-prep output in $TOKENS" >&2; exit 2; }
  "$ROOT/bin/oflab" data-prep --conf conf/demo.conf
fi
THREADS="${OMP_NUM_THREADS:-1}"  # both sides: the launcher's setting (default 1)
status=0
for block in "${BLOCKS[@]}"; do
  dir="$OUT/$block-$DTYPE"
  rm -rf "$dir" && mkdir -p "$dir"
  # shellcheck disable=SC2086  # OFLAB_JAVA_CMD is a command line
  $OFLAB_JAVA_CMD org.outlierlab.bench.CrossCheck "$dir" "$TOKENS" "$block" "$DTYPE" \
    "$STEPS" 128 6 4 8 3e-3 8
  "$PYTHON" "$ROOT/bench/torch_crosscheck.py" "$dir" "$THREADS" || status=1
done
exit "$status"
