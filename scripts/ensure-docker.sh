#!/usr/bin/env bash
# Ensure a working local Docker engine for the spcs-iac "local" target.
#
# - Installs Debian's docker.io (plus iptables, docker-registry, mmdebstrap used by the
#   sibling scripts) with apt-get when missing; `apt-get update` runs only when installing.
# - Starts dockerd in the background when `docker info` fails (no systemd here), logging to
#   $SPCS_IAC_DOCKERD_LOG, and waits up to $SPCS_IAC_DOCKER_WAIT seconds for it.
#
# Verified on Debian bookworm (kernel 6.18, cgroup v1 hybrid, ext4 root, iptables-nft):
# dockerd 20.10 needs NO extra flags. Defaults give overlay2, cgroupfs, iptables (nft backend)
# and the userland proxy, and with them user-defined bridge networks with aliases,
# `-p 127.0.0.1::8080` publishing, `internal` networks (forwarding dropped) and
# container->host traffic all work. Extra flags can be passed via SPCS_IAC_DOCKERD_FLAGS.
# Caveat: an `internal` network still reaches the HOST's own addresses (INPUT chain);
# block with `iptables -I INPUT -i <bridge> -j DROP` if that matters.
set -euo pipefail

LOG=${SPCS_IAC_DOCKERD_LOG:-/var/log/spcs-iac-dockerd.log}
WAIT=${SPCS_IAC_DOCKER_WAIT:-60}
read -r -a DOCKERD_FLAGS <<<"${SPCS_IAC_DOCKERD_FLAGS:-}"

log() { echo "ensure-docker: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: cannot install or start dockerd"
  SUDO=(sudo)
fi

# Install Debian packages that are missing; services must not be auto-started by postinst.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} (apt-get)..."
  local guard=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${SUDO[@]}" chmod +x /usr/sbin/policy-rc.d; guard=1
  fi
  local rc=0
  { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } || rc=$?
  [ $guard -eq 1 ] && "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
  [ $rc -eq 0 ] || die "apt-get install ${missing[*]} failed (rc=$rc)"
}

apt_install docker.io iptables docker-registry mmdebstrap
export PATH="$PATH:/usr/sbin:/sbin"   # dockerd and iptables live in sbin
command -v docker >/dev/null || die "docker CLI not found after install"

if docker info >/dev/null 2>&1; then
  log "engine already running"
else
  # One starter at a time (parallel callers would race on the pid file / socket).
  exec 9>/tmp/spcs-iac-dockerd-start.lock
  flock -w "$WAIT" 9 || die "another ensure-docker.sh held the start lock for ${WAIT}s"
  if ! docker info >/dev/null 2>&1 && ! pidof dockerd >/dev/null; then
    log "starting dockerd ${DOCKERD_FLAGS[*]:-} (log: $LOG)"
    "${SUDO[@]}" touch "$LOG"
    echo "=== $(date -Is) spcs-iac ensure-docker: starting dockerd ${DOCKERD_FLAGS[*]:-}" | "${SUDO[@]}" tee -a "$LOG" >/dev/null
    # setsid+nohup: survive this shell; all fds redirected so CI's pipes are not held open,
    # and 9>&- so the daemon does not inherit (and hold forever) the start lock.
    "${SUDO[@]}" setsid nohup dockerd "${DOCKERD_FLAGS[@]}" </dev/null >>"$LOG" 2>&1 9>&- &
    started=$!
  fi
  log "waiting up to ${WAIT}s for the engine..."
  deadline=$((SECONDS + WAIT))
  until docker info >/dev/null 2>&1; do
    # Ours: watch its pid (pidof could miss it before exec). Else: any running dockerd.
    if { [ -n "${started:-}" ] && [ ! -d "/proc/$started" ]; } || { [ -z "${started:-}" ] && ! pidof dockerd >/dev/null; }; then
      tail -n 20 "$LOG" >&2 || true
      die "dockerd exited; see $LOG"
    fi
    [ $SECONDS -lt $deadline ] || { tail -n 20 "$LOG" >&2 || true; die "engine not ready after ${WAIT}s (a dockerd is running: check $LOG, DOCKER_HOST, socket permissions)"; }
    sleep 0.5
  done
fi

log "engine $(docker version --format 'server {{.Server.Version}} (API {{.Server.APIVersion}}), client {{.Client.Version}}')"

[ "${1:-}" = "--verify" ] || exit 0

# --- optional networking check (needs the base image from build-base-image.sh) --------------
# Same-network alias DNS, 127.0.0.1 port publishing, bridge->host, and that an `internal`
# network cannot forward out (probed with another bridge's container: no external traffic).
IMG=${SPCS_IAC_VERIFY_IMAGE:-spcs-iac/base:latest}
docker image inspect "$IMG" >/dev/null 2>&1 || die "--verify needs $IMG (scripts/build-base-image.sh)"
id=spcs-verify-$$
HTTP_PID=
cleanup() {
  docker rm -f "$id-srv" >/dev/null 2>&1 || true
  docker network rm "$id-net" "$id-int" >/dev/null 2>&1 || true
  [ -z "$HTTP_PID" ] || kill "$HTTP_PID" 2>/dev/null || true
}
trap cleanup EXIT
in_net() { docker run --rm --network "$1" "${@:3}" "$IMG" curl -sS -m 3 -o /dev/null -w '%{http_code}' "$2" 2>/dev/null || true; }
docker network create "$id-net" >/dev/null
docker network create --internal "$id-int" >/dev/null
docker run -d --name "$id-srv" --network "$id-net" --network-alias svc -p 127.0.0.1::8080 \
  "$IMG" python3 -m http.server 8080 >/dev/null
HOSTPORT=$(docker port "$id-srv" 8080/tcp | head -n1)
for _ in $(seq 50); do curl -fsS -o /dev/null "http://$HOSTPORT/" 2>/dev/null && break; sleep 0.1; done
[ "$(curl -sS -m 3 -o /dev/null -w '%{http_code}' "http://$HOSTPORT/")" = 200 ] || die "published port $HOSTPORT unreachable from host"
[ "$(in_net "$id-net" http://svc:8080/)" = 200 ] || die "alias svc unreachable on a user network"
GW=$(docker network inspect -f '{{(index .IPAM.Config 0).Gateway}}' "$id-net")
HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$HPORT" --bind "$GW" --directory /tmp >/dev/null 2>&1 &
HTTP_PID=$!
for _ in $(seq 50); do curl -fsS -o /dev/null "http://$GW:$HPORT/" 2>/dev/null && break; sleep 0.1; done
[ "$(in_net "$id-net" "http://$GW:$HPORT/")" = 200 ] || die "host ($GW) unreachable from a bridge network"
SRV_IP=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$id-net\").IPAddress}}" "$id-srv")
[ "$(in_net "$id-int" "http://$SRV_IP:8080/")" != 200 ] || die "internal network could forward to $SRV_IP"
log "verified: alias DNS, 127.0.0.1 publish ($HOSTPORT), bridge->host, internal network isolation"
