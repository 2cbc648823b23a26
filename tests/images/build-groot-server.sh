#!/usr/bin/env bash
# Build the lab image groot-ops-lab/groot-server:latest from the Isaac-GR00T stand-in tree.
# Docker's layer cache makes a re-run cheap; the stand-in tree is the build context's only payload.
# Prints the image name.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
IMAGE=${GROOT_OPS_SERVER_IMAGE:-groot-ops-lab/groot-server:latest}
bash "$here/build-base.sh" >/dev/null
ctx=$(mktemp -d /tmp/groot-ops-server-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp "$here/groot-server/Dockerfile" "$ctx/"
tar -C "$repo/tests/standins" --exclude='__pycache__' --exclude='*.pyc' -cf - isaac_groot | tar -C "$ctx" -xf -
docker build -q -t "$IMAGE" "$ctx" >/dev/null
echo "$IMAGE"
