#!/usr/bin/env bash
# A local Redis Cluster for the tests: three masters with one replica each, from Debian's
# redis-server (installed when missing), on 127.0.0.1 ports PORT_BASE..PORT_BASE+5 (and their
# cluster bus ports, +10000). Nothing is persisted; everything lives in a temporary directory
# that `stop` removes.
#
#   scripts/redis-cluster.sh start [PORT_BASE]    # default 7000; prints the BFF_REDIS_URL
#   scripts/redis-cluster.sh stop  [PORT_BASE]    # always succeeds, even if nothing runs
#
# Failover is fast on purpose (cluster-node-timeout 2000 ms): the failover test kills a master.
# Each node's configuration is <its dir>/redis.conf (`CONFIG GET dir`), so a killed node can be
# started again with `redis-server <its dir>/redis.conf` and rejoins as a replica.
set -euo pipefail
command="${1:-}"
base="${2:-7000}"
ports=$(seq "$base" $((base + 5)))
root="${TMPDIR:-/tmp}/bff-redis-cluster-$base"

answers() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }
taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop() {
  for port in $ports; do
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
  for port in $ports; do
    for _ in $(seq 1 50); do answers "$port" || break; sleep 0.1; done
  done
  rm -rf "$root"
}

start() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "redis-server missing: installing Debian's package" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools >/dev/null
  fi
  for port in $ports; do
    if taken "$port" || taken $((port + 10000)); then
      echo "port $port (or its bus port) is taken: stop it, or pick another PORT_BASE" >&2
      exit 1
    fi
  done
  rm -rf "$root"
  nodes=()
  for port in $ports; do
    mkdir -p "$root/$port"
    cat >"$root/$port/redis.conf" <<EOF
port $port
bind 127.0.0.1
dir $root/$port
daemonize yes
pidfile $root/$port/redis.pid
logfile $root/$port/redis.log
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 2000
save ""
appendonly no
maxmemory-policy noeviction
repl-diskless-sync-delay 0
EOF
    redis-server "$root/$port/redis.conf"
    nodes+=("127.0.0.1:$port")
  done
  for port in $ports; do
    for _ in $(seq 1 50); do answers "$port" && break; sleep 0.1; done
    answers "$port" || { echo "redis did not come up on port $port" >&2; stop; exit 1; }
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$root/create.log" 2>&1 \
    || { cat "$root/create.log" >&2; stop; exit 1; }
  # Ready when every node agrees the cluster is ok and every master has its replica.
  for _ in $(seq 1 150); do
    ready=yes
    for port in $ports; do
      redis-cli -p "$port" cluster info 2>/dev/null | grep -q "cluster_state:ok" || ready=no
    done
    replicas=$(redis-cli -p "$base" cluster nodes 2>/dev/null | grep -c slave || true)
    [ "$replicas" -eq 3 ] || ready=no
    if [ "$ready" = yes ]; then
      echo "redis cluster up: redis+cluster://127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))" >&2
      exit 0
    fi
    sleep 0.1
  done
  echo "the cluster did not become ready" >&2
  redis-cli -p "$base" cluster nodes >&2 || true
  stop
  exit 1
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [PORT_BASE]" >&2; exit 2 ;;
esac
