#!/bin/sh
# The write token is read from a mounted file, so that it is neither on a command line nor in
# `docker inspect`.
set -eu
exec python3 -m tests.lab.hub_service --root /data --host 0.0.0.0 --port 8080 \
  --token-file /run/lab-hub/token "$@"
