#!/usr/bin/env bash
# Drive the real grid CLI (lightning-grid 0.8.81, which needs Python 3.10) against
# `gridops sim serve` on loopback. Not run in CI: it installs the CLI from PyPI into its own
# virtualenv. Usage: tests/sim/try_real_grid_cli.sh [python3.10]
set -euo pipefail
PY310=${1:-python3.10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'kill "$SIM_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$PY310" -m venv "$WORK/venv"
echo "cython<3" > "$WORK/constraints.txt"  # its PyYAML<6 pin builds only with Cython 2
PIP_CONSTRAINT="$WORK/constraints.txt" "$WORK/venv/bin/pip" install -q lightning-grid==0.8.81
GRID="$WORK/venv/bin/grid"

PORT=18931
"$ROOT/.venv/bin/gridops" sim serve --port "$PORT" --db "$WORK/sim.db" --user-id u1 \
    --api-key k1 --username alice --create-seconds 3 --delete-seconds 2 --failed-polls 1 &
SIM_PID=$!
sleep 2
export HOME="$WORK/home" GRID_URL="http://127.0.0.1:$PORT"
mkdir -p "$HOME"

cat > "$WORK/edit.py" <<'EOF'
import json, sys
body = json.load(open(sys.argv[1]))
kubernetes = body["spec"]["driver"]["kubernetes"]
kubernetes["gridlet_resources"] = {"cpu_request": "1"}
kubernetes["aws"]["instance_types"] = [{"name": "t3.large"}, {"name": "g4dn.xlarge"}]
json.dump(body, open(sys.argv[1], "w"))
EOF

set -x
"$GRID" login --username alice --key k1
"$GRID" clusters
EDITOR="$WORK/venv/bin/python $WORK/edit.py" "$GRID" clusters aws demo \
    --role-arn arn:aws:iam::123456789012:role/grid --external-id ext-1 --edit-before-creation \
    || true  # --wait is left out: the CLI gives up at the first FAILED of the retry knob
sleep 4
"$GRID" clusters
"$GRID" instance-types --cluster demo
"$GRID" clusters logs demo
echo y | "$GRID" delete cluster grid-cloud-prod || true  # refused: a global cluster
echo y | "$GRID" delete cluster demo --wait
"$GRID" clusters logs demo
