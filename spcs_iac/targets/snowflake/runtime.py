"""Waiting for services, pools and jobs, reading their logs, and the outputs read after an apply.

Everything here runs inside one borrowed session (the operation's), under the object's owner role,
because container status and logs need OWNERSHIP or MONITOR (reference §11.4).
"""

from __future__ import annotations

from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model.base import Resource
from spcs_iac.targets.snowflake.adapters import ADAPTERS
from spcs_iac.targets.snowflake.connection import Db, Session, poll
from spcs_iac.targets.snowflake.readback import outputs_of
from spcs_iac.targets.snowflake.sql import Stmt, Wait, literal, owner_role, show_like
from spcs_iac.targets.snowflake.values import named_row, to_bool

FAILED = ("FAILED", "INTERNAL_ERROR")
JOB_FAILED = ("FAILED", "INTERNAL_ERROR", "CANCELLED", "CANCELLING")
JOB_DONE = ("DONE",)


def show_one(db: Db, sess: Session, what: str, fqn: str, role: str | None,
             in_schema: bool = True) -> dict[str, Any] | None:
    """``SHOW <what> LIKE '<name>' [IN SCHEMA db.s]`` filtered to the exact name."""
    sql, name = show_like(what, fqn, in_schema)
    return named_row(db.run(sess, Stmt((sql,), role)), name)


def service_logs(db: Db, sess: Session, fqn: str, container: str, instance: int | str = 0, lines: int = 50,
                 role: str | None = None) -> str:
    sql = (f"SELECT SYSTEM$GET_SERVICE_LOGS({literal(fqn)}, {literal(str(instance))}, {literal(container)}, "
           f"{int(lines)})")
    rows = db.run(sess, Stmt((sql,), role))
    return str(next(iter(rows[0].values()))) if rows else ""


def _log_tail(db: Db, sess: Session, fqn: str, rows: list[dict[str, Any]], role: str | None, lines: int) -> str:
    out = []
    for row in rows[:4]:
        try:
            text = service_logs(db, sess, fqn, str(row.get("container_name")), row.get("instance_id") or 0,
                                lines, role)
        except ProviderError as exc:
            text = f"(logs unavailable: {str(exc).splitlines()[-1].strip()})"
        label = f"{row.get('container_name')} (instance {row.get('instance_id')})"
        out.append(f"  last log lines of {label}:\n" + "\n".join("    " + x for x in text.rstrip().splitlines()))
    return "\n".join(out)


def _describe_containers(rows: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  container {r.get('container_name')} (instance {r.get('instance_id')}): {r.get('status')}"
        + (f" - {r.get('message')}" if r.get("message") else "") for r in rows
    ) or "  (no containers reported)"


def wait(db: Db, sess: Session, step: Wait, *, ready_timeout: float, pool_timeout: float, log_lines: int) -> None:
    if step.what == "service_ready":
        wait_service(db, sess, step.target, step.role, ready_timeout, log_lines)
    elif step.what == "pool_suspended":
        wait_pool_suspended(db, sess, step.target, step.role, pool_timeout)
    elif step.what == "warehouse_suspended":
        suspend_warehouse(db, sess, step.target, step.role, pool_timeout)
    elif step.what == "job_done":
        wait_job(db, sess, step.target, step.role, ready_timeout, log_lines)
    else:
        raise ProviderError(f"unknown wait {step.what!r}")


def wait_service(db: Db, sess: Session, fqn: str, role: str | None, timeout: float, log_lines: int) -> None:
    """Poll ``SHOW SERVICE CONTAINERS`` until every container is READY; fail with status and logs."""
    last: list[dict[str, Any]] = []

    def check() -> bool:
        nonlocal last
        last = db.run(sess, Stmt((f"SHOW SERVICE CONTAINERS IN SERVICE {fqn}",), role))
        if not last:
            # No containers: pending, or suspended (e.g. its pool was suspended), which has nothing
            # to wait for: the new spec runs when the service resumes.
            row = show_one(db, sess, "SERVICES", fqn, role)
            return str((row or {}).get("status")).upper() in ("SUSPENDED", "SUSPENDING")
        failed = [r for r in last if str(r.get("status")).upper() in FAILED
                  or str(r.get("service_status")).upper() in FAILED]
        if failed:
            raise _service_failure(db, sess, fqn, role, failed, "failed", log_lines)
        return bool(last) and all(str(r.get("status")).upper() == "READY" for r in last)

    if not poll(check, timeout):
        waiting = [r for r in last if str(r.get("status")).upper() != "READY"] or last
        raise _service_failure(db, sess, fqn, role, waiting, f"did not become READY within {timeout:.0f}s",
                               log_lines)


