#!/usr/bin/env bash
# Executes every notebook here headless, in a fresh virtual environment with requirements.txt installed by pip,
# against the warehouse OFLAB_WAREHOUSE (default ../warehouse from this directory: bin/oflab quickstart's), and
# fails when a cell fails or when a saved notebook carries outputs. The executed copies, with their figures, go
# to OUT_DIR (default a new temporary directory), never back here.
#   notebooks/run-all.sh [OUT_DIR]
# Environment: PYTHON (the interpreter of the environment, default python3), PIP_RETRIES (default 10),
#              OFLAB_WAREHOUSE.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-$(mktemp -d -t oflab-notebooks.XXXXXX)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
NOTEBOOKS=("$HERE"/*.ipynb)

# Saved notebooks carry no outputs, so none can be stale: what a run shows is what it computed.
"${PYTHON:-python3}" - "${NOTEBOOKS[@]}" <<'PY'
import json, sys
stale = [f"{path}: cell {i}" for path in sys.argv[1:] for i, cell in enumerate(json.load(open(path))["cells"])
         if cell["cell_type"] == "code" and (cell["outputs"] or cell["execution_count"] is not None)]
if stale:
    sys.exit("notebooks: saved with outputs (clear them before committing):\n  " + "\n  ".join(stale))
PY

WORK="$(mktemp -d -t oflab-notebooks-env.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
start=$SECONDS
"${PYTHON:-python3}" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --retries "${PIP_RETRIES:-10}" --timeout 60 -r "$HERE/requirements.txt"
echo "notebooks: environment ready in $((SECONDS - start)) s"

# Jupyter and IPython read nothing of the user's (kernels, profiles, start-up files): the venv's own kernel runs.
export JUPYTER_DATA_DIR="$WORK/jupyter" JUPYTER_CONFIG_DIR="$WORK/jupyter-config" IPYTHONDIR="$WORK/ipython"
for notebook in "${NOTEBOOKS[@]}"; do
  start=$SECONDS
  if ! "$WORK/venv/bin/jupyter" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 \
      --output-dir "$OUT" --log-level WARN "$notebook"; then
    echo "notebooks: $(basename "$notebook") failed (the error above)" >&2
    exit 1
  fi
  echo "notebooks: $(basename "$notebook") executed in $((SECONDS - start)) s"
done
echo "notebooks: ${#NOTEBOOKS[@]} executed, the copies in $OUT"
