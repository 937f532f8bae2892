#!/usr/bin/env bash
# The optimiser benchmark (run it as: bin/oflab bench optimizers [--steps N] [--batch B] [--frequency F]
# [--max-precond-dim D]). SOAP and rotated AdaFactor against AdamW on the parameters of the training benchmark's
# small model (Pre-LN, L=4, d=256, H=4, T=128, V=8192): the optimiser step alone on random gradients (the first
# call's eigendecompositions and the basis refreshes timed apart), then the whole training step at batch B with
# SOAP against AdamW. Prints one JSON object. Defaults: 20 optimiser steps, batch 16, frequency 10 and
# max_precond_dim 10000 (the configuration's defaults: the 8192-token vocabulary axis is rotated).
set -euo pipefail
STEPS=20 BATCH=16 FREQUENCY=10 MAX_DIM=10000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) STEPS="$2"; shift 2 ;;
    --batch) BATCH="$2"; shift 2 ;;
    --frequency) FREQUENCY="$2"; shift 2 ;;
    --max-precond-dim) MAX_DIM="$2"; shift 2 ;;
    *) echo "bench optimizers: unknown option $1 (see bench/optimizers.sh)" >&2; exit 2 ;;
  esac
done
: "${OFLAB_JAVA_CMD:?run this through bin/oflab bench optimizers}"
# Off-heap room for the 8192² factors and bases of the embedding and unembedding, and their temporaries.
OFFHEAP="${OFLAB_OFFHEAP_MEMORY:-8g}"
# shellcheck disable=SC2086  # OFLAB_JAVA_CMD is a command line
$OFLAB_JAVA_CMD -Dorg.bytedeco.javacpp.maxbytes="$OFFHEAP" -Dorg.bytedeco.javacpp.maxphysicalbytes="$OFFHEAP" \
  org.outlierlab.bench.OptimizerBenchmark "$STEPS" "$BATCH" "$FREQUENCY" "$MAX_DIM"
