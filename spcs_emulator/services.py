"""SERVICE and JOB SERVICE statements, and the SHOW/DESC commands that read them back."""

from __future__ import annotations

import time
import uuid
from typing import Any

import yaml

from . import access
from . import props as P
from .catalog import Obj, fmt_key
from .columns import columns
from .context import Ctx
from .ddl_objects import require_plain
from .errors import insufficient_privileges, invalid, job_failed, state_error
from .parser import Parser
from .pools import resume_pool
from .registry import handles
from .results import Result, ok, status, tf
from .runtime import (
    FAIL_MESSAGE,
    container_rows,
    current_instances,
    dns_name,
    endpoints_of,
    instance_count,
    is_upgrading,
    iso,
    parse_spec,
    service_status,
    spec_digest,
)
from .show import parse_show_tail

FORBIDDEN_OWNERS = ("ACCOUNTADMIN", "SECURITYADMIN", "ORGADMIN")
SERVICE_SPEC: P.Spec = {
    "AUTO_SUSPEND_SECS": (P.c_int, 0),
    "EXTERNAL_ACCESS_INTEGRATIONS": (P.c_ident_list, None),
    "AUTO_RESUME": (P.c_bool, True),
    "MIN_INSTANCES": (P.c_int, 1),
    "MIN_READY_INSTANCES": (P.c_int, None),
    "MAX_INSTANCES": (P.c_int, None),
    "QUERY_WAREHOUSE": (P.c_ident, None),
    "LOG_LEVEL": (P.c_str, None),
    "COMMENT": (P.c_comment, None),
}
JOB_SPEC: P.Spec = {
    "NAME": (lambda v: list(P.v_name(v)), None),
    "ASYNC": (P.c_bool, False),
    "REPLICAS": (P.c_int, 1),
    "EXTERNAL_ACCESS_INTEGRATIONS": (P.c_ident_list, None),
    "QUERY_WAREHOUSE": (P.c_ident, None),
    "LOG_LEVEL": (P.c_str, None),
    "COMMENT": (P.c_comment, None),
}


def _parse_from(ctx: Ctx, p: Parser) -> tuple[str, dict[str, Any]]:
    """``FROM SPECIFICATION <text>`` or ``FROM @stage SPECIFICATION_FILE = '<path>'``."""
    p.expect_kw("FROM")
    if p.accept_kw("SPECIFICATION"):
        return p.string(), {"source": "inline"}
    parts, sub = p.stage_location()
    p.expect_kw("SPECIFICATION_FILE")
    p.expect_punct("=")
    path = p.string()
    stage = ctx.object_key(parts, "CREATE SERVICE")
    ctx.cat.require("STAGE", stage)
    full = "/".join(x.strip("/") for x in (sub, path) if x.strip("/"))
    text = ctx.emu.stage_files.get((tuple(stage), full))
    if text is None:
        text = "spec:\n  containers: []\n"
    return text, {"source": "stage", "stage": list(stage), "specification_file": full}


def _load_spec(text: str) -> dict[str, Any]:
    if text.strip() == "spec:\n  containers: []".strip():
        return {"spec": {"containers": []}}
    return parse_spec(text)


def _check_eais(ctx: Ctx, names: list[str] | None) -> None:
    for name in names or []:
        access.require_usage(ctx, ctx.cat.require("INTEGRATION", (name,)))  # the owner role needs USAGE


def _check_create(ctx: Ctx, pool: Obj, spec: dict[str, Any]) -> None:
    """What CREATE SERVICE / EXECUTE JOB SERVICE need besides CREATE SERVICE on the schema: USAGE on the
    pool, and BIND SERVICE ENDPOINT on the account for a public endpoint
    (https://docs.snowflake.com/en/sql-reference/sql/create-service#access-control-requirements)."""
    access.require_usage(ctx, pool)
    if any(e.get("public") for e in (spec.get("spec") or {}).get("endpoints") or []):
        access.require_account(ctx, "BIND SERVICE ENDPOINT")


def _validate_instances(pr: dict[str, Any]) -> None:
    mn = pr["min_instances"]
    mx = pr.get("max_instances") or mn
    ready = pr.get("min_ready_instances") or mn
    if mn < 1 or mx < 1:
        raise invalid("MIN_INSTANCES and MAX_INSTANCES must be greater than 0.")
    if mx < mn:
        raise invalid("MAX_INSTANCES must be greater than or equal to MIN_INSTANCES.")
    if ready > mn:
        raise invalid("MIN_READY_INSTANCES must be less than or equal to MIN_INSTANCES.")


