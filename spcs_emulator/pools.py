"""COMPUTE POOL statements."""

from __future__ import annotations

from . import props as P
from .catalog import Obj
from .columns import columns
from .context import Ctx
from .ddl_objects import require_plain
from .errors import invalid, state_error
from .parser import Parser
from .registry import handles
from .results import Result, ok, tf
from .runtime import current_instances, pool_services, pool_state, service_status
from .show import parse_show_tail

INSTANCE_FAMILIES = (
    "CPU_X64_XS", "CPU_X64_S", "CPU_X64_M", "CPU_X64_SL", "CPU_X64_L", "HIGHMEM_X64_S", "HIGHMEM_X64_M",
    "HIGHMEM_X64_L", "HIGHMEM_X64_SL", "GEN_X64_G2_2", "GEN_X64_G2_4", "GEN_X64_G2_8", "GEN_X64_G2_16",
    "GEN_X64_G2_32", "GEN_ARM_G1_2", "GEN_ARM_G1_4", "GEN_ARM_G1_8", "GEN_ARM_G1_16", "GEN_ARM_G1_32",
    "MEM_X64_G2_8", "MEM_X64_G2_32", "MEM_X64_G2_64", "MEM_X64_G2_96", "MEM_X64_G2_192", "GPU_NV_S", "GPU_NV_M",
    "GPU_NV_L", "GPU_NV_XS", "GPU_NV_SM", "GPU_NV_2M", "GPU_NV_3M", "GPU_NV_SL", "GPU_L40S_G1_8",
    "GPU_L40S_G1_16", "GPU_L40S_G1_48", "GPU_L40S_G1_192", "GPU_GCP_NV_L4_1_24G", "GPU_GCP_NV_L4_4_24G",
    "GPU_A100_G1_12", "GPU_A100_G1_48", "GPU_GCP_NV_A100_8_40G",
)
POOL_SPEC: P.Spec = {
    "MIN_NODES": (P.c_int, P.REQUIRED),
    "MAX_NODES": (P.c_int, P.REQUIRED),
    "INSTANCE_FAMILY": (P.c_kw(*INSTANCE_FAMILIES), P.REQUIRED),
    "AUTO_RESUME": (P.c_bool, True),
    "INITIALLY_SUSPENDED": (P.c_bool, False),
    "AUTO_SUSPEND_SECS": (P.c_int, 3600),
    "PLACEMENT_GROUP": (P.c_str, None),
    "BACKUP_INSTANCE_FAMILIES": (P.c_str_list, None),
    "COMMENT": (P.c_comment, None),
}
UNSETTABLE = ("AUTO_SUSPEND_SECS", "AUTO_RESUME", "PLACEMENT_GROUP", "BACKUP_INSTANCE_FAMILIES", "COMMENT")


def _validate(pr: dict[str, object]) -> None:
    if int(pr["min_nodes"]) < 1:  # type: ignore[call-overload]
        raise invalid("MIN_NODES must be greater than 0.")
    if int(pr["max_nodes"]) < int(pr["min_nodes"]):  # type: ignore[call-overload]
        raise invalid("MAX_NODES must be greater than or equal to MIN_NODES.")


def resume_pool(ctx: Ctx, pool: Obj) -> None:
    pool.props["suspended"] = False
    pool.props["ready_at"] = ctx.now + ctx.emu.ready_delay_s
    pool.props["resumed_on"] = ctx.now


@handles("CREATE COMPUTE POOL")
def create_pool(ctx: Ctx, p: Parser) -> Result:
    if ctx.or_replace:
        raise p.error(p.toks[1])
    ine = p.if_not_exists()
    key = ctx.account_key(p.name())
    if p.accept_kw("FOR", "APPLICATION"):
        p.ident()
    values = P.with_defaults(POOL_SPEC, P.parse(p, POOL_SPEC, required=["MIN_NODES", "MAX_NODES", "INSTANCE_FAMILY"]))
    p.end()
    require_plain(key, "compute pool")
    comment, pr = P.split_create(values)
    _validate(pr)
    obj = ctx.new_obj("COMPUTE POOL", key, comment, **pr)
    obj.props.update(suspended=bool(pr["initially_suspended"]), ready_at=ctx.now + ctx.emu.ready_delay_s,
                     resumed_on=None if pr["initially_suspended"] else ctx.now)
    return ctx.create(obj, ine, "Compute Pool")


