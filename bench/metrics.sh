#!/usr/bin/env bash
# The metrics benchmark (run it as: bin/oflab bench metrics [--tokens N] [--d D] [--repeats R]).
# One synthetic snapshot (N tokens × d, one planted outlier neuron), measured three ways in one invocation:
#   1. Outlier Lab's statistics in-process, one thread, without and with the d×d feature Gram;
#   2. the peer: the same statistics in numpy (python3-numpy) on the same float32 rows;
#   3. the metrics job on the embedded local[*] Spark, reading the Parquet snapshot (wall time of the job).
# Prints one JSON object per line and a summary with the ratios; checks that both kurtosis values agree.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOKENS=65536 D=256 REPEATS=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tokens) TOKENS="$2"; shift 2 ;;
    --d) D="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    *) echo "bench metrics: unknown option $1 (see bench/metrics.sh)" >&2; exit 2 ;;
  esac
done
: "${OFLAB_JAVA_CMD:?run this through bin/oflab bench metrics}"
PYTHON=/usr/bin/python3
"$PYTHON" -c "import numpy" 2>/dev/null || { echo "bench metrics: needs numpy: apt-get install python3-numpy" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# shellcheck disable=SC2086  # OFLAB_JAVA_CMD is a command line
OURS=$($OFLAB_JAVA_CMD org.outlierlab.jobs.bench.MetricsBenchmark "$WORK" "$TOKENS" "$D" "$REPEATS")
echo "$OURS"
PEER=$(OPENBLAS_NUM_THREADS=$(nproc --all) "$PYTHON" "$ROOT/bench/numpy_metrics.py" "$WORK/x.f32" "$TOKENS" "$D" "$REPEATS")
echo "$PEER"
START=$(date +%s.%N)
"$ROOT/bin/oflab" metrics --runs "$WORK/wh" --warehouse "$WORK/wh" --spark.ui.enabled false 2>"$WORK/job.log" \
  || { cat "$WORK/job.log" >&2; exit 1; }
END=$(date +%s.%N)
# "metrics: aggregated 65536 token rows in 1.23 s (53281 rows/s, with the feature Gram)": the job's own rate
AGGREGATION=$(grep -o 'aggregated [0-9]* token rows in [0-9.]* s' "$WORK/job.log" | awk '{print $6}')
"$PYTHON" - "$OURS" "$PEER" "$START" "$END" "$TOKENS" "$AGGREGATION" "$D" <<'PY'
import json, sys
ours, peer = json.loads(sys.argv[1]), json.loads(sys.argv[2])
wall, tokens, aggregation = float(sys.argv[4]) - float(sys.argv[3]), int(sys.argv[5]), float(sys.argv[6])
print(json.dumps({"impl": "outlier-lab metrics job (local[*], Parquet in and out, with the Gram)", "d": int(sys.argv[7]),
                  "tokens": tokens, "wall_s": round(wall, 2), "rows_per_s": round(tokens / wall),
                  "aggregation_s": aggregation, "aggregation_rows_per_s": round(tokens / aggregation)}))
print(json.dumps({"summary": "metrics",
                  "kurtosis_agrees": abs(ours["without_gram_kurtosis"] - peer["without_gram_kurtosis"]) < 1e-9 * peer["without_gram_kurtosis"],
                  "ratio_vs_numpy_without_gram": round(ours["without_gram_rows_per_s"] / peer["without_gram_rows_per_s"], 3),
                  "ratio_vs_numpy_with_gram": round(ours["with_gram_rows_per_s"] / peer["with_gram_rows_per_s"], 3),
                  "job_aggregation_ratio_vs_numpy_with_gram": round(tokens / aggregation / peer["with_gram_rows_per_s"], 3)}))
PY
