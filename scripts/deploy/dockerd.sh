#!/usr/bin/env bash
# Makes a Docker engine answer on /var/run/docker.sock: installs Debian's docker.io when no
# dockerd exists and starts one when none runs. Idempotent; safe to call before every deploy.
#
# Usage: scripts/deploy/dockerd.sh            (log: ${XDG_CACHE_HOME:-~/.cache}/rtdatastream/dockerd.log)
#   RTDS_DOCKERD_TIMEOUT=60  seconds to wait for the socket
set -euo pipefail

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/rtdatastream"
LOG="$CACHE/dockerd.log"
SOCK="/var/run/docker.sock"
TIMEOUT="${RTDS_DOCKERD_TIMEOUT:-60}"

log() { printf '[dockerd.sh] %s\n' "$*" >&2; }
die() { printf '[dockerd.sh] error: %s\n' "$*" >&2; exit 1; }

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if command -v docker >/dev/null && engine_answers; then
  log "engine $(docker version --format '{{.Server.Version}}') already answers"
  exit 0
fi

if ! command -v dockerd >/dev/null; then
  command -v apt-get >/dev/null || die "no dockerd and no apt-get: install Docker Engine by hand"
  log "installing Debian's docker.io"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
    docker.io iptables ca-certificates >/dev/null
fi

if ! pgrep -x dockerd >/dev/null; then
  mkdir -p "$CACHE"
  log "starting dockerd (log: $LOG)"
  # setsid: the engine must outlive the shell (and the test runner) that started it.
  as_root setsid dockerd >>"$LOG" 2>&1 < /dev/null &
fi

for _ in $(seq 1 "$TIMEOUT"); do
  if [ -S "$SOCK" ] && engine_answers; then
    log "engine $(docker version --format '{{.Server.Version}}') answers on $SOCK"
    exit 0
  fi
  sleep 1
done
tail -20 "$LOG" >&2 || true
die "dockerd did not answer on $SOCK within ${TIMEOUT}s (see $LOG)"
