#!/usr/bin/env bash
# A fleet on one machine: nginx in front of N `ustad serve` workers sharing PostgreSQL,
# Redis and the audio directory. Everything it starts lives under the fleet directory
# (var/fleet by default): nginx's config, pid, logs and temp files, one log and pid file
# per worker, the shared audio directory and the outbox. The system nginx is never touched.
#
#   scripts/fleet.sh start  [--workers N] [--port P] [--dir D]
#   scripts/fleet.sh stop   [--dir D]
#   scripts/fleet.sh status [--dir D]
#
# nginx listens on 127.0.0.1:P (default 8080); worker i on 127.0.0.1:P+i. Environment:
#   FLEET_PG_ADMIN    maintenance DSN used to create the database
#                     (default postgresql://postgres@127.0.0.1:5432/postgres)
#   FLEET_DB          the fleet's own database, created if missing (default ustad_fleet)
#   USTAD_REDIS__URL  shared Redis (default redis://127.0.0.1:6379/0); USTAD_REDIS__KEY_PREFIX
#   USTAD_PYTHON      the Python with ustad installed (default .venv/bin/python, else python3)
#   FLEET_NICE        niceness of the workers (default 10)
#   FLEET_START_TIMEOUT  seconds to wait for every worker's /health (default 600)
# Any other USTAD_* variable reaches every worker unchanged. USTAD_RUNTIME__EXECUTOR_WORKERS
# defaults to the cores over N (at least 1), so the workers together have one engine
# thread per core.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command=${1:-}
[ $# -gt 0 ] && shift
workers=2
port=8080
dir="$ROOT/var/fleet"
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case "$workers$port" in *[!0-9]*) echo "--workers and --port take numbers" >&2; exit 2 ;; esac
[ "$workers" -ge 1 ] || { echo "--workers must be at least 1" >&2; exit 2; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

python=${USTAD_PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then python="$ROOT/.venv/bin/python"; else python=python3; fi
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
pg_admin=${FLEET_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}
db_name=${FLEET_DB:-ustad_fleet}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Sends TERM to the process in pid file $1, waits up to $2 seconds, then KILL.
stop_pid() {
  local file=$1 wait=$2 pid
  # The file may vanish between the test and the read: nginx removes its own pid file
  # as it exits after `-s quit`.
  pid=$(cat "$file" 2>/dev/null) || return 0
  [ -n "$pid" ] || { rm -f "$file"; return 0; }
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((wait * 10))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "pid $pid did not stop in ${wait}s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}

stop() {
  local nginx_pid=""
  if alive "$dir/nginx/nginx.pid"; then
    # Read before asking it to quit: nginx deletes its pid file while it exits.
    nginx_pid=$(cat "$dir/nginx/nginx.pid" 2>/dev/null) || nginx_pid=""
    "$nginx_bin" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" \
      -s quit 2>/dev/null || true
  fi
  if [ -n "$nginx_pid" ]; then
    echo "$nginx_pid" >"$dir/nginx/nginx.pid.quitting"
    stop_pid "$dir/nginx/nginx.pid.quitting" 10
  fi
  stop_pid "$dir/nginx/nginx.pid" 10
  # ustad drains for server.drain_seconds (30 s by default) on SIGTERM.
  for file in "$dir"/worker-*.pid; do
    [ -e "$file" ] || continue
    stop_pid "$file" 45
    echo "stopped $(basename "$file" .pid)"
  done
  echo "fleet stopped"
}

status() {
  local failed=0
  if alive "$dir/nginx/nginx.pid"; then
    echo "nginx      pid $(cat "$dir/nginx/nginx.pid")  listening on $(cat "$dir/nginx/listen")"
  else
    echo "nginx      not running"; failed=1
  fi
  for file in "$dir"/worker-*.pid; do
    [ -e "$file" ] || continue
    local name; name=$(basename "$file" .pid)
    if alive "$file"; then
      local health
      health=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        "http://127.0.0.1:$(cat "$dir/$name.port")/health" || true)
      echo "$name   pid $(cat "$file")  port $(cat "$dir/$name.port")  /health $health"
    else
      echo "$name   not running"; failed=1
    fi
  done
  return $failed
}

create_database() {
  local exists
  exists=$(psql "$pg_admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'")
  if [ "$exists" != 1 ]; then
    psql "$pg_admin" -qc "CREATE DATABASE \"$db_name\""
    echo "created database $db_name"
  fi
}

start() {
  case "$db_name" in *[!a-zA-Z0-9_]*) echo "FLEET_DB: letters, digits and _ only" >&2; exit 2 ;; esac
  if alive "$dir/nginx/nginx.pid" || compgen -G "$dir/worker-*.pid" >/dev/null; then
    echo "a fleet is already running from $dir (scripts/fleet.sh stop first)" >&2
    exit 1
  fi
  bash "$ROOT/scripts/install-nginx.sh" >/dev/null
  for p in $(seq "$port" $((port + workers))); do
    port_free "$p" || { echo "port $p is in use" >&2; exit 1; }
  done
  create_database
  local db_url
  db_url="postgresql+asyncpg://${pg_admin#postgresql://}"
  db_url="${db_url%/*}/$db_name"
  export USTAD_DB__URL="$db_url"
  export USTAD_REDIS__URL="${USTAD_REDIS__URL:-redis://127.0.0.1:6379/0}"
  export USTAD_AUDIO_STORE__DIR="${USTAD_AUDIO_STORE__DIR:-$dir/audio}"
  # One outbox directory: each worker takes a slot of its own in it.
  export USTAD_DB__OUTBOX_DIR="${USTAD_DB__OUTBOX_DIR:-$dir/outbox}"
  export USTAD_SERVER__FORWARDED_ALLOW_IPS='["127.0.0.1"]'
  # The workers share this machine's cores: each sizes its engine pool to its share
  # (a worker alone would take every core, and N of them would take turns on them).
  # The cores this process may use as the service counts them (affinity, cgroup quota;
  # not nproc, which follows OMP_NUM_THREADS), at most the setting's limit of 64.
  local cores share
  cores=$(cd "$ROOT" && "$python" -c 'from ustad.cpu_budget import usable_cores; print(usable_cores())')
  share=$(( cores > workers ? cores / workers : 1 ))
  export USTAD_RUNTIME__EXECUTOR_WORKERS="${USTAD_RUNTIME__EXECUTOR_WORKERS:-$(( share < 64 ? share : 64 ))}"
  # Migrate once up front (workers migrate on start too; a lock keeps them apart).
  (cd "$ROOT" && "$python" -m ustad.store upgrade)

  trap 'echo "start failed; stopping what started" >&2; stop >&2' ERR
  local servers=""
  for i in $(seq 1 "$workers"); do
    local wport=$((port + i))
    echo "$wport" >"$dir/worker-$i.port"
    # From the repository, where `make run` serves: var/models is shared with it.
    (
      cd "$ROOT"
      USTAD_SERVER__PORT=$wport USTAD_SERVER__WORKER_NAME="worker-$i" \
        exec nice -n "${FLEET_NICE:-10}" "$python" -m ustad.cli serve --port "$wport" \
        >"$dir/worker-$i.log" 2>&1
    ) &
    echo $! >"$dir/worker-$i.pid"
    servers+="server 127.0.0.1:$wport max_fails=3 fail_timeout=10s; "
  done

  local body_bytes=$(( ${USTAD_LIMITS__MAX_MESSAGE_BYTES:-8388608} + 65536 ))
  local user_line=""
  [ "$(id -u)" -eq 0 ] && user_line="user $(id -un) $(id -gn);"
  mkdir -p "$dir/nginx/tmp"
  echo "127.0.0.1:$port" >"$dir/nginx/listen"
  sed -e "s|@USER_LINE@|$user_line|" -e "s|@PREFIX@|$dir/nginx|g" \
    -e "s|@LISTEN@|127.0.0.1:$port|" -e "s|@UPSTREAM_SERVERS@|$servers|" \
    -e "s|@BODY_BYTES@|$body_bytes|" "$ROOT/deploy/nginx.conf" >"$dir/nginx/nginx.conf"
  "$nginx_bin" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" -t -q
  "$nginx_bin" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log"

  local deadline=$((SECONDS + ${FLEET_START_TIMEOUT:-600}))
  for i in $(seq 1 "$workers"); do
    until curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$((port + i))/health"; do
      if ! alive "$dir/worker-$i.pid"; then
        echo "worker-$i exited; its log:" >&2; tail -n 30 "$dir/worker-$i.log" >&2; false
      fi
      [ $SECONDS -lt $deadline ] || { echo "worker-$i not ready in time" >&2; false; }
      sleep 1
    done
    echo "worker-$i ready on 127.0.0.1:$((port + i))"
  done
  trap - ERR
  echo "fleet of $workers on http://127.0.0.1:$port (logs in $dir)"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status [--workers N] [--port P] [--dir D]" >&2; exit 2 ;;
esac
