#!/usr/bin/env bash
# Build the offline base image spcs-iac/base:bookworm-py3 (also :latest) for the local target.
#
# Nothing can be pulled from a public registry here, so the rootfs is made with mmdebstrap
# from the Debian mirror in the host's apt sources and `docker import`ed. The image is
# cached by content: KEY = sha256(script version + suite + variant + packages); it is tagged
# spcs-iac/base:key-<KEY> and labelled org.spcs-iac.base.key=<KEY>, and the build is skipped
# when that tag exists. Set SPCS_IAC_BASE_REBUILD=1 to force a rebuild.
set -euo pipefail

VERSION=3                                   # bump when the build recipe changes
SUITE=bookworm
VARIANT=apt
# haproxy and iptables: the local target's instance namespace owners and endpoint proxies use this image
PACKAGES=python3,python3-flask,ca-certificates,curl,haproxy,iptables
REPO=spcs-iac/base
TAGS=("$REPO:$SUITE-py3" "$REPO:latest")
ENV_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "build-base-image: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

export PATH="$PATH:/usr/sbin:/sbin"
docker info >/dev/null 2>&1 || die "no Docker engine; run scripts/ensure-docker.sh first"

KEY=$(printf '%s\n' "v$VERSION" "$SUITE" "$VARIANT" "$PACKAGES" | sha256sum | cut -c1-16)
KEY_TAG="$REPO:key-$KEY"

# Serialize concurrent builders; the second one then finds the cached image.
exec 9>/tmp/spcs-iac-build-base-image.lock
flock -w 900 9 || die "another build-base-image.sh held the lock for 900s"

tag_all() { local t; for t in "${TAGS[@]}"; do docker tag "$KEY_TAG" "$t"; done; }

if [ "${SPCS_IAC_BASE_REBUILD:-0}" != 1 ] && docker image inspect "$KEY_TAG" >/dev/null 2>&1; then
  tag_all
  log "cached: ${TAGS[0]} key=$KEY id=$(docker image inspect -f '{{.Id}}' "$KEY_TAG")"
  exit 0
fi

if ! command -v mmdebstrap >/dev/null; then
  log "mmdebstrap missing; installing it (apt-get)"
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null; } ||
    die "could not install mmdebstrap"
fi

# Use the host's Debian sources for $SUITE (the only reachable mirror may be a local one);
# skip third-party repos (nodesource, google, ...). Fall back to deb.debian.org.
MIRRORS=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  grep -Eq '^[[:space:]]*(URIs:|deb)[[:space:]].*/debian(-security)?/?([[:space:]]|$)' "$f" &&
    grep -Eq "^[^#]*\b$SUITE\b" "$f" && MIRRORS+=("$f")
done
[ ${#MIRRORS[@]} -gt 0 ] || MIRRORS=("http://deb.debian.org/debian")
log "building $KEY_TAG from ${MIRRORS[*]} (packages: $PACKAGES)"

START=$SECONDS
# Import under a temporary tag: a half-written import must never look like a cache hit.
TMP_TAG="$REPO:building-$KEY"
drop_tmp() { docker rmi "$TMP_TAG" >/dev/null 2>&1 || true; }
# Stream the rootfs tar straight into `docker import` (no temporary tarball on disk).
# force-unsafe-io: dpkg's per-file fsync doubles the build time here (64s -> 30s).
# Docs/man/locales are dropped to keep the image small (copyright files kept).
# (dpkg options persist in the image's /etc/dpkg/dpkg.cfg.d/99mmdebstrap.)
mmdebstrap --quiet --variant="$VARIANT" --include="$PACKAGES" --dpkgopt=force-unsafe-io \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  "$SUITE" - "${MIRRORS[@]}" |
  docker import \
    --change 'CMD ["python3"]' \
    --change "ENV PATH=$ENV_PATH" \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PYTHONUNBUFFERED=1' \
    --change "LABEL org.spcs-iac.base.key=$KEY org.spcs-iac.base.packages=$PACKAGES" \
    --message "spcs-iac base $SUITE ($PACKAGES) key=$KEY" \
    - "$TMP_TAG" >/dev/null || { drop_tmp; die "mmdebstrap | docker import failed"; }

# Smoke tests before publishing any tag: flask imports, and an offline `docker build` FROM
# the new (local-only) image works with COPY and RUN: a pull attempt would fail here.
docker run --rm --network none "$TMP_TAG" python3 -c 'import flask' ||
  { drop_tmp; die "python3 -c 'import flask' failed in the new image"; }
CTX=$(mktemp -d)
trap 'rm -rf "$CTX"' EXIT
echo 'print(1)' >"$CTX/probe.py"
printf 'FROM %s\nCOPY probe.py /probe.py\nRUN python3 /probe.py\n' "$TMP_TAG" >"$CTX/Dockerfile"
probe=spcs-iac/base-probe:$KEY
# (legacy builder: no buildx plugin here; its deprecation notice is hidden unless it fails)
DOCKER_BUILDKIT=0 docker build -q --pull=false -t "$probe" "$CTX" >/dev/null 2>"$CTX/err" ||
  { cat "$CTX/err" >&2; drop_tmp; die "offline docker build FROM the new image failed"; }
docker rmi "$probe" >/dev/null

OLD_ID=$(docker image inspect -f '{{.Id}}' "$KEY_TAG" 2>/dev/null || true)
docker tag "$TMP_TAG" "$KEY_TAG" && drop_tmp
tag_all
# Drop images of older keys or a replaced build (best effort: containers may still use them).
for t in $(docker images "$REPO" --format '{{.Tag}}'); do
  if [[ $t == key-* && $t != "key-$KEY" ]]; then docker rmi "$REPO:$t" >/dev/null 2>&1 || true; fi
done
if [ -n "$OLD_ID" ]; then docker rmi "$OLD_ID" >/dev/null 2>&1 || true; fi

log "built ${TAGS[*]} key=$KEY id=$(docker image inspect -f '{{.Id}}' "$KEY_TAG") in $((SECONDS - START))s"
