#!/usr/bin/env bash
# Make sure a Docker engine answers. On Debian machines without one (CI, fresh dev boxes with
# no systemd), install docker.io and start dockerd in the background.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-docker: no Docker engine answers and docker.io cannot be installed here (need root + apt)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io
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