def _check_owner_role(ctx: Ctx, what: str) -> None:
    if ctx.role in FORBIDDEN_OWNERS:
        raise insufficient_privileges(
            f"Role '{ctx.role}' cannot own a {what}: services cannot be owned by ACCOUNTADMIN, SECURITYADMIN or "
            "ORGADMIN. Use a custom role with the required privileges."
        )


def _pool_for(ctx: Ctx, name: str) -> Obj:
    pool = ctx.cat.require("COMPUTE POOL", (name,))
    if pool.props.get("suspended"):
        if not pool.props.get("auto_resume"):
            raise state_error(f"Compute pool '{name}' is suspended and AUTO_RESUME is FALSE.")
        resume_pool(ctx, pool)
    return pool


def _start(ctx: Ctx, svc: Obj) -> None:
    svc.props.update(suspended=False, ready_at=ctx.now + ctx.emu.ready_delay_s, resumed_on=ctx.now)


@handles("CREATE SERVICE")
def create_service(ctx: Ctx, p: Parser) -> Result:
    if ctx.or_replace:
        raise p.error(p.toks[1])
    ine = p.if_not_exists()
    key = ctx.object_key(p.name(), "CREATE SERVICE")
    p.expect_kw("IN", "COMPUTE", "POOL")
    pool_name = p.ident()
    text, source = _parse_from(ctx, p)
    values = P.parse(p, SERVICE_SPEC)
    p.end()
    require_plain(key, "service")
    _check_owner_role(ctx, "service")
    ctx.require_schema(*key[:2])
    existing = ctx.cat.get("SERVICE", key)
    if existing is not None and ine:
        return status(f"{key[2]} already exists, statement succeeded.")
    spec = _load_spec(text)
    _check_eais(ctx, values.get("EXTERNAL_ACCESS_INTEGRATIONS"))
    comment, pr = P.split_create(P.with_defaults(SERVICE_SPEC, values))
    _validate_instances(pr)
    _check_create(ctx, _pool_for(ctx, pool_name), spec)
    svc = ctx.new_obj("SERVICE", key, comment, **pr)
    svc.props.update(compute_pool=pool_name, spec_text=text, spec=spec, spec_digest=spec_digest(text),
                     is_job=False, is_async=False, upgrades=[], suspended_on=None, upgrade_until=0, **source)
    _start(ctx, svc)
    return ctx.create(svc, ine, "Service")


