#!/usr/bin/env bash
# Fill a host-side wheelhouse once: the lab's (groot_ops.lab.wheelhouse: groot_ops' dependencies, the
# Isaac-GR00T stand-in's, CPU torch, uv, build tools), downloaded on the controller, which reaches PyPI;
# test containers do not need to. The groot_env scenario installs from it offline.
# Usage: prepare-wheelhouse.sh DIR ; prints DIR.
set -euo pipefail
dir=${1:?usage: prepare-wheelhouse.sh DIR}
repo=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-$repo/.venv/bin/python}
"$py" -c 'import sys; from pathlib import Path; from groot_ops.lab.wheelhouse import ensure_wheelhouse
print(ensure_wheelhouse(Path(sys.argv[1]), Path(sys.argv[2])))' "$repo" "$dir"
