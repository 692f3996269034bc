#!/usr/bin/env bash
# Start the services the test suite talks to, if they are not answering already.
set -euo pipefail

answers() {  # host port
  python3 - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
PY
}

wait_for() {  # name host port
  for _ in $(seq 1 30); do
    answers "$2" "$3" && return 0
    sleep 1
  done
  echo "$1 did not start on $2:$3" >&2
  return 1
}

if ! answers 127.0.0.1 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
    wait_for PostgreSQL 127.0.0.1 5432
  else
    echo "PostgreSQL is not answering on 127.0.0.1:5432 and is not installed." >&2
    echo "Install it (Debian: apt-get install postgresql) with trust auth for 127.0.0.1." >&2
    exit 1
  fi
fi
echo "PostgreSQL answers on 127.0.0.1:5432"

if ! answers 127.0.0.1 6379; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for Redis 127.0.0.1 6379
  else
    echo "Redis is not answering on 127.0.0.1:6379 and is not installed." >&2
    echo "Install it (Debian: apt-get install redis-server)." >&2
    exit 1
  fi
fi
echo "Redis answers on 127.0.0.1:6379"
