"""Translate a Service / JobService into a runtime description: the containers Docker should run.

The description is plain JSON and is kept in the catalog record, so operations that get only a name
(resume, status, logs, the function gateway) can act without the stack. Secret values are not part
of it; containers get them at creation from the values the provider saw during the run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Outputs, fingerprint
from spcs_iac.model.kinds.services import JobService, Service, image_for_spec
from spcs_iac.targets.local import naming

if TYPE_CHECKING:
    from spcs_iac.model.spec import Container, Volume

Runtime = dict[str, Any]
DEFAULT_TOKEN_DIR = "/snowflake/session"
SNOWFLAKE_REGISTRY = re.compile(r"^[^/]*\.registry(-[a-z]+)?\.snowflakecomputing\.com/", re.I)
UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "k": 1000, "M": 1000**2, "G": 1000**3,
         "T": 1000**4}


def parse_memory(value: str | None) -> int | None:
    if value is None:
        return None
    m = re.match(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)$", str(value))
    if not m:
        raise ProviderError(f"memory amount {value!r} is not like 512Mi or 6Gi")
    return int(float(m.group(1)) * UNITS[m.group(2)])


def parse_cpu(value: Any) -> float | None:
    if value is None:
        return None
    text = str(value)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def local_image(ref: str, registry_host: str) -> str:
    """A spec image reference as the local Docker engine pulls it from the local registry.

    ``/db/schema/repo/img:tag[@sha256:..]`` and Snowflake registry URLs map to the local registry;
    a pinned digest wins over the tag (like Snowflake, which runs the digest resolved at deploy).
    """
    if ref.startswith("/"):
        ref = f"{registry_host}{ref}"
    elif SNOWFLAKE_REGISTRY.match(ref):
        ref = f"{registry_host}/{ref.split('/', 1)[1].lower()}"
    name, at, digest = ref.partition("@")
    if at:
        slash = name.rfind("/")
        colon = name.rfind(":")
        if colon > slash:
            name = name[:colon]
        return f"{name}@{digest}"
    return ref


def build_runtime(svc: Service | JobService, outputs: Outputs, *, stack: str, registry_host: str, egress: bool,
                  pool_address: str, local_root: Path, account: str, snowflake_host: str) -> Runtime:
    spec = svc.typed_spec
    is_job = isinstance(svc, JobService)
    dns = naming.dns_label(svc.name)
    db, schema = svc.database_name, svc.schema_name
    spec_fp = svc.spec_fingerprint(outputs)
    endpoints = [
        {"name": e.name, "port": e.port, "port_range": e.port_range, "public": bool(e.public),
         "protocol": e.protocol or "HTTP"}
        for e in spec.endpoints or []
    ]
    public = any(e["public"] for e in endpoints)
    volumes = [_volume(v, svc, local_root) for v in spec.volumes or []]
    injected = {
        "SNOWFLAKE_ACCOUNT": account,
        "SNOWFLAKE_HOST": snowflake_host,
        "SNOWFLAKE_DATABASE": db,  # stored names: already unquoted
        "SNOWFLAKE_SCHEMA": schema,
        "SNOWFLAKE_SERVICE_NAME": svc.name,
    }
    containers = [
        _container(c, svc, outputs, registry_host, local_root, stack, injected["SNOWFLAKE_DATABASE"],
                   injected["SNOWFLAKE_SCHEMA"], account, snowflake_host)
        for c in spec.containers
    ]
    instances = svc.replicas if isinstance(svc, JobService) else (svc.min_instances or 1)
    rt: Runtime = {
        "kind": svc.kind, "address": svc.address, "fqn": svc.fqn, "name": svc.name, "database": db,
        "schema": schema, "dns": dns, "aliases": aliases(svc.name, db, schema), "pool": pool_address,
        "instances": instances, "job": is_job, "endpoints": endpoints, "public": public, "egress": egress,
        "volumes": volumes, "containers": containers, "env": injected, "spec": spec_fp,
    }
    # The config hash stamped on containers: what forces new containers (spec, digests, egress).
    rt["hash"] = fingerprint({"spec": spec_fp, "egress": egress, "public": public})
    return rt


def aliases(name: str, db: str, schema: str) -> list[str]:
    """The service's DNS name on its pool network: only the schema-qualified one. The bare name is not an
    alias (Docker's aliases span the whole network, and schemas sharing a pool would share it): it resolves
    through the search domain of the caller's schema (:func:`search_domain`), as in Snowflake, where a bare
    service name reaches the service of the same schema (service-to-service communications,
    https://docs.snowflake.com/en/developer-guide/snowpark-container-services/working-with-services).
    The full name stays last: records and proxies take it as ``aliases[-1]``."""
    full = f"{naming.dns_label(name)}.{naming.domain_label(schema)}.{naming.domain_label(db)}.svc.spcs.internal"
    return [f"instances.{full}", full]  # instances.<name>: every instance's address, as in Snowflake


def search_domain(rt: Runtime) -> str:
    """The DNS domain of the service's schema: a bare name looked up from its containers is tried in it."""
    return str(rt["aliases"][-1]).partition(".")[2]


def dns_name(rt: Runtime) -> str:
    """The service's full DNS name (``SHOW SERVICES.dns_name`` on Snowflake)."""
    return str(rt["aliases"][-1])


def _volume(v: Volume, svc: Service | JobService, local_root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"name": v.name, "uid": v.uid, "gid": v.gid}
    location = v.stage_location
    if location is not None:
        stage, _, sub = location.lstrip("@").partition("/")
        parts = ids.split_qualified(svc.qualify(stage))
        out.update(type="stage", host_path=str(naming.stage_dir(local_root, *parts, sub)),
                   stage=ids.qualified(*parts))
    elif v.source == "memory":
        out.update(type="memory", size=parse_memory(v.size))
    elif v.source == "block":
        out.update(type="block", size=parse_memory(v.size))
    else:
        out.update(type="local")
    return out


def _container(c: Container, svc: Service | JobService, outputs: Outputs, registry_host: str, local_root: Path,
               stack: str, db: str, schema: str, account: str, snowflake_host: str) -> dict[str, Any]:
    limits = c.resources.limits if c.resources and c.resources.limits else None
    probe = c.readiness_probe
    token = None
    if c.mount_session_token is not False:
        cfg = c.session_token_config
        target = (cfg.path if cfg and cfg.path else DEFAULT_TOKEN_DIR).rstrip("/")
        token = {
            "dir": str(naming.session_dir(local_root, stack, svc.fqn) / c.name),
            "target": target,
            "permission": (cfg.permission if cfg and cfg.permission else "0644"),
            "connection_config": bool(cfg and cfg.mount_connection_config),
            "connection": {"account": account, "host": snowflake_host, "database": db, "schema": schema},
        }
    secrets = []
    for s in c.secrets or []:
        entry: dict[str, Any] = {"secret": svc.qualify(s.secret_name)}
        if s.env_var_name:
            entry.update(env=s.env_var_name, key=s.secret_key_ref)
        else:
            entry.update(dir=s.directory_path)
        secrets.append(entry)
    return {
        "name": c.name,
        "image": local_image(image_for_spec(c, outputs), registry_host),
        "command": c.command,
        "args": c.args,
        "env": dict(c.env or {}),
        "probe": {"port": probe.port, "path": probe.path, "period": probe.period_seconds or 5,
                  "failure": probe.failure_threshold or 3} if probe else None,
        "mounts": [{"volume": m.name, "target": m.mount_path} for m in c.volume_mounts or []],
        "cpus": parse_cpu(limits.cpu) if limits else None,
        "memory": parse_memory(limits.memory) if limits else None,
        "gpus": c.resources.gpus if c.resources else 0,
        "token": token,
        "secrets": secrets,
    }
