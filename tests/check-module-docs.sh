#!/usr/bin/env bash
# Every custom module must render with ansible-doc (catches malformed DOCUMENTATION/EXAMPLES/RETURN).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
command -v ansible-doc >/dev/null 2>&1 || { echo "check-module-docs: ansible-doc not on PATH (run from make, or activate .venv)" >&2; exit 1; }
status=0
for mod in library/*.py; do
  name=$(basename "$mod" .py)
  if ! out=$(ANSIBLE_CONFIG=$PWD/ansible.cfg ansible-doc -M library -t module "$name" 2>&1 >/dev/null); then
    echo "ansible-doc failed for $name:" >&2
    echo "$out" >&2
    status=1
  elif [ -n "$out" ]; then
    echo "ansible-doc warned for $name: $out" >&2
    status=1
  fi
done
exit $status
