#!/usr/bin/env bash
# Make sure a Redis answers on 127.0.0.1:$1 (default 6379); start one if none does,
# installing Debian's redis-server when it is missing. Keeps nothing on disk.
set -euo pipefail
port="${1:-6379}"

answers() {
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null
  fi
}

if answers; then
  exit 0
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server missing: installing Debian's package" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir /tmp --logfile /tmp/redis-"$port".log
for _ in $(seq 1 50); do
  if answers; then
    echo "redis started on 127.0.0.1:$port" >&2
    exit 0
  fi
  sleep 0.1
done
echo "redis did not come up on port $port" >&2
exit 1
