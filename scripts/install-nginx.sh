#!/usr/bin/env bash
# Install nginx (Debian's package) for the local fleet (scripts/fleet.sh), if missing.
# Only the binary is used: the fleet runs its own nginx with its own prefix, config, pid
# and logs under var/fleet/, never the system's /etc/nginx or its service.
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  echo "nginx is installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "nginx is missing and apt-get is not available: install nginx yourself" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi

echo "installing nginx"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# policy-rc.d-free containers may try to start the service; the fleet does not need it.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends nginx
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || {
  echo "nginx did not install" >&2
  exit 1
}
