#!/usr/bin/env bash
# Bring the quickstart up on the local target (Docker) and call its service function.
# Usage: scripts/quickstart.sh [extra apply options]; tear down with:
#   spcs-iac destroy stacks/quickstart.py --yes
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh
python3 -m pip install --quiet --disable-pip-version-check -e .
# Offline machines build the example images from the locally built base image.
export SPCS_IAC_BASE_IMAGE="${SPCS_IAC_BASE_IMAGE:-spcs-iac/base:bookworm-py3}"

spcs-iac apply stacks/quickstart.py --yes "$@"
spcs-iac status CONTAINER_HOL_DB.PUBLIC.CONVERT_API
echo "CONVERT_UDF(12) = $(spcs-iac call CONTAINER_HOL_DB.PUBLIC.CONVERT_UDF 12)"
