#!/usr/bin/env bash
# Build and install the Pulumi CLI (plus the Python language host and the
# dynamic-provider launcher) from Go modules, into a per-version cache dir.
#
#   export PATH="$(scripts/install-pulumi.sh | tail -1):$PATH"
#
# The last stdout line is the bin dir; progress goes to stderr.
#
# Why it looks like this:
#   * The Pulumi CLI is on neither PyPI nor Debian and no prebuilt binary can be
#     downloaded here, so it is built with the machine's Go from the Go module
#     proxy. `go install github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@vX` refuses
#     because pkg's go.mod has replace directives, so scripts/pulumi/cli is a
#     wrapper module that requires pkg+sdk at the same version and repeats the
#     replaces, and `go build` is run inside it.
#   * The proxy reachable here serves github.com/pulumi/pulumi/pkg/v3 module
#     zips only up to v3.259.0 (newer ones answer 403), so the CLI is v3.259.0
#     while the Python SDK is newer; that combination is supported (new SDKs
#     negotiate features with the engine).
#   * The upstream Go module of the Python language host
#     (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) is not
#     served at all, so scripts/pulumi/python provides a small Python
#     implementation of the language host (pulumi-language-python) and the
#     dynamic-provider launcher (pulumi-resource-pulumi-python). Both run
#     $PULUMI_PYTHON_CMD (default python3), which must have `pulumi` installed.
#
# Environment:
#   SPCS_IAC_TOOLS           cache root (default ~/.cache/spcs-iac/tools)
#   SPCS_IAC_PULUMI_VERSION  CLI version to build (default: the pinned one in
#                            scripts/pulumi/cli/go.mod); others are best effort
#   PULUMI_PYTHON_CMD        Python interpreter for programs and providers
# Options:
#   --force                  rebuild the CLI even if a working one is cached
set -euo pipefail

log() { printf 'install-pulumi: %s\n' "$*" >&2; }
die() { printf 'install-pulumi: ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
        *) die "unknown argument: $arg (use --force or --help)" ;;
    esac
done

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC="$SCRIPT_DIR/pulumi"
WRAPPER="$SRC/cli"
PYSRC="$SRC/python"
[ -f "$WRAPPER/go.mod" ] || die "missing $WRAPPER/go.mod"
[ -f "$PYSRC/pulumi_language_python_host.py" ] || die "missing $PYSRC"

PINNED=$(sed -n 's#^[[:space:]]*github.com/pulumi/pulumi/pkg/v3 v\([0-9][^[:space:]]*\).*#\1#p' "$WRAPPER/go.mod" | head -1)
[ -n "$PINNED" ] || die "cannot read the pinned pkg/v3 version from $WRAPPER/go.mod"
VERSION="${SPCS_IAC_PULUMI_VERSION:-$PINNED}"
VERSION="${VERSION#v}"

TOOLS="${SPCS_IAC_TOOLS:-$HOME/.cache/spcs-iac/tools}"
PREFIX="$TOOLS/pulumi-v$VERSION"
BIN="$PREFIX/bin"
LIB="$PREFIX/lib"
mkdir -p "$BIN" "$LIB"

# One installer at a time per version (parallel test workers may all call us).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$PREFIX/.lock"
    flock 9
fi

cli_ok() {
    [ -x "$BIN/pulumi" ] || return 1
    local out
    out=$(PULUMI_SKIP_UPDATE_CHECK=1 "$BIN/pulumi" version 2>/dev/null) || return 1
    [ "$out" = "v$VERSION" ]
}

build_cli() {
    command -v go >/dev/null 2>&1 || die "Go is required to build the Pulumi CLI (go not on PATH)"
    local need have
    need=$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$WRAPPER/go.mod")
    have=$(go env GOVERSION | sed 's/^go//')
    if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
        die "Go $have is too old: the Pulumi modules need go >= $need (GOTOOLCHAIN=local, no toolchain download here)"
    fi

    local build="$PREFIX/build"
    rm -rf "$build"
    mkdir -p "$build"
    cp "$WRAPPER/go.mod" "$WRAPPER/tools.go" "$build/"
    [ -f "$WRAPPER/go.sum" ] && cp "$WRAPPER/go.sum" "$build/"

    export GOTOOLCHAIN=local
    # -mod=mod lets go fill in anything missing from the committed go.sum; drop
    # any -mod=... already in GOFLAGS (go rejects the flag twice).
    local f flags="-mod=mod"
    for f in ${GOFLAGS:-}; do
        case "$f" in -mod=*) ;; *) flags="$flags $f" ;; esac
    done
    export GOFLAGS="$flags"
    if [ "$VERSION" != "$PINNED" ]; then
        log "building non-pinned version v$VERSION (pinned: v$PINNED); best effort"
        (cd "$build" && rm -f go.sum &&
            go mod edit -require="github.com/pulumi/pulumi/pkg/v3@v$VERSION" \
                        -require="github.com/pulumi/pulumi/sdk/v3@v$VERSION") ||
            die "could not retarget the wrapper module to v$VERSION"
    fi

    log "building pulumi v$VERSION from Go modules (cold Go build cache: ~8 min on 2 cores; warm: ~15 s)..."
    local start=$SECONDS
    if ! (cd "$build" &&
            go build -trimpath \
                -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$VERSION" \
                -o "$build/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2); then
        die "go build of github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$VERSION failed (see above).
  A '403 Forbidden ... not available' means the Go module proxy does not serve that module version;
  the newest pkg/v3 it served when this was written is v$PINNED."
    fi
    mv -f "$build/pulumi" "$BIN/pulumi"
    rm -rf "$build"
    log "built pulumi v$VERSION in $((SECONDS - start))s"
}

install_python_support() {
    # Small files: (re)install every time so edits in scripts/pulumi/python apply.
    local f
    for f in pulumi_language_python_host.py pulumi_language_python_exec.py; do
        cmp -s "$PYSRC/$f" "$LIB/$f" 2>/dev/null || install -m 0644 "$PYSRC/$f" "$LIB/$f"
    done
    for f in pulumi-language-python pulumi-resource-pulumi-python; do
        cmp -s "$PYSRC/$f" "$BIN/$f" 2>/dev/null || install -m 0755 "$PYSRC/$f" "$BIN/$f"
    done
}

if [ "$FORCE" = 1 ] || ! cli_ok; then
    build_cli
    cli_ok || die "the built $BIN/pulumi does not report version v$VERSION"
else
    log "using cached pulumi v$VERSION in $BIN"
fi
install_python_support

PY="${PULUMI_PYTHON_CMD:-python3}"
if ! "$PY" -c 'import pulumi, pulumi.dynamic' >/dev/null 2>&1; then
    log "WARNING: '$PY' cannot import the pulumi SDK; Python programs will fail until" \
        "it is installed there (pip install pulumi) or PULUMI_PYTHON_CMD points elsewhere"
fi

echo "$BIN"
