"""The image and commands of the containers the local target adds around user containers.

Two kinds of helper containers run no user code:

- one network-namespace owner per instance (as a Kubernetes pod's pause container): it holds the
  instance's network, DNS aliases and firewall, so any user container can restart alone and rejoin it;
- one endpoint proxy per service with HTTP endpoints (``edge.py``): Debian's haproxy.

Both use the *infra image*: ``SPCS_IAC_INFRA_IMAGE`` if set; else the offline base image
(``scripts/build-base-image.sh`` installs haproxy and iptables in it); else one built here from
``debian:bookworm-slim`` (needs a registry to pull from). It must have sh, sleep, curl, haproxy, iptables.
"""

from __future__ import annotations

import io
import os
import threading
from typing import Any

from spcs_iac.errors import ProviderError

INFRA_ENV = "SPCS_IAC_INFRA_IMAGE"
BASE_IMAGE = "spcs-iac/base:bookworm-py3"
BUILT_IMAGE = "spcs-iac/infra:1"
NEEDS = ("haproxy", "iptables")
DOCKERFILE = """\
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends haproxy iptables curl ca-certificates \\
    && rm -rf /var/lib/apt/lists/*
"""
READY_MARK = "spcs-iac: namespace ready"
_lock = threading.Lock()
_resolved: dict[int, str] = {}


def infra_image(client: Any) -> str:
    """The infra image, available locally (resolved once per Docker client)."""
    import docker

    with _lock:
        if id(client) in _resolved:
            return _resolved[id(client)]
        explicit = os.environ.get(INFRA_ENV)
        if explicit:
            try:
                client.images.get(explicit)
            except docker.errors.ImageNotFound:
                _pull(client, explicit)
            image = explicit
        else:
            image = _offline_base(client) or _built(client)
        _resolved[id(client)] = image
        return image


def _offline_base(client: Any) -> str | None:
    import docker

    for ref in dict.fromkeys([os.environ.get("SPCS_IAC_BASE_IMAGE") or BASE_IMAGE, BASE_IMAGE]):
        try:
            labels = client.images.get(ref).labels or {}
        except docker.errors.ImageNotFound:
            continue
        packages = labels.get("org.spcs-iac.base.packages", "").split(",")
        if all(p in packages for p in NEEDS):
            return ref
    return None


def _built(client: Any) -> str:
    import docker

    try:
        client.images.get(BUILT_IMAGE)
        return BUILT_IMAGE
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.build(fileobj=io.BytesIO(DOCKERFILE.encode()), tag=BUILT_IMAGE, rm=True, forcerm=True)
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        raise ProviderError(
            f"the local target needs an image with haproxy and iptables for its namespace owners and endpoint "
            f"proxies, and could not build {BUILT_IMAGE} from debian:bookworm-slim ({exc}). Offline, build the "
            f"base image with bash scripts/build-base-image.sh, or set {INFRA_ENV} to such an image."
        ) from None
    return BUILT_IMAGE


def _pull(client: Any, ref: str) -> None:
    import docker

    try:
        client.images.pull(ref)
    except docker.errors.APIError as exc:
        raise ProviderError(f"{INFRA_ENV}={ref}: the image is not available locally and cannot be pulled: "
                            f"{exc.explanation or exc}") from None


def netns_command(subnet: str | None, gateway: str | None) -> list[str]:
    """What the namespace owner runs: a firewall, then sleep.

    New inbound connections are accepted only from the pool network (other instances, other services,
    the endpoint proxy), never from the host's address on a bridge: private endpoints and undeclared
    ports stay unreachable from the host, as in SPCS. The rules live in the owner's command so that a
    restarted owner (a new namespace) sets them again."""
    rules = ["-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"]
    if gateway:  # the host's address on the pool bridge, where the bridge has one
        rules += [f"-A INPUT -s {gateway} -p tcp -j REJECT --reject-with tcp-reset", f"-A INPUT -s {gateway} -j DROP"]
    if subnet:
        rules.append(f"-A INPUT -s {subnet} -j ACCEPT")
    rules += ["-A INPUT -p tcp -j REJECT --reject-with tcp-reset", "-A INPUT -j DROP"]
    # iptables-legacy where the nf_tables backend is unavailable.
    script = ("IPT=iptables; $IPT -S >/dev/null 2>&1 || IPT=iptables-legacy; "
              + " && ".join(f"$IPT {r}" for r in rules)
              + f" && echo '{READY_MARK}' && exec sleep infinity")
    return ["sh", "-c", script]
