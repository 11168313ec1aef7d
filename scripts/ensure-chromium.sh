#!/usr/bin/env bash
# The browser tests (tests/demo) drive Debian's headless Chromium at /usr/bin/chromium through
# Playwright. Playwright's own browser download needs the internet, so CI installs the distro
# package instead: this script does that when the binary is missing, and nothing otherwise.
set -euo pipefail
chromium="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$chromium" ]; then
  exit 0
fi
echo "chromium missing: installing Debian's package" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
# Wait for another apt (a parallel job, unattended upgrades) instead of failing on its lock.
apt=(apt-get -o DPkg::Lock::Timeout=600)
$sudo "${apt[@]}" update -qq
$sudo env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq chromium >/dev/null
if [ ! -x "$chromium" ]; then
  echo "chromium is still missing at $chromium after apt-get install" >&2
  exit 1
fi
"$chromium" --version >&2 || true
