#!/usr/bin/env bash
# End-to-end check of the toolchain installed by scripts/install-pulumi.sh:
# stack init, preview, up, no-change preview, config change -> update, destroy,
# all on a local file backend in a temp dir. Prints each step's duration.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$("$here/../../install-pulumi.sh" | tail -1)
export PATH="$bin:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/Pulumi.yaml" "$here/__main__.py" "$work/"
mkdir -p "$work/state" "$work/marks" "$work/home"
export PULUMI_BACKEND_URL="file://$work/state" PULUMI_CONFIG_PASSPHRASE=test \
    PULUMI_SKIP_UPDATE_CHECK=1 PULUMI_HOME="$work/home" SMOKE_MARK_DIR="$work/marks"
cd "$work"
step() {
    local start=$SECONDS out
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out" >&2
        echo "smoke: FAILED: $*" >&2
        exit 1
    fi
    echo "smoke: ok ($((SECONDS - start))s): $*"
}
step pulumi stack init dev --non-interactive
step pulumi preview --non-interactive
step pulumi up --yes --non-interactive
[ "$(cat marks/created-m1)" = v1 ] || { echo "smoke: create did not run" >&2; exit 1; }
step pulumi preview --non-interactive --expect-no-changes
step pulumi config set content v2
step pulumi up --yes --non-interactive
[ "$(cat marks/created-m1)" = v2 ] || { echo "smoke: update did not run" >&2; exit 1; }
step pulumi destroy --yes --non-interactive
[ "$(cat marks/deleted-m1)" = v2 ] || { echo "smoke: delete did not run" >&2; exit 1; }
echo "smoke: all steps passed with $(pulumi version)"
