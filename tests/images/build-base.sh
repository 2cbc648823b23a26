#!/usr/bin/env bash
# Build (once) the local base image every test and lab image starts FROM.
# Uses debian:bookworm-slim where a registry answers, else a debootstrap minbase import,
# so that nothing depends on Docker Hub. Prints the image name.
set -euo pipefail
IMAGE=${GROOT_OPS_BASE_IMAGE:-groot-ops-base:bookworm}
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "$IMAGE"
  exit 0
fi
if timeout 20 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
  docker tag debian:bookworm-slim "$IMAGE"
else
  command -v debootstrap >/dev/null 2>&1 || {
    echo "build-base: need debootstrap (apt-get install debootstrap) or a reachable registry" >&2
    exit 1
  }
  root=$(mktemp -d /tmp/groot-ops-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
  # apt caches are not part of the image; keep it small.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' - "$IMAGE" >/dev/null
fi
echo "$IMAGE"
