#!/usr/bin/env bash
# Makes sure a Redis for the integration tests of @script-harness/queue-bullmq is running on
# 127.0.0.1, and prints where it is as a shell assignment on stdout:
#
#   eval "$(tools/redis/ensure-redis.sh)"      # exports HARNESS_TEST_REDIS_URL=redis://127.0.0.1:PORT
#   tools/redis/ensure-redis.sh stop            # stops the Redis this script started
#
# - Reuses a Redis that already answers on 127.0.0.1 at $REDIS_PORT (default 6379).
# - Otherwise installs redis-server from Debian with apt-get when it is missing (CI runs as root;
#   `apt-get update` runs only when the package is not known yet), and starts it daemonized,
#   bound to 127.0.0.1 only, without persistence (`--save '' --appendonly no`: test data is
#   throw-away), on $REDIS_PORT when that port is free, else on the next free port.
# - Waits until `redis-cli ping` answers. Exits non-zero when Redis cannot be started at all.
#
# Everything but the final assignment goes to stderr, so the output can be eval'd.
set -euo pipefail

preferred_port="${REDIS_PORT:-6379}"
state_dir="${TMPDIR:-/tmp}/script-harness-redis"
log() { printf 'ensure-redis: %s\n' "$*" >&2; }

answers() { timeout 2 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q "^PONG$"; }

port_in_use() {
  # Something accepts connections on the port (Redis or not).
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# shellcheck source=../apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/../apt-install.sh"


stop_started() {
  local pidfile="$state_dir/redis.pid"
  if [ -f "$pidfile" ]; then
    local pid
    pid="$(cat "$pidfile")"
    if kill "$pid" 2>/dev/null; then log "stopped Redis (pid $pid)"; fi
    rm -f "$pidfile"
  else
    log "no Redis started by this script is running"
  fi
}

if [ "${1:-}" = "stop" ]; then
  stop_started
  exit 0
fi

if command -v redis-cli >/dev/null 2>&1 && answers "$preferred_port"; then
  log "Redis already answers on 127.0.0.1:$preferred_port"
  printf 'export HARNESS_TEST_REDIS_URL=redis://127.0.0.1:%s\n' "$preferred_port"
  exit 0
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  apt_install redis-server 'install Redis (>= 6.2) yourself'
fi

port="$preferred_port"
while port_in_use "$port"; do
  port=$((port + 1))
  if [ "$port" -gt $((preferred_port + 100)) ]; then
    log "no free port between $preferred_port and $((preferred_port + 100))"
    exit 1
  fi
done

mkdir -p "$state_dir"
log "starting redis-server on 127.0.0.1:$port (no persistence; log in $state_dir/redis.log)"
redis-server \
  --bind 127.0.0.1 \
  --port "$port" \
  --protected-mode yes \
  --daemonize yes \
  --save '' \
  --appendonly no \
  --dir "$state_dir" \
  --pidfile "$state_dir/redis.pid" \
  --logfile "$state_dir/redis.log" >&2

for _ in $(seq 1 100); do
  if answers "$port"; then
    log "Redis answers on 127.0.0.1:$port"
    printf 'export HARNESS_TEST_REDIS_URL=redis://127.0.0.1:%s\n' "$port"
    exit 0
  fi
  sleep 0.1
done
log "redis-server did not answer within 10 s; see $state_dir/redis.log"
exit 1