@handles("ALTER COMPUTE POOL")
def alter_pool(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.account_key(p.name())
    if p.accept_kw("SET"):
        spec = {k: v for k, v in POOL_SPEC.items() if k != "INITIALLY_SUSPENDED"}
        values = P.parse(p, spec)
        if not values:
            raise p.error()
        p.end()
        pool = _target(ctx, key, ine, "MODIFY")
        if pool is None:
            return ok()
        if "INSTANCE_FAMILY" in values and values["INSTANCE_FAMILY"] != pool.props["instance_family"]:
            if pool_state(ctx.cat, pool, ctx.now) != "SUSPENDED":
                raise state_error(f"Compute pool '{key[0]}' must be suspended to change INSTANCE_FAMILY.")
        merged = dict(pool.props)
        merged.update({k.lower(): v for k, v in values.items()})
        _validate(merged)
        P.apply(pool, values)
        return ok()
    if p.accept_kw("UNSET"):
        names = P.parse_unset(p, POOL_SPEC, UNSETTABLE)
        p.end()
        pool = _target(ctx, key, ine, "MODIFY")
        if pool is not None:
            P.unset(pool, POOL_SPEC, names)
        return ok()
    if p.accept_kw("STOP", "ALL"):
        p.end()
        pool = _target(ctx, key, ine, "OPERATE")
        if pool is not None:
            for svc in pool_services(ctx.cat, key[0]):
                ctx.cat.remove("SERVICE", svc.key)
        return ok()
    if p.accept_kw("SUSPEND"):
        p.end()
        pool = _target(ctx, key, ine, "OPERATE")
        if pool is not None and not pool.props["suspended"]:
            pool.props["suspended"] = True
            for svc in pool_services(ctx.cat, key[0]):
                if not svc.props.get("is_job") and not svc.props.get("suspended"):
                    svc.props.update(suspended=True, suspended_on=ctx.now)
        return ok()
    p.expect_kw("RESUME")
    p.end()
    pool = _target(ctx, key, ine, "OPERATE")
    if pool is not None and pool.props["suspended"]:
        resume_pool(ctx, pool)
    return ok()


def _target(ctx: Ctx, key: tuple[str, ...], ine: bool, privilege: str) -> Obj | None:
    pool = ctx.cat.get("COMPUTE POOL", key)
    if pool is None:
        if ine:
            return None
        ctx.cat.require("COMPUTE POOL", key)
    assert pool is not None
    ctx.check_owner_or_priv(pool, privilege)
    pool.updated_on = ctx.now
    return pool


@handles("DROP COMPUTE POOL")
def drop_pool(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.account_key(p.name())
    p.end()
    services = [s for s in pool_services(ctx.cat, key[0]) if not s.props.get("is_job")]
    if services and ctx.cat.get("COMPUTE POOL", key) is not None:
        pool = ctx.cat.require("COMPUTE POOL", key)
        ctx.check_owner(pool)
        raise state_error(
            f"Cannot drop compute pool '{key[0]}' because it has {len(services)} service(s) running on it. "
            "Drop the services or run ALTER COMPUTE POOL ... STOP ALL first."
        )
    result = ctx.drop("COMPUTE POOL", key, ine)
    for job in pool_services(ctx.cat, key[0]):
        ctx.cat.remove("SERVICE", job.key)
    return result


POOL_COLUMNS = columns("SHOW COMPUTE POOLS")


def _pool_row(ctx: Ctx, pool: Obj) -> list[object]:
    pr = pool.props
    state = pool_state(ctx.cat, pool, ctx.now)
    services = pool_services(ctx.cat, pool.key[0])
    live = [s for s in services if service_status(s, ctx.now) in ("PENDING", "RUNNING")]
    num_services = sum(1 for s in live if not s.props.get("is_job"))
    num_jobs = sum(1 for s in live if s.props.get("is_job"))
    target = 0 if state == "SUSPENDED" else pr["min_nodes"]
    needed = sum(current_instances(s, ctx.now) for s in live)
    active = min(target, needed) if state in ("ACTIVE", "IDLE") else 0
    idle = target - active if state in ("ACTIVE", "IDLE") else 0
    backups = pr.get("backup_instance_families")
    return [pool.key[0], state, pr["min_nodes"], pr["max_nodes"], pr["instance_family"], num_services, num_jobs,
            pr["auto_suspend_secs"], tf(pr["auto_resume"]), active, idle, target, pool.created_on,
            pr.get("resumed_on"), pool.updated_on, pool.owner, pool.comment, "false", None,
            pr.get("placement_group"), ",".join(backups) if backups else None]


@handles("SHOW COMPUTE POOLS")
def show_pools(ctx: Ctx, p: Parser) -> Result:
    f = parse_show_tail(ctx, p, scopes=("ACCOUNT",))
    return Result(POOL_COLUMNS, [_pool_row(ctx, pool) for pool in f.apply(ctx.cat.list("COMPUTE POOL"))])


@handles("DESC COMPUTE POOL")
def desc_pool(ctx: Ctx, p: Parser) -> Result:
    key = ctx.account_key(p.name())
    p.end()
    pool = ctx.cat.require("COMPUTE POOL", key)
    row = _pool_row(ctx, pool) + [None, "Compute pool is " + str(_pool_row(ctx, pool)[1]).lower() + "."]
    return Result(columns("DESC COMPUTE POOL"), [row])
