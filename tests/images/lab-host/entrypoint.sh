#!/bin/sh
# Generate this container's own host key, install the controller's public key, run sshd.
set -eu
if [ ! -s /etc/ssh/ssh_host_ed25519_key ]; then
  ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
fi
if [ -s /lab/authorized_keys ]; then
  install -m 600 /lab/authorized_keys /root/.ssh/authorized_keys
else
  echo "lab-host: /lab/authorized_keys is missing; nobody could log in" >&2
  exit 1
fi
# The lab's engine socket is mounted; nothing else to start.
exec /usr/sbin/sshd -D -e
