#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: system parts (Docker engine, registry, offline base
# image, Pulumi CLI), the package with its test extras, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh
PULUMI_BIN="$(bash scripts/install-pulumi.sh | tail -n 1)"
export PATH="$PULUMI_BIN:$PATH"
python3 -m pip install --quiet --disable-pip-version-check -e '.[dev]'

export SPCS_IAC_BASE_IMAGE="${SPCS_IAC_BASE_IMAGE:-spcs-iac/base:bookworm-py3}"
# tests/conformance/ makes a virtualenv per third-party client with scripts/conformance-env.sh (the
# Snowflake CLI, Titan Core, and this project on the oldest snowflake-connector-python it allows; this
# environment has the newest), kept in $SPCS_IAC_VENVS between runs.
exec python3 -m pytest -q -p no:cacheprovider "$@"
