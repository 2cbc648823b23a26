#!/usr/bin/env bash
# Build the local images the provision Molecule scenarios (and the lab) run, only when missing or
# when their Dockerfile changed: each image carries the hash of its build context as a label.
# Prints the image names. Nothing is pulled (Docker Hub is unreachable on the test machines).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bash "$repo/tests/images/build-base.sh" >/dev/null

build() {  # build NAME CONTEXT_DIR
  local name=$1 context=$2 hash current
  hash=$(cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  current=$(docker image inspect -f '{{ index .Config.Labels "org.groot-ops.context-sha" }}' "$name" 2>/dev/null || true)
  if [ "$current" != "$hash" ]; then
    docker build -q --pull=false --label "org.groot-ops.context-sha=$hash" -t "$name" "$context" >/dev/null
  fi
  echo "$name"
}

build "${GROOT_OPS_WORKSTATION_IMAGE:-groot-ops-dm-workstation:test}" "$repo/tests/images/workstation"
