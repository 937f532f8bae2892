#!/usr/bin/env bash
# The cluster path as a user takes it (README, "On a cluster"): a Spark standalone master and two workers on
# loopback (bin/oflab local-cluster), every job sent with the spark-submit line that bin/oflab submit-command
# prints, run by bin/oflab spark-submit (Spark's launcher library and the application jar). data-prep; training
# on two executors, one executor killed (SIGKILL) mid-round, a second job on the run refused, later the driver
# killed, then --resume; metrics (with spark.executor.userClassPathFirst),
# quant-eval and a query. The token shards, snapshots, train_log and layer_metrics are compared row for row and bit
# for bit with the same jobs on the embedded Spark (local[2]).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS

export SPARK_LOCAL_IP=127.0.0.1   # the cluster is on loopback; drivers and executors bind there too
work=$(mktemp -d)
export OFLAB_CLUSTER_DIR="$work/local-cluster" OFLAB_CLUSTER_PORT=17077 OFLAB_CLUSTER_UI_PORT=18080
# The cluster's warehouse is a relative path, as the quickstart's is: the driver runs here, each executor in its own
# work directory, so every path the executors use must have been resolved on the driver.
cluster="local-cluster/ci-pipeline-$$"
embedded="$work/embedded"  # the embedded Spark's
stage() { echo "== $* ($((SECONDS - started)) s)"; }
fail() { echo "cluster-pipeline: FAILED: $*" >&2; exit 1; }
finish() {
  local rc=$?
  bin/oflab local-cluster stop || true
  if [[ $rc -ne 0 ]]; then
    echo "cluster-pipeline: logs follow ($work)" >&2
    tail -n 40 "$work"/*.log "$OFLAB_CLUSTER_DIR"/logs/*.log >&2 || true
  fi
  rm -rf "$work" "$cluster"
}
trap finish EXIT

mkdir -p "$cluster"
bin/oflab local-cluster start --workers 2 --cores 1 --memory 3g
url=$(bin/oflab local-cluster url)
bin/oflab local-cluster status

# A job on the cluster: the line bin/oflab submit-command prints, with the master, through bin/oflab spark-submit.
submit() {
  local line
  line=$(bin/oflab submit-command "$@")
  eval "bin/oflab spark-submit --master $url ${line#spark-submit }"
}

# Waits (up to 5 minutes) for a line matching $1 in $2.
wait_for() {
  local i
  for i in $(seq 1 600); do
    grep -q -- "$1" "$2" 2>/dev/null && return 0
    sleep 0.5
  done
  fail "no '$1' in $2 after 5 minutes"
}

stage "data-prep"
submit data-prep --conf conf/demo.conf --out "$cluster/tokens/demo" > "$work/data-prep-cluster.log" 2>&1
bin/oflab data-prep --conf conf/demo.conf --master 'local[2]' --out "$embedded/tokens/demo" \
  > "$work/data-prep-embedded.log" 2>&1
diff <(grep -v '"out"' "$cluster/tokens/demo/_manifest.json") <(grep -v '"out"' "$embedded/tokens/demo/_manifest.json") \
  || fail "the manifests differ beyond their output paths"

# A small model so that the whole pipeline stays within minutes: two workers (one executor each), averaging
# every 5 steps, a checkpoint every 10.
train=(--conf conf/quickstart.conf --model.d_model 64 --model.n_layers 4 --run_id ci-cluster --workers 2
       --threads 1 --steps 30 --batch_size 8 --averaging_frequency 5 --log_interval 5 --eval_interval 10
       --eval_batches 2 --checkpoint_interval 10 --snapshot_interval 10 --probe 8)
stage "train on the cluster: an executor killed in round 2, the driver in round 5, then --resume"
submit train "${train[@]}" --tokens "$cluster/tokens/demo" --warehouse "$cluster" > "$work/train-cluster.log" 2>&1 &
job=$!
wait_for '\[train\] step 5/30' "$work/train-cluster.log"
sleep 1
executor=$(pgrep -P "$(cat "$OFLAB_CLUSTER_DIR/pids/worker-1.pid")" -f CoarseGrainedExecutorBackend | head -n 1)
[[ -n "$executor" ]] || fail "worker 1 runs no executor"
kill -9 "$executor"
echo "killed executor $executor of worker 1"
# A second job on the same run, started as another process while the first trains: refused, naming the first.
if bin/oflab train "${train[@]}" --master 'local[1]' --tokens "$cluster/tokens/demo" --warehouse "$cluster" \
    > "$work/train-second.log" 2>&1; then
  fail "a second job on run ci-cluster trained while the first did"
fi
grep -q 'is being trained by another job (host' "$work/train-second.log" || fail "the second job was not told why"
echo "a second job on the run was refused: $(grep -o 'run ci-cluster is being trained by another job ([^)]*)' \
  "$work/train-second.log")"
wait_for '\[train\] step 20/30' "$work/train-cluster.log"
sleep 1
driver=$(pgrep -f -- "deploy.SparkSubmit .*--warehouse $cluster" | head -n 1)
[[ -n "$driver" ]] || fail "no driver to kill"
kill -9 "$driver"
echo "killed driver $driver"
if wait "$job"; then fail "the killed driver's job exited 0"; fi
submit train "${train[@]}" --tokens "$cluster/tokens/demo" --warehouse "$cluster" --resume true \
  > "$work/train-resume.log" 2>&1
grep -E '\[train\] step 30/30' "$work/train-resume.log"
bin/oflab train "${train[@]}" --master 'local[2]' --tokens "$embedded/tokens/demo" --warehouse "$embedded" \
  > "$work/train-embedded.log" 2>&1

stage "metrics, quant-eval"
# with the application's classes first on the executors: the jar must hold no class Spark has (AppJarIT)
submit metrics --runs "[\"$cluster\"]" --warehouse "$cluster" --spark.executor.userClassPathFirst true \
  > "$work/metrics-cluster.log" 2>&1
bin/oflab metrics --master 'local[2]' --runs "[\"$embedded\"]" --warehouse "$embedded" \
  > "$work/metrics-embedded.log" 2>&1
submit quant-eval --runs "[\"$cluster\"]" --warehouse "$cluster" --eval_batches 2 > "$work/quant-cluster.log" 2>&1

stage "the cluster's tables against the embedded Spark's, and a query on the cluster"
# Rows of one that the other lacks, both ways (EXCEPT ALL keeps duplicates: a row written twice counts). Contents,
# not bytes: parquet-mr writes a column's encodings in a JVM-dependent order.
differ() {
  echo "SELECT '$1' AS table_name, count(*) AS differing, (SELECT count(*) FROM parquet.\`$PWD/$cluster/$2\`) AS cluster_rows
    FROM ((SELECT $3 FROM parquet.\`$PWD/$cluster/$2\` EXCEPT ALL SELECT $3 FROM parquet.\`$embedded/$2\`)
          UNION ALL (SELECT $3 FROM parquet.\`$embedded/$2\` EXCEPT ALL SELECT $3 FROM parquet.\`$PWD/$cluster/$2\`))"
}
submit sql --warehouse "$cluster" --spark.sql.shuffle.partitions 4 --query "$(differ tokens_train tokens/demo/train '*')
  UNION ALL $(differ tokens_validation tokens/demo/validation '*')
  UNION ALL $(differ snapshots runs/ci-cluster/snapshots '*')
  UNION ALL $(differ train_log runs/ci-cluster/train_log \
    'run_id, step, loss, lr, grad_norm, val_loss, val_ppl')
  UNION ALL $(differ layer_metrics layer_metrics 'run_id, step, layer, site, metric, value')
  UNION ALL SELECT 'quant_eval', 0, count(*) FROM quant_eval WHERE run_id = 'ci-cluster' AND q_ppl > 1" \
  > "$work/compare.log" 2>&1
grep -E '^\|' "$work/compare.log"
python3 - "$work/compare.log" <<'PY'
import re, sys
rows = {t: (int(d), int(n)) for t, d, n in re.findall(r"^\|(\w+)\s*\|(\d+)\s*\|(\d+)\s*\|$", open(sys.argv[1]).read(), re.M)}
assert set(rows) == {"tokens_train", "tokens_validation", "snapshots", "train_log", "layer_metrics", "quant_eval"}, rows
for table in "tokens_train", "tokens_validation", "snapshots":
    assert rows[table][0] == 0 and rows[table][1] > 0, (table + " identical on the cluster and the embedded Spark", rows)
assert rows["train_log"] == (0, 6), ("train_log: one row per logged step, none duplicated by the resume, and "
                                     "bit-identical to the embedded run", rows)
assert rows["layer_metrics"][0] == 0 and rows["layer_metrics"][1] > 300, ("layer_metrics bit-identical", rows)
assert rows["quant_eval"][1] > 0, ("quant-eval on the cluster", rows)
PY
echo "cluster-pipeline: ok in $((SECONDS - started)) s"
