"""Names, labels and paths of everything the local target creates.

Every Docker object carries the three labels below, so reads can find a stack's objects with one
filtered list call and destroy can remove exactly what the stack created.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

LABEL_STACK = "spcs-iac.stack"  # stack name
LABEL_OBJECT = "spcs-iac.object"  # address of the object (service.DB.SCHEMA.NAME, compute_pool.P, ...)
LABEL_HASH = "spcs-iac.hash"  # config fingerprint the Docker object was created from
LABEL_INSTANCE = "spcs-iac.instance"  # service instance id (0-based)
LABEL_GEN = "spcs-iac.generation"  # random id of one incarnation of an instance (rolling upgrades)
LABEL_CONTAINER = "spcs-iac.container"  # container name from the spec
LABEL_ROLE = "spcs-iac.role"  # ROLE_NETNS, ROLE_MEMBER or ROLE_PROXY
LABEL_POOL = "spcs-iac.pool"  # internal network of the pool it runs on (unique per stack and pool)
LABEL_FLAVOUR = "spcs-iac.flavour"  # network flavour: internal / egress / ingress

ROLE_NETNS = "netns"  # owns an instance's network namespace; runs no user code (a pod's pause container)
ROLE_MEMBER = "member"  # a spec container, joined to its instance's namespace
ROLE_PROXY = "proxy"  # a service's endpoint proxy: publishes public endpoints, spreads over instances

DEFAULT_STATE_DIR = ".spcs-iac"


def local_dir(state_dir: str | os.PathLike[str] | None) -> Path:
    """``<state_dir>/local``: same resolution as the state store (argument, env, default)."""
    base = Path(state_dir or os.environ.get("SPCS_IAC_STATE_DIR") or DEFAULT_STATE_DIR)
    return base.expanduser().resolve() / "local"


def slug(text: str) -> str:
    """Docker-name-safe lower-case form: letters, digits, '_', '.', '-'."""
    out = re.sub(r"[^a-z0-9_.-]+", "-", text.lower().replace('"', "")).strip("-.")
    return out or "x"


def dns_label(service_name: str) -> str:
    """A service's DNS name inside the pool network: ``CONVERT_API`` -> ``convert-api``."""
    return re.sub(r"[^a-z0-9-]+", "-", service_name.replace('"', "").lower().replace("_", "-")).strip("-")


def domain_label(name: str) -> str:
    """A database's or schema's label in a service's DNS name. ``_`` reads as ``-``; a name with any other
    character a DNS label cannot hold (``$``) also carries a hash of itself, so that A_B and A$B (both
    ``a-b``) give two domains, as Snowflake's hashed domains do."""
    label = dns_label(name)
    if re.fullmatch(r"[A-Z0-9_]+", name.replace('"', "")):
        return label
    return f"{label}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"


def network_name(stack: str, pool: str, flavour: str = "internal") -> str:
    base = f"spcs-{slug(stack)}-{slug(pool)}"
    return base if flavour == "internal" else f"{base}-{flavour}"


def new_generation() -> str:
    return secrets.token_hex(3)[:5]


def container_name(stack: str, service: str, instance: int, gen: str, container: str) -> str:
    # The random generation keeps names unique across rolling upgrades and across schemas.
    return f"spcs-{slug(stack)}-{dns_label(service)}-{instance}-{gen}-{container}"


def netns_name(stack: str, service: str, instance: int, gen: str) -> str:
    # '.' cannot appear in a spec container name, so this never collides with one.
    return f"spcs-{slug(stack)}-{dns_label(service)}-{instance}-{gen}.netns"


def proxy_name(stack: str, service: str, schema: str, database: str, address: str) -> str:
    """A service's endpoint proxy container. The labels are for reading; the hash of the service's address
    keeps apart services they merge (schemas A_B and A$B both read ``a-b``), which would otherwise fight
    over one container name. Proxies are found by label, so those made under the earlier name (no hash)
    keep serving until their ports change."""
    digest = hashlib.sha256(address.encode()).hexdigest()[:6]
    return f"spcs-{slug(stack)}-{dns_label(service)}.{dns_label(schema)}.{dns_label(database)}-{digest}.proxy"


def role(summary: dict) -> str:
    """The role label of a container summary or inspect result (older containers: member)."""
    labels = summary.get("Labels") or (summary.get("Config") or {}).get("Labels") or {}
    return str(labels.get(LABEL_ROLE) or ROLE_MEMBER)


def volume_name(stack: str, service: str, instance: int, gen: str | None, volume: str, address: str = "") -> str:
    """A service instance's Docker volume. With ``address``, a hash of it keeps apart services of one name in
    several schemas or databases: block volumes have no generation to tell them apart, and same-named
    services would share their data. (Without it: the name volumes were made under before, still in use.)"""
    mid = f"{instance}-{gen}" if gen else f"{instance}"
    owner = f"-{hashlib.sha256(address.encode()).hexdigest()[:6]}" if address else ""
    return f"spcs-{slug(stack)}-{dns_label(service)}{owner}-{mid}-{volume}"


def base_labels(stack: str, address: str, config_hash: str) -> dict[str, str]:
    return {LABEL_STACK: stack, LABEL_OBJECT: address, LABEL_HASH: config_hash}


def stage_dir(root: Path, database: str, schema: str, stage: str, path: str = "") -> Path:
    """Host directory backing a stage (and a sub path of it); survives suspend/resume and destroy."""
    base = root / "stages" / _part(database) / _part(schema) / _part(stage)
    rel = [p for p in path.strip("/").split("/") if p and p not in (".", "..")]
    return base.joinpath(*rel) if rel else base


def session_dir(root: Path, stack: str, service_fqn: str) -> Path:
    """Host directory of a service's session tokens (one sub directory per container). The slugs are for
    reading; the hash keeps apart services they merge (``"dev".S.API`` and ``DEV.S.API``, stacks ``App`` and
    ``app``), which would otherwise share one token and one connections.toml."""
    digest = hashlib.sha256(f"{stack}\0{service_fqn}".encode()).hexdigest()[:10]
    return root / "session" / slug(stack) / f"{slug(service_fqn)}-{digest}"


def _part(name: str) -> str:
    """One directory per stored name, never the same for two names: '%', '/' and '"' are %-escaped, and so
    are the dots of "." and ".." (a quoted name may be ".."; unescaped it would climb out of stages/)."""
    if name in (".", ".."):
        return name.replace(".", "%2E")
    return re.sub(r'[%/"]', lambda m: f"%{ord(m.group()):02X}", name) or "%"  # "%": never an escape