def _service_failure(db: Db, sess: Session, fqn: str, role: str | None, rows: list[dict[str, Any]],
                     what: str, log_lines: int) -> ProviderError:
    logs = _log_tail(db, sess, fqn, [r for r in rows if r.get("container_name")], role, log_lines)
    return ProviderError(f"service {fqn} {what}:\n{_describe_containers(rows)}" + (f"\n{logs}" if logs else ""))


def suspend_warehouse(db: Db, sess: Session, name: str, role: str | None, timeout: float) -> None:
    """Suspend a running warehouse and wait until it is; one already suspended is left as it is (SUSPEND
    would fail on it)."""
    row = show_one(db, sess, "WAREHOUSES", name, role, in_schema=False)
    if row is None:
        raise ProviderError(f"warehouse {name} disappeared before its type could change")
    if str(row.get("state")).upper() not in ("SUSPENDED", "SUSPENDING"):
        db.run(sess, Stmt((f"ALTER WAREHOUSE {name} SUSPEND",), role))
    state = "?"

    def check() -> bool:
        nonlocal state
        found = show_one(db, sess, "WAREHOUSES", name, role, in_schema=False)
        state = str((found or {}).get("state")).upper()
        return state == "SUSPENDED"

    if not poll(check, timeout):
        raise ProviderError(f"warehouse {name} is {state}, not SUSPENDED, after {timeout:.0f}s; its type can only "
                            "change while it is suspended")


def wait_pool_suspended(db: Db, sess: Session, name: str, role: str | None, timeout: float) -> None:
    state = "?"

    def check() -> bool:
        nonlocal state
        row = show_one(db, sess, "COMPUTE POOLS", name, role, in_schema=False)
        if row is None:
            raise ProviderError(f"compute pool {name} disappeared while waiting for it to suspend")
        state = str(row.get("state")).upper()
        return state == "SUSPENDED"

    if not poll(check, timeout):
        raise ProviderError(f"compute pool {name} is {state}, not SUSPENDED, after {timeout:.0f}s; "
                            "its instance family can only change while it is fully suspended")


def wait_job(db: Db, sess: Session, fqn: str, role: str | None, timeout: float, log_lines: int) -> None:
    status = "?"

    def check() -> bool:
        nonlocal status
        row = show_one(db, sess, "JOB SERVICES", fqn, role)
        status = str((row or {}).get("status") or "?").upper()
        if status in JOB_FAILED:
            raise job_failure(db, sess, fqn, role, status, log_lines)
        return status in JOB_DONE

    if not poll(check, timeout):
        raise ProviderError(f"job service {fqn} is {status} after {timeout:.0f}s")


def job_failure(db: Db, sess: Session, fqn: str, role: str | None, status: str, log_lines: int,
                cause: str = "") -> ProviderError:
    try:
        rows = db.run(sess, Stmt((f"SHOW SERVICE CONTAINERS IN SERVICE {fqn}",), role))
    except ProviderError:
        rows = []
    logs = _log_tail(db, sess, fqn, [r for r in rows if r.get("container_name")], role, log_lines)
    head = f"job service {fqn} ended {status}" + (f": {cause}" if cause else "")
    return ProviderError(head + (f"\n{_describe_containers(rows)}" if rows else "") + (f"\n{logs}" if logs else ""))


def outputs_after(db: Db, sess: Session, r: Resource) -> dict[str, Any]:
    """Outputs Snowflake assigns on creation: repository URLs, service DNS names and ingress URLs."""
    adapter = ADAPTERS[r.kind]
    if adapter.after_apply is None:
        return {}
    role = owner_role(r)
    row = show_one(db, sess, adapter.after_apply, r.fqn, role)
    out = outputs_of(r.kind, row) if row else {}
    if adapter.public_endpoints and _declares_public_endpoint(r):  # only public ones have ingress URLs
        eps = db.run(sess, Stmt((f"SHOW ENDPOINTS IN SERVICE {r.fqn}",), role))
        urls = {str(e.get("name")): e.get("ingress_url") for e in eps if to_bool(e.get("is_public"))}
        if urls:
            out["endpoints"] = urls
    return out


def _declares_public_endpoint(r: Resource) -> bool:
    spec = getattr(r, "typed_spec", None)
    return spec is None or any(e.public for e in spec.endpoints or [])
