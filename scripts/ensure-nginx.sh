#!/usr/bin/env bash
# The topology tests (tests/topology) put Debian's nginx in front of gateway processes, with a
# config derived from deploy/nginx.conf (the balancer docker-compose.yml runs). This installs
# the distro package when `nginx` is not on PATH, and does nothing otherwise. The tests start
# nginx themselves, unprivileged and in the foreground; the package's own service is not used.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

if command -v nginx >/dev/null 2>&1; then
  exit 0
fi
echo "nginx missing: installing Debian's package" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
# Wait for another apt (a parallel job, unattended upgrades) instead of failing on its lock.
apt=(apt-get -o DPkg::Lock::Timeout=600)
$sudo "${apt[@]}" update -qq
# policy-rc.d is not touched: in a container without an init system the package's service
# simply does not start; on a machine with one, the tests still use their own nginx process.
$sudo env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq nginx >/dev/null
if ! command -v nginx >/dev/null 2>&1; then
  echo "nginx is still missing after apt-get install" >&2
  exit 1
fi
nginx -v >&2 || true
