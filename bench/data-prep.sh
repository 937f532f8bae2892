#!/usr/bin/env bash
# The data-prep benchmark (run it as: bin/oflab bench data-prep [options]).
# Tokenises one corpus of real Python source, CodeParrot-style JSON lines, three ways in one invocation:
#   1. Outlier Lab's GPT-2 tokenizer, one thread (per-core rate);
#   2. the reference peer, tiktoken's GPT-2 encoder (npm @dqbd/tiktoken, WASM), one thread, same documents;
#   3. the whole data-prep job on the embedded local[*] Spark (read, tokenise, write Parquet shards).
# Prints one JSON object per line and a summary line with the ratios. Checks that 1 and 2 gave the same ids.
# Options: --source DIR    Python files to build the corpus from (default: this machine's Python stdlib)
#          --mb N          corpus size in MiB (default 64)
#          --repeats N     timed passes for 1 and 2; the median is reported (default 3)
#          --tokenizer F   GPT-2 tokenizer.json (default: ../shared/data/gpt2-tokenizer.json)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOURCE="" MB=64 REPEATS=3 TOKENIZER="$ROOT/../shared/data/gpt2-tokenizer.json"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --source) SOURCE="$2"; shift 2 ;;
    --mb) MB="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --tokenizer) TOKENIZER="$2"; shift 2 ;;
    *) echo "bench data-prep: unknown option $1 (see bench/data-prep.sh)" >&2; exit 2 ;;
  esac
done
[[ -f "$TOKENIZER" ]] || { echo "bench data-prep: GPT-2 tokenizer.json not found at $TOKENIZER; pass --tokenizer" >&2; exit 2; }
[[ -n "$SOURCE" ]] || SOURCE="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
: "${OFLAB_JAVA_CMD:?run this through bin/oflab bench data-prep}"
command -v node >/dev/null || { echo "bench data-prep: node is needed for the tiktoken peer" >&2; exit 2; }
[[ -d "$ROOT/bench/node_modules/@dqbd/tiktoken" ]] || (cd "$ROOT/bench" && npm ci --no-audit --no-fund >&2)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# The corpus, as CodeParrot ships it: several JSON-lines files (here 8), one source file per record.
python3 - "$SOURCE" "$MB" "$WORK/corpus" <<'PY'
import json, os, sys
source, mb, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
budget, paths = mb << 20, []
for d, dirs, files in os.walk(source):
    dirs.sort()
    paths += [os.path.join(d, f) for f in sorted(files) if f.endswith(".py")]
records = []
written = 0
for p in paths:
    try:
        text = open(p, encoding="utf-8").read()
    except (UnicodeDecodeError, OSError):
        continue
    records.append(json.dumps({"repo_name": "python/stdlib", "path": os.path.relpath(p, source), "license": "psf-2.0", "content": text}))
    written += len(text.encode())
    if written >= budget:
        break
for shard in range(8):
    with open(os.path.join(out, "file-%03d.jsonl" % shard), "w", encoding="utf-8") as f:
        f.writelines(r + "\n" for r in records[shard::8])
with open(os.path.join(os.path.dirname(out), "all.jsonl"), "w", encoding="utf-8") as f:
    f.writelines(r + "\n" for r in records)
print(json.dumps({"corpus": source, "files_available": len(paths), "records": len(records), "text_bytes": written}))
PY

# shellcheck disable=SC2086  # OFLAB_JAVA_CMD is a command line
OURS=$($OFLAB_JAVA_CMD org.outlierlab.bench.TokenizerBenchmark "$TOKENIZER" "$WORK/all.jsonl" "$REPEATS")
echo "$OURS"
PEER=$(node "$ROOT/bench/tiktoken-bench.mjs" "$WORK/all.jsonl" "$REPEATS")
echo "$PEER"

# One file per task, as with CodeParrot's many files of more than partition_bytes each.
START=$(date +%s.%N)
"$ROOT/bin/oflab" data-prep --format codeparrot --input "$WORK/corpus" --tokenizer "$TOKENIZER" \
  --out "$WORK/tokens" --partition_bytes 1 --spark.ui.enabled false 2>"$WORK/job.log" \
  || { cat "$WORK/job.log" >&2; exit 1; }
END=$(date +%s.%N)
python3 - "$OURS" "$PEER" "$WORK/tokens/_manifest.json" "$START" "$END" "$WORK/job.log" <<'PY'
import json, os, re, sys
ours, peer, manifest = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.load(open(sys.argv[3]))
wall = float(sys.argv[5]) - float(sys.argv[4])
done = re.search(r"data-prep: done in ([0-9.]+) s .*tokenising alone ([0-9]+) tokens/s per core", open(sys.argv[6]).read())
job_s, tokenising_per_core = float(done.group(1)), int(done.group(2))
cores = os.cpu_count()
job = {"impl": "outlier-lab data-prep job (local[*], %d cores: read, tokenise, write Parquet)" % cores,
       "tokens": manifest["tokens"], "job_s": job_s, "wall_s_incl_jvm_and_spark_start": round(wall, 2),
       "tokens_per_s": round(manifest["tokens"] / job_s), "tokenising_tokens_per_s_per_core": tokenising_per_core}
print(json.dumps(job))
print(json.dumps({
    "summary": "data-prep",
    "ids_identical": ours["tokens"] == peer["tokens"] == manifest["tokens"] and ours["id_hash"] == peer["id_hash"],
    "per_core_ratio_vs_tiktoken": round(ours["tokens_per_s_median"] / peer["tokens_per_s_median"], 3),
    "job_tokenising_per_core_ratio_vs_tiktoken": round(tokenising_per_core / peer["tokens_per_s_median"], 3),
    "job_end_to_end_per_core_ratio_vs_tiktoken": round(job["tokens_per_s"] / cores / peer["tokens_per_s_median"], 3),
}))
PY
