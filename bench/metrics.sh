#!/usr/bin/env bash
# The metrics benchmark (run it as: bin/oflab bench metrics [--tokens N[,N...]] [--d D] [--repeats R]).
# For each size N, one synthetic snapshot (N tokens × d, one planted outlier neuron), measured three ways:
#   1. Outlier Lab's statistics in-process, one thread, without and with the d×d feature Gram;
#   2. the peer: the same statistics in numpy (python3-numpy) on the same float32 rows;
#   3. the metrics job on the embedded local[*] Spark, reading the Parquet snapshot (wall time of the job, and
#      its aggregation phase from its log).
# Prints one JSON object per line, a summary per size with the ratios (and checks that both kurtosis values
# agree), and, over two or more sizes, a linear fit of the job's time: fixed seconds plus N / throughput, whose
# throughput is the rate the job adds rows at, against numpy's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZES=262144,1048576 D=256 REPEATS=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tokens) SIZES="$2"; shift 2 ;;
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
SUMMARIES=()
for TOKENS in ${SIZES//,/ }; do
  rm -rf "${WORK:?}"/*
  # a heap for the rows and their copies (the float rows, ND4J's copy for the snapshot writer): 12 bytes a value
  HEAP_GB=$(( TOKENS * D * 12 / 1073741824 + 4 ))
  # shellcheck disable=SC2086  # OFLAB_JAVA_CMD is a command line
  OURS=$($OFLAB_JAVA_CMD -Xmx${HEAP_GB}g org.outlierlab.bench.MetricsBenchmark "$WORK" "$TOKENS" "$D" "$REPEATS")
  echo "$OURS"
  PEER=$(OPENBLAS_NUM_THREADS=$(nproc --all) "$PYTHON" "$ROOT/bench/numpy_metrics.py" "$WORK/x.f32" "$TOKENS" "$D" "$REPEATS")
  echo "$PEER"
  START=$(date +%s.%N)
  "$ROOT/bin/oflab" metrics --runs "$WORK/wh" --warehouse "$WORK/wh" --spark.ui.enabled false 2>"$WORK/job.log" \
    || { cat "$WORK/job.log" >&2; exit 1; }
  END=$(date +%s.%N)
  # "metrics: aggregated 65536 token rows in 1.23 s (53281 rows/s, with the feature Gram)": the job's own rate
  AGGREGATION=$(grep -o 'aggregated [0-9]* token rows in [0-9.]* s' "$WORK/job.log" | awk '{print $6}')
  SUMMARY=$("$PYTHON" - "$OURS" "$PEER" "$START" "$END" "$TOKENS" "$AGGREGATION" "$D" <<'PY'
import json, sys
ours, peer = json.loads(sys.argv[1]), json.loads(sys.argv[2])
wall, tokens, aggregation = float(sys.argv[4]) - float(sys.argv[3]), int(sys.argv[5]), float(sys.argv[6])
print(json.dumps({"impl": "outlier-lab metrics job (local[*], Parquet in and out, with the Gram)", "d": int(sys.argv[7]),
                  "tokens": tokens, "wall_s": round(wall, 2), "rows_per_s": round(tokens / wall),
                  "aggregation_s": aggregation, "aggregation_rows_per_s": round(tokens / aggregation)}))
print(json.dumps({"summary": "metrics", "tokens": tokens, "wall_s": round(wall, 2), "aggregation_s": aggregation,
                  "numpy_with_gram_rows_per_s": peer["with_gram_rows_per_s"],
                  "kurtosis_agrees": abs(ours["without_gram_kurtosis"] - peer["without_gram_kurtosis"]) < 1e-9 * peer["without_gram_kurtosis"],
                  "ratio_vs_numpy_without_gram": round(ours["without_gram_rows_per_s"] / peer["without_gram_rows_per_s"], 3),
                  "ratio_vs_numpy_with_gram": round(ours["with_gram_rows_per_s"] / peer["with_gram_rows_per_s"], 3),
                  "job_aggregation_ratio_vs_numpy_with_gram": round(tokens / aggregation / peer["with_gram_rows_per_s"], 3),
                  "job_wall_ratio_vs_numpy_with_gram": round(tokens / wall / peer["with_gram_rows_per_s"], 3)}))
PY
)
  echo "$SUMMARY"
  SUMMARIES+=("$(tail -n 1 <<<"$SUMMARY")")
done
"$PYTHON" - "${SUMMARIES[@]}" <<'PY'
import json, sys
rows = sorted((json.loads(a) for a in sys.argv[1:]), key=lambda r: r["tokens"])
if len(rows) >= 2:
    def fit(key):  # least squares: seconds = fixed + tokens / throughput
        xs, ys = [r["tokens"] for r in rows], [r[key] for r in rows]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        return my - slope * mx, 1 / slope
    numpy = sorted(r["numpy_with_gram_rows_per_s"] for r in rows)[len(rows) // 2]
    out = {"summary": "metrics scaling", "tokens": [r["tokens"] for r in rows], "numpy_with_gram_rows_per_s": numpy}
    for key, name in (("wall_s", "job_wall"), ("aggregation_s", "job_aggregation")):
        fixed, rate = fit(key)
        out[name + "_fixed_s"] = round(fixed, 2)
        out[name + "_throughput_rows_per_s"] = round(rate)
        out[name + "_throughput_ratio_vs_numpy_with_gram"] = round(rate / numpy, 3)
    print(json.dumps(out))
PY
