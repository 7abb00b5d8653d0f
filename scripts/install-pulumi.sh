#!/usr/bin/env bash
# Build and install the Pulumi CLI (plus the Python language host, the
# dynamic-provider launcher and spcs-iac's resource provider plugin) from Go
# modules, into a per-version cache dir.
#
#   export PATH="$(scripts/install-pulumi.sh | tail -1):$PATH"
#
# The last stdout line is the bin dir; progress goes to stderr.
#
# Which version:
#   1. $SPCS_IAC_PULUMI_VERSION when set;
#   2. else the version of the installed Python SDK (`pip show pulumi`), so CLI
#      and SDK match; when the Go module proxy does not serve that version of
#      github.com/pulumi/pulumi/pkg/v3, the nearest newer one it serves (the
#      newest patch of that minor: a newer CLI with an older SDK is supported);
#   3. the pinned version in scripts/pulumi/cli/go.mod as the fallback when the
#      others cannot be built.
#   A cached build of a candidate is used without rebuilding. The version used is
#   recorded in $SPCS_IAC_TOOLS/pulumi-selected (and `current` links to it);
#   versions whose build failed are listed in $SPCS_IAC_TOOLS/pulumi-failed and
#   not tried again (delete the file, or use --force, to retry).
#
# Why it is built like this:
#   * The Pulumi CLI is on neither PyPI nor Debian and no prebuilt binary can be
#     downloaded here, so it is built with the machine's Go from the Go module
#     proxy. `go install github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@vX` refuses
#     because pkg's go.mod has replace directives, so scripts/pulumi/cli is a
#     wrapper module that requires pkg+sdk at the same version and repeats the
#     replaces, and `go build` is run inside it (for another version than the
#     pin, go.mod is retargeted and go.sum filled in by go).
#   * The upstream Go module of the Python language host is not served at all,
#     so scripts/pulumi/python provides a small Python language host
#     (pulumi-language-python) and the dynamic-provider launcher
#     (pulumi-resource-pulumi-python). Both run $PULUMI_PYTHON_CMD (default
#     python3), which must have `pulumi` installed.
#   * spcs-iac's native resources are served by the plugin
#     pulumi-resource-spcs-iac (python -m spcs_iac.drivers.pulumi.plugin). It is
#     registered in the plugin cache of $PULUMI_HOME (default ~/.pulumi) with
#     `pulumi plugin install`, not put on PATH (the CLI warns about plugins found
#     on PATH on every run).
#
# Environment:
#   SPCS_IAC_TOOLS           cache root (default ~/.cache/spcs-iac/tools)
#   SPCS_IAC_PULUMI_VERSION  CLI version to build (best effort; pin as fallback)
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
        -h|--help) sed -n '2,48p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
        *) die "unknown argument: $arg (use --force or --help)" ;;
    esac
done

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC="$SCRIPT_DIR/pulumi"
WRAPPER="$SRC/cli"
PYSRC="$SRC/python"
[ -f "$WRAPPER/go.mod" ] || die "missing $WRAPPER/go.mod"
[ -f "$PYSRC/pulumi_language_python_host.py" ] || die "missing $PYSRC"
PY="${PULUMI_PYTHON_CMD:-python3}"
MODULE=github.com/pulumi/pulumi/pkg/v3

PINNED=$(sed -n 's#^[[:space:]]*github.com/pulumi/pulumi/pkg/v3 v\([0-9][^[:space:]]*\).*#\1#p' "$WRAPPER/go.mod" | head -1)
[ -n "$PINNED" ] || die "cannot read the pinned pkg/v3 version from $WRAPPER/go.mod"
TOOLS="${SPCS_IAC_TOOLS:-$HOME/.cache/spcs-iac/tools}"
FAILED="$TOOLS/pulumi-failed"
mkdir -p "$TOOLS"
touch "$FAILED"

go_env() {
    export GOTOOLCHAIN=local
    # -mod=mod lets go fill in anything missing from go.sum; drop any -mod=...
    # already in GOFLAGS (go rejects the flag twice).
    local f flags="-mod=mod"
    for f in ${GOFLAGS:-}; do
        case "$f" in -mod=*) ;; *) flags="$flags $f" ;; esac
    done
    export GOFLAGS="$flags"
}

sdk_version() {
    "$PY" -c 'import importlib.metadata as m; print(m.version("pulumi"))' 2>/dev/null || true
}

# The newest patch of the lowest minor >= $1 that the module proxy lists.
nearest_served() {
    command -v go >/dev/null 2>&1 || return 0
    local want=$1 list
    list=$(cd "$WRAPPER" && go_env && go list -m -versions "$MODULE" 2>/dev/null | tr ' ' '\n' | sed -n 's/^v//p') || return 0
    local minor
    minor=$(printf '%s\n' "$list" | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' | sort -V |
            awk -v w="$want" 'BEGIN{split(w,a,".")} {split($0,b,"."); if (b[1]>a[1] || (b[1]==a[1] && (b[2]>a[2] || (b[2]==a[2] && b[3]>=a[3])))) {print b[1]"."b[2]; exit}}')
    [ -n "$minor" ] || return 0
    printf '%s\n' "$list" | grep -E "^${minor//./\\.}\.[0-9]+$" | sort -V | tail -1
}

cli_ok() {  # $1 = version
    local bin="$TOOLS/pulumi-v$1/bin/pulumi" out
    [ -x "$bin" ] || return 1
    out=$(PULUMI_SKIP_UPDATE_CHECK=1 "$bin" version 2>/dev/null) || return 1
    [ "$out" = "v$1" ]
}

