#!/usr/bin/env bash
# A virtualenv per third-party client the conformance suite (tests/conformance/) runs against the emulator,
# installed from PyPI with its own pins (they conflict with each other and with this project's):
#   snowcli            the Snowflake CLI (`snow`)
#   titan              Titan Core (its connector pin, 3.12.3, is the one that needs a numeric sendResultTime)
#   connector-oldest   this project with the oldest snowflake-connector-python pyproject.toml allows
# Usage: scripts/conformance-env.sh NAME   -> prints the virtualenv's bin directory on the last line.
# Virtualenvs are kept in $SPCS_IAC_VENVS (default ~/.cache/spcs-iac/venvs), one per client and pin.
set -euo pipefail
cd "$(dirname "$0")/.."

name="${1:?usage: scripts/conformance-env.sh snowcli|titan|connector-oldest}"
root="${SPCS_IAC_VENVS:-$HOME/.cache/spcs-iac/venvs}"
oldest="$(python3 - <<'EOF'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
spec = next(d for d in deps if d.startswith("snowflake-connector-python"))
print(re.search(r">=\s*([0-9.]+)", spec).group(1))
EOF
)"
case "$name" in
  snowcli) packages=("snowflake-cli==3.30.0"); pin="3.30.0" ;;
  titan) packages=("titan-core==0.11.1"); pin="0.11.1" ;;
  connector-oldest)
    # The lower bound as pyproject.toml states it ("3.12" means 3.12.0).
    version="$oldest"; [[ "$version" =~ ^[0-9]+\.[0-9]+$ ]] && version="$version.0"
    packages=(-e . "snowflake-connector-python==$version" "pytest>=8" "pytest-timeout>=2.3"); pin="$version" ;;
  *) echo "unknown client: $name" >&2; exit 2 ;;
esac

venv="$root/$name-$pin"
if [[ ! -x "$venv/bin/python" || ! -f "$venv/.complete" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}" >&2
  touch "$venv/.complete"
elif [[ "$name" == connector-oldest ]]; then
  # The project is installed editable: refresh only its metadata when pyproject.toml changed.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e . >&2
fi
echo "$venv/bin"
