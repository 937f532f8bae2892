#!/usr/bin/env bash
# The quant-eval cross-check and benchmark (run it as: bin/oflab bench quant [--runs DIR...] [--batch B]
#   [--eval-batches N] [--split train|validation] [--protocols paper,deploy] [--out DIR]).
# Evaluates each run's latest checkpoint in full precision and under each protocol in Outlier Lab
# (QuantCrossCheck.java: the quant-eval job's calibration, plans and models, in one process) and again in PyTorch
# (torch_quant.py, Debian python3-torch: its own calibration and fake-quantisers at the same sites), on the same
# tokens and threads. Prints a JSON line per protocol (both perplexities, their relative difference, both sides'
# evaluation tokens/s) and a summary per run; exits non-zero when a check fails (torch_quant.py). Default runs: the
# quickstart's (bin/oflab quickstart makes them); default tokens: the first 32 batches of 16 training rows, more
# than the quickstart's validation split holds, because the two engines' float rounding moves a few values across
# a rounding boundary, and the perplexity difference that causes averages out over more tokens.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=(warehouse/runs/quickstart-pre-ln warehouse/runs/quickstart-op) BATCH=16 EVAL_BATCHES=32 SPLIT=train
PROTOCOLS=paper,deploy OUT=warehouse/quant-crosscheck
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) IFS=, read -r -a RUNS <<<"$2"; shift 2 ;;
    --batch) BATCH="$2"; shift 2 ;;
    --eval-batches) EVAL_BATCHES="$2"; shift 2 ;;
    --split) SPLIT="$2"; shift 2 ;;
    --protocols) PROTOCOLS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "bench quant: unknown option $1 (see bench/quant.sh)" >&2; exit 2 ;;
  esac
done
[[ "$BATCH" =~ ^[1-9][0-9]*$ && "$EVAL_BATCHES" =~ ^[1-9][0-9]*$ ]] \
  || { echo "bench quant: --batch and --eval-batches must be positive numbers" >&2; exit 2; }
: "${OFLAB_JAVA_CMD:?run this through bin/oflab bench quant}"
PYTHON=/usr/bin/python3
"$PYTHON" -c "import torch" 2>/dev/null || { echo "bench quant: needs PyTorch: apt-get install python3-torch" >&2; exit 2; }
cd "$ROOT"
THREADS="${OMP_NUM_THREADS:-1}"  # both sides: the launcher's setting (default 1)
status=0
for run in "${RUNS[@]}"; do
  [[ -d "$run/checkpoints" ]] || { echo "bench quant: $run has no checkpoints (run bin/oflab quickstart first)" >&2; exit 2; }
  dir="$OUT/$(basename "$run")"
  rm -rf "$dir" && mkdir -p "$dir"
  # shellcheck disable=SC2086  # OFLAB_JAVA_CMD is a command line
  $OFLAB_JAVA_CMD org.outlierlab.bench.QuantCrossCheck "$dir" "$run" -1 "$BATCH" "$EVAL_BATCHES" "$SPLIT" \
    "$THREADS" ${PROTOCOLS//,/ }
  "$PYTHON" "$ROOT/bench/torch_quant.py" "$dir" "$THREADS" || status=1
done
exit "$status"