build_cli() {  # $1 = version; returns non-zero when it cannot be built
    local version=$1 prefix="$TOOLS/pulumi-v$1"
    command -v go >/dev/null 2>&1 || { log "Go is required to build the Pulumi CLI (go not on PATH)"; return 1; }
    local need have
    need=$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$WRAPPER/go.mod")
    have=$(go env GOVERSION | sed 's/^go//')
    if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
        log "Go $have is too old: the Pulumi modules need go >= $need (GOTOOLCHAIN=local, no toolchain download here)"
        return 1
    fi
    local build="$prefix/build"
    rm -rf "$build"
    mkdir -p "$build" "$prefix/bin"
    cp "$WRAPPER/go.mod" "$WRAPPER/tools.go" "$build/"
    [ -f "$WRAPPER/go.sum" ] && cp "$WRAPPER/go.sum" "$build/"
    go_env
    if [ "$version" != "$PINNED" ]; then
        log "building v$version (not the pinned v$PINNED: the wrapper module is retargeted)"
        (cd "$build" && rm -f go.sum &&
            go mod edit -require="$MODULE@v$version" -require="github.com/pulumi/pulumi/sdk/v3@v$version") || return 1
    fi
    log "building pulumi v$version from Go modules (cold Go build cache: ~10 min on 2 cores; warm: ~15 s)..."
    local start=$SECONDS
    if ! (cd "$build" &&
            go build -trimpath \
                -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
                -o "$build/pulumi" "$MODULE/cmd/pulumi" >&2); then
        log "go build of $MODULE/cmd/pulumi@v$version failed (see above); a '403 Forbidden ... not available'" \
            "means the Go module proxy does not serve that version"
        rm -rf "$build"
        return 1
    fi
    mv -f "$build/pulumi" "$prefix/bin/pulumi"
    rm -rf "$build"
    log "built pulumi v$version in $((SECONDS - start))s"
}

# ---- choose the version ----------------------------------------------------------------------------
SDK=$(sdk_version)
if [ -n "${SPCS_IAC_PULUMI_VERSION:-}" ]; then
    CANDIDATES="${SPCS_IAC_PULUMI_VERSION#v}"
    WHY="SPCS_IAC_PULUMI_VERSION"
elif [ -n "$SDK" ]; then
    CANDIDATES="$SDK"
    if ! cli_ok "$SDK"; then
        NEAR=$(nearest_served "$SDK")
        [ -n "$NEAR" ] && [ "$NEAR" != "$SDK" ] && CANDIDATES="$CANDIDATES $NEAR"
    fi
    WHY="the installed Python SDK is $SDK"
else
    CANDIDATES=""
    WHY="no Python SDK found"
fi
CANDIDATES="$CANDIDATES $PINNED"

VERSION=""
exec 9>"$TOOLS/.install.lock"  # one installer at a time (parallel test workers may all call us)
command -v flock >/dev/null 2>&1 && flock 9
for v in $CANDIDATES; do
    if [ "$FORCE" = 0 ] && cli_ok "$v"; then
        log "using cached pulumi v$v ($WHY)"
        VERSION=$v
        break
    fi
    if [ "$FORCE" = 0 ] && [ "$v" != "$PINNED" ] && grep -qx "$v" "$FAILED"; then
        log "skipping v$v: its build failed before (listed in $FAILED)"
        continue
    fi
    if build_cli "$v" && cli_ok "$v"; then
        VERSION=$v
        break
    fi
    [ "$v" != "$PINNED" ] && echo "$v" >> "$FAILED"
    log "could not build v$v; trying the next candidate"
done
[ -n "$VERSION" ] || die "no Pulumi CLI could be built (candidates: $CANDIDATES)"
printf 'v%s (%s; candidates: %s)\n' "$VERSION" "$WHY" "$(echo $CANDIDATES)" > "$TOOLS/pulumi-selected"
ln -sfn "pulumi-v$VERSION" "$TOOLS/current"
log "selected pulumi v$VERSION ($WHY); recorded in $TOOLS/pulumi-selected"

PREFIX="$TOOLS/pulumi-v$VERSION"
BIN="$PREFIX/bin"
LIB="$PREFIX/lib"
mkdir -p "$BIN" "$LIB"

# ---- Python support and the spcs-iac plugin (small files: reinstalled when they changed) ------------
for f in pulumi_language_python_host.py pulumi_language_python_exec.py pulumi-resource-spcs-iac; do
    cmp -s "$PYSRC/$f" "$LIB/$f" 2>/dev/null || install -m 0755 "$PYSRC/$f" "$LIB/$f"
done
for f in pulumi-language-python pulumi-resource-pulumi-python; do
    cmp -s "$PYSRC/$f" "$BIN/$f" 2>/dev/null || install -m 0755 "$PYSRC/$f" "$BIN/$f"
done
rm -f "$BIN/pulumi-resource-spcs-iac"  # found on PATH it would be used with a warning on every run

SPCS_VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$SCRIPT_DIR/../spcs_iac/__init__.py")
if [ -n "$SPCS_VERSION" ]; then
    PULUMI_SKIP_UPDATE_CHECK=1 "$BIN/pulumi" plugin install resource spcs-iac "$SPCS_VERSION" \
        --file "$LIB/pulumi-resource-spcs-iac" --reinstall >/dev/null 2>&1 ||
        log "WARNING: could not register the spcs-iac plugin: pulumi plugin install resource spcs-iac" \
            "$SPCS_VERSION --file $LIB/pulumi-resource-spcs-iac"
fi

if ! "$PY" -c 'import pulumi, pulumi.dynamic' >/dev/null 2>&1; then
    log "WARNING: '$PY' cannot import the pulumi SDK; Python programs will fail until" \
        "it is installed there (pip install pulumi) or PULUMI_PYTHON_CMD points elsewhere"
fi

echo "$BIN"
