"""Simulated SPCS runtime: service/job/pool status, containers, instances, endpoints and logs.

All state is derived lazily from timestamps stored in the catalog (``ready_at``, ``done_at``,
``upgrade_until``), so status advances without background threads:

* service: PENDING until ``ready_at`` -> RUNNING (or FAILED when an image has the ``:fail`` tag);
  SUSPENDED while suspended; ``is_upgrading`` until ``upgrade_until``.
* job: PENDING until ``ready_at`` -> RUNNING until ``done_at`` -> DONE (or FAILED for ``:fail``).
* pool: SUSPENDED | STARTING until ``ready_at`` | ACTIVE while a service/job is pending/running | IDLE.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

import yaml

from .catalog import Catalog, Obj
from .errors import SqlError

FAIL_MESSAGE = "image pull failed"


def iso(t: float | None) -> str | None:
    return None if t is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def spec_error(message: str) -> SqlError:
    return SqlError("395018", "22023", f"Invalid spec: {message}")


def parse_spec(text: str) -> dict[str, Any]:
    """Parse and minimally validate a service specification (YAML or JSON)."""
    try:
        doc = _joined(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise spec_error(f"cannot parse specification: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
        raise spec_error("missing 'spec' field.")
    containers = doc["spec"].get("containers")
    if not isinstance(containers, list) or not containers:
        raise spec_error("'spec.containers' must be a non-empty list.")
    seen: set[str] = set()
    for c in containers:
        if not isinstance(c, dict) or not c.get("name") or not c.get("image"):
            raise spec_error("every container needs 'name' and 'image'.")
        if c["name"] in seen:
            raise spec_error(f"duplicate container name '{c['name']}'.")
        seen.add(c["name"])
    endpoints = doc["spec"].get("endpoints") or []
    if not isinstance(endpoints, list):
        raise spec_error("'spec.endpoints' must be a list.")
    return doc


def _joined(value: Any) -> Any:
    """``value`` with every escaped surrogate pair (``"\\ud83d\\ude80"``, as JSON writers spell an emoji)
    joined into the one character it encodes, as a JSON reader does (RFC 8259, section 7) and Snowflake
    does reading a spec, which is YAML and so also JSON
    (https://docs.snowflake.com/en/developer-guide/snowpark-container-services/specification-reference).
    PyYAML alone would keep two lone halves."""
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    if isinstance(value, list):
        return [_joined(v) for v in value]
    if isinstance(value, dict):
        return {_joined(k): _joined(v) for k, v in value.items()}
    return value


def spec_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def image_tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"


def image_digest(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode("utf-8")).hexdigest()


def containers_of(svc: Obj) -> list[dict[str, Any]]:
    spec = svc.props.get("spec") or {}
    return list((spec.get("spec") or {}).get("containers") or [])


def endpoints_of(svc: Obj) -> list[dict[str, Any]]:
    spec = svc.props.get("spec") or {}
    return list((spec.get("spec") or {}).get("endpoints") or [])


def will_fail(svc: Obj) -> bool:
    return any(image_tag(str(c["image"])) == "fail" for c in containers_of(svc))


def service_status(svc: Obj, now: float) -> str:
    pr = svc.props
    if pr.get("is_job"):
        if now < pr["ready_at"]:
            return "PENDING"
        if now < pr["done_at"]:
            return "RUNNING"
        return "FAILED" if will_fail(svc) else "DONE"
    if pr.get("suspended"):
        return "SUSPENDED"
    if now < pr["ready_at"]:
        return "PENDING"
    return "FAILED" if will_fail(svc) else "RUNNING"


def is_upgrading(svc: Obj, now: float) -> bool:
    return now < (svc.props.get("upgrade_until") or 0)


def instance_count(svc: Obj) -> int:
    pr = svc.props
    return int(pr.get("replicas") or 1) if pr.get("is_job") else int(pr.get("min_instances") or 1)


def current_instances(svc: Obj, now: float) -> int:
    status = service_status(svc, now)
    if status in ("SUSPENDED",):
        return 0
    if svc.props.get("is_job") and status in ("DONE", "FAILED"):
        return 0
    return instance_count(svc)


def pool_services(cat: Catalog, pool: str) -> list[Obj]:
    return [s for s in cat.list("SERVICE") if s.props.get("compute_pool") == pool]


def pool_state(cat: Catalog, pool: Obj, now: float) -> str:
    if pool.props.get("suspended"):
        return "SUSPENDED"
    if now < pool.props.get("ready_at", 0):
        return "STARTING"
    for svc in pool_services(cat, pool.key[0]):
        if service_status(svc, now) in ("PENDING", "RUNNING"):
            return "ACTIVE"
    return "IDLE"


def dns_name(key: tuple[str, ...]) -> str:
    digest = hashlib.sha256(f"{key[0]}.{key[1]}".encode()).digest()
    schema_hash = base64.b32encode(digest).decode("ascii")[:4].lower()
    return f"{key[2].lower().replace('_', '-')}.{schema_hash}.svc.spcs.internal"


def container_rows(svc: Obj, now: float) -> list[dict[str, Any]]:
    """One dict per (instance, container) for SHOW SERVICE CONTAINERS and SYSTEM$GET_SERVICE_STATUS."""
    status = service_status(svc, now)
    if status == "SUSPENDED":
        return []
    rows = []
    started = svc.props.get("resumed_on") or svc.created_on
    for instance in range(instance_count(svc)):
        for c in containers_of(svc):
            image = str(c["image"])
            failed = image_tag(image) == "fail"
            row = {"instance_id": str(instance), "container_name": c["name"], "image_name": image,
                   "image_digest": image_digest(image), "restart_count": 0, "start_time": None,
                   "last_exit_code": None, "status": "PENDING", "message": "Pending scheduling",
                   "instance_status": "PENDING"}
            if status == "PENDING":
                pass
            elif failed:
                row.update(status="FAILED", message=FAIL_MESSAGE, instance_status="FAILED")
            elif status == "DONE" or (svc.props.get("is_job") and status == "FAILED"):
                row.update(status="DONE", message="Completed successfully", instance_status="SUCCEEDED",
                           last_exit_code=0, start_time=started)
            else:
                row.update(status="READY", message="Running", instance_status="READY", start_time=started)
            rows.append(row)
    return rows


def container_logs(svc: Obj, now: float, instance: int, container: str) -> list[str]:
    match = [c for c in containers_of(svc) if c["name"] == container]
    if not match or instance < 0 or instance >= instance_count(svc):
        raise SqlError("395020", "22023", f"Container '{container}' in instance {instance} of service "
                       f"'{svc.key[2]}' does not exist.")
    image = str(match[0]["image"])
    status = service_status(svc, now)
    lines = [f"starting {container} from {image}"]
    if status == "PENDING":
        return lines
    if image_tag(image) == "fail":
        return lines + [f"{container}: {FAIL_MESSAGE}: {image}", f"{container}: back-off pulling image"]
    lines.append(f"{container}: pulled {image} ({image_digest(image)[:19]})")
    for ep in endpoints_of(svc):
        if ep.get("port"):
            lines.append(f"{container}: listening on port {ep['port']} ({ep.get('name')})")
    if svc.props.get("is_job"):
        n = instance_count(svc)
        lines.append(f"{container}: job replica {instance} of {n}")
        if status == "DONE":
            lines.append(f"{container}: exited with code 0")
    else:
        lines.append(f"{container}: ready")
    for digest in svc.props.get("upgrades", []):
        lines.append(f"{container}: upgraded to spec {digest[:12]}")
    return lines
