#!/usr/bin/env bash
# System setup for the local target (used by .ci/run): Docker engine, registry binary,
# offline base image. Each step is idempotent and fast when already done.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

step() {
  local t=$SECONDS
  echo "setup-system: == $1" >&2
  bash "$here/$1" "${@:2}" || { echo "setup-system: ERROR: $1 failed" >&2; exit 1; }
  echo "setup-system: == $1 done in $((SECONDS - t))s" >&2
}

step ensure-docker.sh
step ensure-registry.sh
step build-base-image.sh
