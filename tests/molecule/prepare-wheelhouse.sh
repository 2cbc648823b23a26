#!/usr/bin/env bash
# Fill a host-side wheelhouse once (pip download on the controller, which reaches PyPI; test
# containers do not need to). The groot_env scenario installs from it with --no-index.
# Usage: prepare-wheelhouse.sh DIR ; prints DIR.
set -euo pipefail
dir=${1:?usage: prepare-wheelhouse.sh DIR}
repo=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-$repo/.venv/bin/python}
mkdir -p "$dir"
stamp="$dir/.requirements"
want="torch==2.13.0 numpy pyyaml uv"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # torch resolves to the CPU wheel under /opt/wheels (pip's find-links on these machines).
  # shellcheck disable=SC2086
  "$py" -m pip download --quiet --only-binary=:all: --dest "$dir" $want
  echo "$want" >"$stamp"
fi
echo "$dir"