@handles("ALTER SERVICE")
def alter_service(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.object_key(p.name(), "ALTER SERVICE")
    if p.at_kw("FROM"):
        text, source = _parse_from(ctx, p)
        p.end()
        svc = _alter_target(ctx, key, ine, "OPERATE")
        if svc is not None:
            spec = _load_spec(text)
            digest = spec_digest(text)
            svc.props.update(spec_text=text, spec=spec, spec_digest=digest, **source)
            svc.props["upgrades"] = [*svc.props.get("upgrades", []), digest]
            if not svc.props.get("suspended"):
                svc.props["upgrade_until"] = ctx.now + ctx.emu.ready_delay_s
        return ok()
    if p.accept_kw("SET"):
        values = P.parse(p, SERVICE_SPEC)
        if not values:
            raise p.error()
        p.end()
        svc = _alter_target(ctx, key, ine, None)
        if svc is not None:
            _check_eais(ctx, values.get("EXTERNAL_ACCESS_INTEGRATIONS"))
            merged = dict(svc.props)
            merged.update({k.lower(): v for k, v in values.items()})
            _validate_instances(merged)
            P.apply(svc, values)
        return ok()
    if p.accept_kw("UNSET"):
        names = P.parse_unset(p, SERVICE_SPEC)
        p.end()
        svc = _alter_target(ctx, key, ine, None)
        if svc is not None:
            P.unset(svc, SERVICE_SPEC, names)
            _validate_instances(svc.props)
        return ok()
    if p.accept_kw("SUSPEND"):
        p.end()
        svc = _alter_target(ctx, key, ine, "OPERATE")
        if svc is not None and not svc.props.get("suspended"):
            svc.props.update(suspended=True, suspended_on=ctx.now, upgrade_until=0)
        return ok()
    p.expect_kw("RESUME")
    p.end()
    svc = _alter_target(ctx, key, ine, "OPERATE")
    if svc is not None and svc.props.get("suspended"):
        _pool_for(ctx, svc.props["compute_pool"])
        _start(ctx, svc)
    return ok()


def _alter_target(ctx: Ctx, key: tuple[str, ...], ine: bool, privilege: str | None) -> Obj | None:
    svc = ctx.cat.get("SERVICE", key)
    if svc is None:
        if ine:
            return None
        ctx.cat.require("SERVICE", key)
    assert svc is not None
    if privilege:
        ctx.check_owner_or_priv(svc, privilege)
    else:
        ctx.check_owner(svc)
    if svc.props.get("is_job"):
        raise invalid(f"Job service '{fmt_key(key)}' cannot be altered.")
    svc.updated_on = ctx.now
    return svc


@handles("DROP SERVICE")
def drop_service(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.object_key(p.name(), "DROP SERVICE")
    p.accept_kw("FORCE")
    p.end()
    return ctx.drop("SERVICE", key, ine)


@handles("EXECUTE JOB SERVICE")
def execute_job(ctx: Ctx, p: Parser) -> Result:
    p.expect_kw("IN", "COMPUTE", "POOL")
    pool_name = p.ident()
    values: dict[str, Any] = {}
    text: str | None = None
    source: dict[str, Any] = {}
    while not p.at_end():
        if p.at_kw("FROM") and text is None:
            text, source = _parse_from(ctx, p)
            continue
        more = P.parse(p, {k: v for k, v in JOB_SPEC.items() if k not in values})
        if not more:
            raise p.error()
        values.update(more)
    p.end()
    if text is None:
        raise p.error()
    values = P.with_defaults(JOB_SPEC, values)
    parts = tuple(values.pop("NAME") or ("JOB_" + uuid.uuid4().hex.upper(),))
    key = ctx.object_key(parts, "EXECUTE JOB SERVICE")
    require_plain(key, "job service")
    _check_owner_role(ctx, "job service")
    ctx.require_schema(*key[:2])
    spec = _load_spec(text)
    _check_eais(ctx, values.get("EXTERNAL_ACCESS_INTEGRATIONS"))
    if values["REPLICAS"] < 1:
        raise invalid("REPLICAS must be greater than 0.")
    _check_create(ctx, _pool_for(ctx, pool_name), spec)
    comment, pr = P.split_create(values)
    job = ctx.new_obj("SERVICE", key, comment, **pr)
    ready = ctx.now + ctx.emu.ready_delay_s
    job.props.update(compute_pool=pool_name, spec_text=text, spec=spec, spec_digest=spec_digest(text), is_job=True,
                     is_async=bool(pr["async"]), min_instances=pr["replicas"], max_instances=pr["replicas"],
                     min_ready_instances=pr["replicas"], auto_resume=False, auto_suspend_secs=0, upgrades=[],
                     suspended=False, suspended_on=None, resumed_on=ctx.now, ready_at=ready,
                     done_at=ready + ctx.emu.ready_delay_s, upgrade_until=0, **source)
    ctx.create(job, False, "Job")
    if pr["async"]:
        return status(f"Request to execute job {key[2]} has been successfully submitted.")
    emu = ctx.emu

    def wait() -> Result:
        delay = job.props["done_at"] - time.time()
        if delay > 0:
            time.sleep(delay)
        with emu.lock:
            if service_status(job, time.time()) == "FAILED":
                raise job_failed(key[2], f"{FAIL_MESSAGE} (see SYSTEM$GET_SERVICE_LOGS for details).")
        return status(f"Job {key[2]} completed successfully with status: DONE.")

    ctx.after = wait
    return ok()


SERVICE_COLUMNS = columns("SHOW SERVICES")


def service_row(ctx: Ctx, svc: Obj) -> dict[str, Any]:
    pr = svc.props
    st = service_status(svc, ctx.now)
    mn = pr["min_instances"]
    eais = pr.get("external_access_integrations")
    return {
        "name": svc.key[2], "status": st, "database_name": svc.key[0], "schema_name": svc.key[1],
        "owner": svc.owner, "compute_pool": pr["compute_pool"], "dns_name": dns_name(svc.key),
        "current_instances": current_instances(svc, ctx.now),
        "target_instances": 0 if st == "SUSPENDED" else instance_count(svc),
        "min_ready_instances": pr.get("min_ready_instances") or mn, "min_instances": mn,
        "max_instances": pr.get("max_instances") or mn, "auto_resume": tf(pr.get("auto_resume", True)),
        "external_access_integrations": None if not eais else "[" + ",".join(f'"{e}"' for e in eais) + "]",
        "created_on": svc.created_on, "updated_on": svc.updated_on, "resumed_on": pr.get("resumed_on"),
        "suspended_on": pr.get("suspended_on"), "auto_suspend_secs": pr.get("auto_suspend_secs", 0),
        "comment": svc.comment, "owner_role_type": "ROLE", "query_warehouse": pr.get("query_warehouse"),
        "is_job": tf(bool(pr.get("is_job"))), "is_async_job": tf(bool(pr.get("is_async"))),
        "spec_digest": pr["spec_digest"], "is_upgrading": tf(is_upgrading(svc, ctx.now)),
        "managing_object_domain": None, "managing_object_name": None,
    }


@handles("SHOW SERVICES", "SHOW JOB SERVICES")
def show_services(ctx: Ctx, p: Parser) -> Result:
    jobs_only = p.toks[1].is_kw("JOB")
    exclude_jobs = p.accept_kw("EXCLUDE", "JOBS")
    f = parse_show_tail(ctx, p, scopes=("ACCOUNT", "DATABASE", "SCHEMA", "COMPUTE POOL"))
    cols = columns("SHOW JOB SERVICES" if jobs_only or exclude_jobs else "SHOW SERVICES")
    rows = []
    for svc in ctx.cat.list("SERVICE"):
        is_job = bool(svc.props.get("is_job"))
        if (jobs_only and not is_job) or (exclude_jobs and is_job):
            continue
        if f.scope == "COMPUTE POOL":
            if svc.props["compute_pool"] != f.scope_key[0] or not f.keep(svc.key[2]) or not f.sees(svc):
                continue
        elif not f.keep(svc.key[2], svc.key) or not f.sees(svc):
            continue
        row = service_row(ctx, svc)
        rows.append([row[c] for c, _ in cols])
    return Result(cols, rows[: f.limit] if f.limit is not None else rows)


@handles("DESC SERVICE", "DESC JOB SERVICE")
def desc_service(ctx: Ctx, p: Parser) -> Result:
    key = ctx.object_key(p.name(), "DESCRIBE SERVICE")
    p.end()
    svc = ctx.cat.require("SERVICE", key)
    row = service_row(ctx, svc)
    # The spec as YAML text with its characters as they are (an emoji is one character, not an escape).
    row["spec"] = (yaml.safe_dump(svc.props["spec"], sort_keys=False, allow_unicode=True)
                   if ctx.inherits_owner(svc) else None)
    cols = columns("DESC SERVICE")
    return Result(cols, [[row[c] for c, _ in cols]])


def _in_service(ctx: Ctx, p: Parser, *privileges: str) -> Obj:
    p.expect_kw("IN", "SERVICE")
    key = ctx.object_key(p.name(), "SHOW")
    p.end()
    svc = ctx.cat.require("SERVICE", key)
    ctx.check_owner_or_priv(svc, *privileges)
    return svc


@handles("SHOW SERVICE CONTAINERS")
def show_containers(ctx: Ctx, p: Parser) -> Result:
    svc = _in_service(ctx, p, "MONITOR")
    st = service_status(svc, ctx.now)
    cols = columns("SHOW SERVICE CONTAINERS")
    rows = [[svc.key[0], svc.key[1], svc.key[2], st, c["instance_id"], c["instance_status"], c["container_name"],
             c["status"], c["message"], c["image_name"], c["image_digest"], c["restart_count"], iso(c["start_time"]),
             c["last_exit_code"], None] for c in container_rows(svc, ctx.now)]
    return Result(cols, rows)


@handles("SHOW SERVICE INSTANCES")
def show_instances(ctx: Ctx, p: Parser) -> Result:
    svc = _in_service(ctx, p, "MONITOR")
    st = service_status(svc, ctx.now)
    cols = columns("SHOW SERVICE INSTANCES")
    seen: dict[str, dict[str, Any]] = {}
    for c in container_rows(svc, ctx.now):
        if c["instance_id"] not in seen or c["instance_status"] == "FAILED":
            seen[c["instance_id"]] = c
    rows = [[svc.key[0], svc.key[1], svc.key[2], st, iid, c["instance_status"], svc.props["spec_digest"],
             iso(svc.props.get("resumed_on")), iso(c["start_time"]), f"10.244.{len(svc.key[2]) % 250}.{int(iid) + 2}"]
            for iid, c in seen.items()]
    return Result(cols, rows)


@handles("SHOW ENDPOINTS")
def show_endpoints(ctx: Ctx, p: Parser) -> Result:
    svc = _in_service(ctx, p, "USAGE", "MONITOR", "OPERATE")
    running = service_status(svc, ctx.now) == "RUNNING"
    cols = columns("SHOW ENDPOINTS")
    rows = []
    for ep in endpoints_of(svc):
        public = bool(ep.get("public", False))
        url = None
        if public:
            host = dns_name(svc.key).split(".")[0]
            url = (f"{host}-{ctx.emu.account.lower()}.snowflakecomputing.app" if running
                   else "Endpoints provisioning in progress... check back in a few minutes")
        rows.append([ep.get("name"), None if ep.get("port") is None else str(ep["port"]), ep.get("portRange"),
                     str(ep.get("protocol", "HTTP")).upper(), tf(public), url])
    return Result(cols, rows)
