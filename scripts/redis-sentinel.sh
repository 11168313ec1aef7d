#!/usr/bin/env bash
# A local Redis with Sentinel for the tests: a master, its replica(s) and three sentinels watching
# them as service `bff`, from Debian's redis-server (installed when missing; a sentinel is
# `redis-server <conf> --sentinel`, so the redis-sentinel package is not needed). Ports on
# 127.0.0.1: PORT_BASE (master), PORT_BASE+1... (replicas), PORT_BASE+10..12 (sentinels). Nothing is
# persisted; everything lives in a temporary directory that `stop` removes.
#
#   scripts/redis-sentinel.sh start [PORT_BASE [REPLICAS]]  # default 7100 1; prints the BFF_REDIS_URL
#   scripts/redis-sentinel.sh stop  [PORT_BASE]             # always succeeds, even if nothing runs
#
# REPLICAS (1 to 5) replicas take ports PORT_BASE+1...; MIN_REPLICAS_TO_WRITE=N in the
# environment sets min-replicas-to-write N (and min-replicas-max-lag 1) on every server.
#
# Failover is fast on purpose (down-after-milliseconds 2000); `SENTINEL FAILOVER bff` on a
# sentinel starts one by hand.
set -euo pipefail
command="${1:-}"
base="${2:-7100}"
replicas="${3:-1}"
case "$replicas" in [1-5]) ;; *) echo "REPLICAS is 1 to 5" >&2; exit 2 ;; esac
redis_ports=$(seq "$base" $((base + 5)))  # stop looks at every port a start may have used
[ "$command" = stop ] || redis_ports=$(seq "$base" $((base + replicas)))
sentinel_ports="$((base + 10)) $((base + 11)) $((base + 12))"
root="${TMPDIR:-/tmp}/bff-redis-sentinel-$base"

answers() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }
taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop() {
  for port in $sentinel_ports $redis_ports; do
    if answers "$port"; then
      redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    fi
    pidfile="$root/$port/redis.pid"
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile")
      # Only our own server: the pid file is ours, and the process must still be redis.
      if kill -0 "$pid" 2>/dev/null && grep -q redis "/proc/$pid/comm" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
      fi
    fi
  done
  for port in $sentinel_ports $redis_ports; do
    for _ in $(seq 1 50); do answers "$port" || break; sleep 0.1; done
  done
  rm -rf "$root"
}

common() {  # the lines every server's configuration shares
  cat <<EOF
port $1
bind 127.0.0.1
dir $root/$1
daemonize yes
pidfile $root/$1/redis.pid
logfile $root/$1/redis.log
EOF
}

start() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "redis-server missing: installing Debian's package" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools >/dev/null
  fi
  for port in $redis_ports $sentinel_ports; do
    if taken "$port"; then
      echo "port $port is taken: stop it, or pick another PORT_BASE" >&2
      exit 1
    fi
  done
  rm -rf "$root"
  for port in $redis_ports; do
    mkdir -p "$root/$port"
    { common "$port"
      echo 'save ""'
      echo "appendonly no"
      echo "maxmemory-policy noeviction"
      # A replica (re)joining after a failover is synced at once, not after 5 s: writes that
      # wait for a replica (BFF_REDIS_WAIT_REPLICAS) wait for it.
      echo "repl-diskless-sync-delay 0"
      if [ -n "${MIN_REPLICAS_TO_WRITE:-}" ]; then
        echo "min-replicas-to-write $MIN_REPLICAS_TO_WRITE"
        echo "min-replicas-max-lag 1"
      fi
      [ "$port" = "$base" ] || echo "replicaof 127.0.0.1 $base"
    } >"$root/$port/redis.conf"
    redis-server "$root/$port/redis.conf"
  done
  for port in $sentinel_ports; do
    mkdir -p "$root/$port"
    { common "$port"
      echo "sentinel monitor bff 127.0.0.1 $base 2"
      echo "sentinel down-after-milliseconds bff 2000"
      echo "sentinel failover-timeout bff 10000"
      echo "sentinel parallel-syncs bff 1"
    } >"$root/$port/sentinel.conf"  # sentinels rewrite their configuration: it must be theirs
    redis-server "$root/$port/sentinel.conf" --sentinel
  done
  # Ready when the replicas are in sync and every sentinel knows them and the two others.
  for _ in $(seq 1 200); do
    ready=yes
    for port in $(seq $((base + 1)) $((base + replicas))); do
      redis-cli -p "$port" info replication 2>/dev/null | grep -q "master_link_status:up" || ready=no
    done
    for port in $sentinel_ports; do
      state=$(redis-cli -p "$port" sentinel master bff 2>/dev/null | tr '\n' ' ')
      echo "$state" | grep -q "num-slaves $replicas " || ready=no
      echo "$state" | grep -q "num-other-sentinels 2 " || ready=no
    done
    if [ "$ready" = yes ]; then
      echo "redis sentinel up: redis+sentinel://127.0.0.1:$((base + 10)),127.0.0.1:$((base + 11)),127.0.0.1:$((base + 12))/bff" >&2
      exit 0
    fi
    sleep 0.1
  done
  echo "sentinel did not become ready" >&2
  redis-cli -p $((base + 10)) sentinel master bff >&2 || true
  stop
  exit 1
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [PORT_BASE]" >&2; exit 2 ;;
esac
