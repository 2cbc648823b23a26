#!/usr/bin/env bash
# Make sure a Docker engine answers and the lab images can be built. On Debian machines without one
# (CI, fresh dev boxes with no systemd), install docker.io (and debootstrap) and start dockerd in the
# background.
set -euo pipefail

# debootstrap builds the lab images' base where no registry answers (tests/images/build-base.sh), so
# `make lab` on a fresh machine needs it as much as the engine.
need=()
command -v dockerd >/dev/null 2>&1 || docker info >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ "${#need[@]}" -gt 0 ] && { [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; }; then
  if [ "${need[0]}" = docker.io ]; then
    echo "ensure-docker: no Docker engine answers and docker.io cannot be installed here (need root + apt)" >&2
    exit 1
  fi
  # Without debootstrap the images still build where a registry answers; build-base.sh says so if not.
  echo "ensure-docker: debootstrap is missing and cannot be installed here (need root + apt)" >&2
  need=()
fi
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! docker info >/dev/null 2>&1; then
  log=${DOCKERD_LOG:-/tmp/groot-ops-dockerd.log}
  echo "ensure-docker: starting dockerd (log: $log)"
  nohup dockerd >"$log" 2>&1 &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: dockerd did not come up; last lines of its log:" >&2
  tail -n 20 "${DOCKERD_LOG:-/tmp/groot-ops-dockerd.log}" >&2 || true
  exit 1
fi
