#!/usr/bin/env bash
# Ensure Debian's `docker-registry` binary (distribution v2 registry) is installed.
# The Python local provider starts its own registry instance; this only guarantees the binary.
#
# Minimal config, verified with docker-registry 2.8.2 + dockerd 20.10
# (also in scripts/registry-config.example.yml):
#
#   version: 0.1
#   log: {level: warn}
#   storage:
#     filesystem: {rootdirectory: <dir>}   # created if missing
#     delete: {enabled: true}              # manifest DELETE by digest -> 202
#   http: {addr: 127.0.0.1:<port>}
#
#   docker-registry serve <config>
#
# `docker push 127.0.0.1:<port>/db/schema/repo/img:tag` works with no daemon config: Docker
# treats 127.0.0.0/8 (and localhost) registries as insecure-allowed by default.
#
# Usage: ensure-registry.sh [--verify]   (--verify: start a throwaway registry, push/pull/delete)
set -euo pipefail

log() { echo "ensure-registry: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)

if ! command -v docker-registry >/dev/null; then
  log "docker-registry missing; installing it (apt-get)"
  # No service autostart from postinst (its default config would grab :5000).
  guard=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${SUDO[@]}" chmod +x /usr/sbin/policy-rc.d; guard=1
  fi
  rc=0
  { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null; } || rc=$?
  [ $guard -eq 1 ] && "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
  [ $rc -eq 0 ] || die "apt-get install docker-registry failed (rc=$rc)"
fi
BIN=$(command -v docker-registry)
log "$("$BIN" --version)"

[ "${1:-}" = "--verify" ] || exit 0

# --- optional end-to-end check against a throwaway instance ---------------------------------
docker info >/dev/null 2>&1 || die "--verify needs a Docker engine (scripts/ensure-docker.sh)"
DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REF=127.0.0.1:$PORT/db/schema/repo/img:tag
PID=
cleanup() {
  [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
  docker rmi "$REF" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
sed -e "s#rootdirectory: .*#rootdirectory: $DIR/data#" -e "s#addr: .*#addr: 127.0.0.1:$PORT#" \
  "$(dirname "$0")/registry-config.example.yml" >"$DIR/config.yml"
"$BIN" serve "$DIR/config.yml" >"$DIR/log" 2>&1 &
PID=$!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null || { cat "$DIR/log" >&2; die "registry did not start"; }
# A one-file image made locally (nothing to pull).
echo spcs-iac >"$DIR/hello"
tar -C "$DIR" -c hello | docker import - "$REF" >/dev/null
docker push -q "$REF" >/dev/null || die "docker push $REF failed"
{ docker rmi "$REF" >/dev/null && docker pull -q "$REF" >/dev/null; } || die "docker pull $REF failed"
DIGEST=$(curl -fsSI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://127.0.0.1:$PORT/v2/db/schema/repo/img/manifests/tag" | tr -d '\r' |
  awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$PORT/v2/db/schema/repo/img/manifests/$DIGEST")
[ "$code" = 202 ] || die "manifest DELETE returned $code"
log "verified push/pull/delete of $REF"
