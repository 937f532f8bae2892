#!/usr/bin/env bash
# The parameter-averaging benchmark (run it as: bin/oflab bench averaging [--steps N] [--frequency K]).
# Trains the quickstart's model (6 x 128, byte-level demo tokens, its batch per worker and step) with the
# train job on the embedded Spark: 1 worker, 2 workers averaging every K steps, and 2 workers averaging every
# step. Prints one JSON object per run (tokens/s over the whole run, rounds, averaging overhead per round) and a
# summary with the 2-worker speed-up. No peer: PyTorch has no parameter-averaging trainer to compare with.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STEPS=60 FREQUENCY=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) STEPS="$2"; shift 2 ;;
    --frequency) FREQUENCY="$2"; shift 2 ;;
    *) echo "bench averaging: unknown option $1 (see bench/averaging.sh)" >&2; exit 2 ;;
  esac
done
cd "$ROOT"
export OFLAB_SKIP_BUILD=1
[[ -f warehouse/tokens/demo/_manifest.json ]] || bin/oflab data-prep --conf conf/demo.conf >&2
WAREHOUSE="$(mktemp -d)"
trap 'rm -rf "$WAREHOUSE"' EXIT
ROWS=()
for run in "1 $FREQUENCY" "2 $FREQUENCY" "2 1"; do
  read -r workers frequency <<<"$run"
  log="$WAREHOUSE/train-$workers-$frequency.log"
  bin/oflab train --conf conf/quickstart.conf --warehouse "$WAREHOUSE" --run_id "w$workers-k$frequency" \
    --steps "$STEPS" --workers "$workers" --averaging_frequency "$frequency" --snapshot_interval 0 \
    --eval_interval 0 --checkpoint_interval 0 --log_interval "$STEPS" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  # "train: done in 52.3 s (30 rounds, 4.1 s of averaging overhead); ..."
  done_line=$(grep -o 'done in [0-9.]* s ([0-9]* rounds, [0-9.]* s of averaging overhead)' "$log")
  read -r wall rounds overhead < <(echo "$done_line" | sed -E 's/done in ([0-9.]+) s \(([0-9]+) rounds, ([0-9.]+) s.*/\1 \2 \3/')
  # "... 300 steps of 2 workers x 16 x 127 tokens (1 threads each), ...": the batch per worker and the sequence length
  read -r batch seq_len < <(grep -oE 'workers x [0-9]+ x [0-9]+ tokens' "$log" | awk '{print $3, $5}')
  ROWS+=("$(python3 -c "import json,sys; w,k,s,t,wall,r,o,b=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4]),float(sys.argv[5]),int(sys.argv[6]),float(sys.argv[7]),int(sys.argv[8]); print(json.dumps({'workers':w,'averaging_frequency':k,'steps':s,'tokens_per_s':round(s*w*b*t/wall),'wall_s':wall,'rounds':r,'averaging_overhead_s':o,'overhead_per_round_s':round(o/max(r,1),3)}))" "$workers" "$frequency" "$STEPS" "$seq_len" "$wall" "$rounds" "$overhead" "$batch")")
  echo "${ROWS[-1]}"
done
python3 - "${ROWS[@]}" <<'PY'
import json, sys
one, two, every = (json.loads(a) for a in sys.argv[1:])
print(json.dumps({"summary": "averaging", "speedup_2_workers": round(two["tokens_per_s"] / one["tokens_per_s"], 3),
                  "speedup_2_workers_every_step": round(every["tokens_per_s"] / one["tokens_per_s"], 3),
                  "overhead_per_round_s": two["overhead_per_round_s"]}))
PY
