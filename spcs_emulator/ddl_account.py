"""USE, ROLE, WAREHOUSE, DATABASE and SCHEMA statements."""

from __future__ import annotations

from . import parameters
from . import props as P
from .catalog import BUILTIN_ROLES, Obj
from .columns import columns
from .context import Ctx
from .errors import ACCESS, SqlError, does_not_exist, invalid, state_error
from .parser import Parser
from .registry import handles
from .results import Result, ok, tf, yn
from .show import parse_show_tail

# -- USE ----------------------------------------------------------------------------------------


@handles("USE ROLE")
def use_role(ctx: Ctx, p: Parser) -> Result:
    name = p.ident()
    p.end()
    if ctx.cat.get("ROLE", (name,)) is None:
        raise does_not_exist("Role", name)
    if name not in ctx.emu.usable_roles(ctx.session.user):
        # Only roles granted to the user, directly or below them (https://docs.snowflake.com/en/sql-reference/sql/use-role).
        raise SqlError("003013", "42501", f"{ACCESS}Requested role '{name}' is not assigned to the executing "
                       "user.  Specify another role to activate.")
    ctx.session.role = name
    return ok()


@handles("USE SECONDARY ROLES")
def use_secondary_roles(ctx: Ctx, p: Parser) -> Result:
    """``ALL``, ``NONE`` or a list of roles granted to the user
    (https://docs.snowflake.com/en/sql-reference/sql/use-secondary-roles)."""
    if p.accept_kw("ALL"):
        wanted = ["ALL"]
    elif p.accept_kw("NONE"):
        wanted = []
    else:
        wanted = [p.ident()]
        while p.accept_punct(","):
            wanted.append(p.ident())
        for name in wanted:
            if name not in ctx.emu.user_roles(ctx.session.user):
                raise SqlError("003013", "42501", f"{ACCESS}Requested role '{name}' is not assigned to the "
                               "executing user.  Specify another role to activate.")
    p.end()
    ctx.session.secondary = wanted
    return ok()


@handles("USE WAREHOUSE")
def use_warehouse(ctx: Ctx, p: Parser) -> Result:
    name = p.ident()
    p.end()
    ctx.cat.require("WAREHOUSE", (name,))
    ctx.session.warehouse = name
    return ok()


@handles("USE DATABASE")
def use_database(ctx: Ctx, p: Parser) -> Result:
    name = p.ident()
    p.end()
    ctx.cat.require("DATABASE", (name,))
    ctx.session.database = name
    ctx.session.schema = "PUBLIC" if ctx.cat.get("SCHEMA", (name, "PUBLIC")) else None
    return ok()


@handles("USE SCHEMA")
def use_schema(ctx: Ctx, p: Parser) -> Result:
    db, schema = ctx.schema_key(p.name(2), "USE SCHEMA")
    p.end()
    ctx.require_schema(db, schema)
    ctx.session.database, ctx.session.schema = db, schema
    return ok()


@handles("ALTER SESSION")
def alter_session(ctx: Ctx, p: Parser) -> Result:
    """Kept: the parameters the emulator acts on (MULTI_STATEMENT_COUNT); others are accepted and ignored."""
    unset = p.accept_kw("UNSET")
    if not (unset or p.accept_kw("SET")):
        raise p.error()
    while not p.at_end():
        tok = p.next()
        if tok.kind != "ident" or tok.value not in KEPT_SESSION_PARAMETERS:
            continue
        if unset:
            ctx.session.parameters.pop(tok.value, None)
        elif p.accept_punct("="):
            ctx.session.parameters[tok.value] = str(p.value().value)
    return ok()


KEPT_SESSION_PARAMETERS = frozenset({"MULTI_STATEMENT_COUNT"})


# -- ROLE ---------------------------------------------------------------------------------------
COMMENT_SPEC: P.Spec = {"COMMENT": (P.c_comment, None)}


@handles("CREATE ROLE")
def create_role(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_not_exists()
    key = ctx.account_key(p.name())
    values = P.parse(p, COMMENT_SPEC)
    p.end()
    return ctx.create(ctx.new_obj("ROLE", key, values.get("COMMENT")), ine, "Role")


def _alter_comment(ctx: Ctx, p: Parser, kind: str, key: tuple[str, ...], ine: bool,
                   spec: P.Spec = COMMENT_SPEC) -> Result:
    """ALTER <kind> name SET / UNSET of the properties (and parameters) in ``spec``."""
    if p.accept_kw("SET"):
        values = P.parse(p, spec)
        if not values:
            raise p.error()
        p.end()
        obj = ctx.alter_target(kind, key, ine)
        if obj:
            P.apply(obj, values)
    else:
        p.expect_kw("UNSET")
        names = P.parse_unset(p, spec)
        p.end()
        obj = ctx.alter_target(kind, key, ine)
        if obj:
            P.unset(obj, spec, names)
    return ok()


@handles("ALTER ROLE")
def alter_role(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.account_key(p.name())
    return _alter_comment(ctx, p, "ROLE", key, ine)


@handles("DROP ROLE")
def drop_role(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.account_key(p.name())
    p.end()
    if key[0] in BUILTIN_ROLES:
        raise invalid(f"Cannot drop system role '{key[0]}'.")
    if key[0] == ctx.role:
        raise invalid(f"Cannot drop role '{key[0]}' while it is the current role.")
    result = ctx.drop("ROLE", key, ine)
    for obj in ctx.cat.objects.values():  # Snowflake hands owned objects to the dropping role
        if obj.owner == key[0]:
            obj.owner = ctx.role
    return result


@handles("SHOW ROLES")
def show_roles(ctx: Ctx, p: Parser) -> Result:
    f = parse_show_tail(ctx, p, scopes=())
    inherited = ctx.cat.closure(ctx.role)
    cols = columns("SHOW ROLES")
    rows = []
    for role in f.apply(ctx.cat.list("ROLE")):
        name = role.key[0]
        granted_to = sum(1 for g in ctx.cat.grants if g.on_kind == "ROLE" and g.on_key == role.key)
        rows.append([role.created_on, name, yn(name == ctx.role), yn(name == ctx.role),
                     yn(name in inherited and name != ctx.role), 0, granted_to,
                     len(ctx.cat.granted_roles(name)), role.owner, role.comment])
    return Result(cols, rows)


# -- WAREHOUSE ----------------------------------------------------------------------------------
SIZES = {
    "XSMALL": "X-Small", "X-SMALL": "X-Small", "SMALL": "Small", "MEDIUM": "Medium", "LARGE": "Large",
    "XLARGE": "X-Large", "X-LARGE": "X-Large", "XXLARGE": "2X-Large", "X2LARGE": "2X-Large",
    "2X-LARGE": "2X-Large", "XXXLARGE": "3X-Large", "X3LARGE": "3X-Large", "3X-LARGE": "3X-Large",
    "X4LARGE": "4X-Large", "4X-LARGE": "4X-Large", "X5LARGE": "5X-Large", "5X-LARGE": "5X-Large",
    "X6LARGE": "6X-Large", "6X-LARGE": "6X-Large",
}
WAREHOUSE_SPEC: P.Spec = {
    "WAREHOUSE_SIZE": (P.c_kw(*SIZES), None),
    "WAREHOUSE_TYPE": (P.c_kw("STANDARD", "SNOWPARK-OPTIMIZED", "ADAPTIVE"), "STANDARD"),
    "AUTO_SUSPEND": (P.c_int_or_null, 600),
    "AUTO_RESUME": (P.c_bool, True),
    "INITIALLY_SUSPENDED": (P.c_bool, False),
    "MIN_CLUSTER_COUNT": (P.c_int, 1),
    "MAX_CLUSTER_COUNT": (P.c_int, 1),
    "SCALING_POLICY": (P.c_kw("STANDARD", "ECONOMY"), "STANDARD"),
    "ENABLE_QUERY_ACCELERATION": (P.c_bool, False),
    "QUERY_ACCELERATION_MAX_SCALE_FACTOR": (P.c_int, 8),
    "RESOURCE_MONITOR": (P.c_ident, None),
    "GENERATION": (P.c_str, None),
    "RESOURCE_CONSTRAINT": (P.c_kw(), None),
    "COMMENT": (P.c_comment, None),
    **parameters.spec("WAREHOUSE"),
}


def _wh_validate(obj: Obj) -> None:
    pr = obj.props
    if pr["min_cluster_count"] > pr["max_cluster_count"]:
        raise invalid("MIN_CLUSTER_COUNT must be less than or equal to MAX_CLUSTER_COUNT.")
    if pr.get("warehouse_size") is None:
        pr["warehouse_size"] = "MEDIUM" if pr["warehouse_type"] == "SNOWPARK-OPTIMIZED" else "XSMALL"


@handles("CREATE WAREHOUSE")
def create_warehouse(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_not_exists()
    key = ctx.account_key(p.name())
    p.accept_kw("WITH")
    values = P.with_defaults(WAREHOUSE_SPEC, P.parse(p, WAREHOUSE_SPEC))
    p.end()
    comment, pr = P.split_create(values)
    obj = ctx.new_obj("WAREHOUSE", key, comment, **pr)
    _wh_validate(obj)
    obj.props["state"] = "SUSPENDED" if pr["initially_suspended"] else "STARTED"
    obj.props["resumed_on"] = None if pr["initially_suspended"] else ctx.now
    result = ctx.create(obj, ine, "Warehouse")
    if ctx.cat.get("WAREHOUSE", key) is obj:
        ctx.session.warehouse = key[0]
    return result


@handles("ALTER WAREHOUSE")
def alter_warehouse(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.account_key(p.name())
    if p.accept_kw("SET"):
        values = P.parse(p, {k: v for k, v in WAREHOUSE_SPEC.items() if k != "INITIALLY_SUSPENDED"})
        if not values:
            raise p.error()
        p.end()
        obj = ctx.alter_target("WAREHOUSE", key, ine)
        if obj:
            # "Changing the warehouse type using the ALTER WAREHOUSE command is only supported for a warehouse
            # in the SUSPENDED state" (https://docs.snowflake.com/en/user-guide/warehouses-snowpark-optimized).
            kind = values.get("WAREHOUSE_TYPE")
            if kind is not None and kind != obj.props["warehouse_type"] and obj.props["state"] != "SUSPENDED":
                raise state_error(f"Warehouse '{key[0]}' cannot change its type while it is {obj.props['state']}: "
                                  "suspend it first.")
            P.apply(obj, values)
            _wh_validate(obj)
        return ok()
    if p.accept_kw("UNSET"):
        names = P.parse_unset(p, WAREHOUSE_SPEC, [k for k in WAREHOUSE_SPEC if k != "INITIALLY_SUSPENDED"])
        p.end()
        obj = ctx.alter_target("WAREHOUSE", key, ine)
        if obj:
            P.unset(obj, WAREHOUSE_SPEC, names)
            _wh_validate(obj)
        return ok()
    if p.accept_kw("SUSPEND"):
        p.end()
        obj = ctx.alter_target("WAREHOUSE", key, ine)
        if obj:
            if obj.props["state"] == "SUSPENDED":
                raise state_error(f"Invalid state. Warehouse '{key[0]}' cannot be suspended.")
            obj.props["state"] = "SUSPENDED"
        return ok()
    p.expect_kw("RESUME")
    if_suspended = p.accept_kw("IF", "SUSPENDED")
    p.end()
    obj = ctx.alter_target("WAREHOUSE", key, ine)
    if obj:
        if obj.props["state"] == "STARTED" and not if_suspended:
            raise state_error(f"Invalid state. Warehouse '{key[0]}' cannot be resumed because it is running.")
        if obj.props["state"] != "STARTED":
            obj.props["state"] = "STARTED"
            obj.props["resumed_on"] = ctx.now
    return ok()


@handles("DROP WAREHOUSE")
def drop_warehouse(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.account_key(p.name())
    p.end()
    result = ctx.drop("WAREHOUSE", key, ine)
    if ctx.session.warehouse == key[0]:
        ctx.session.warehouse = None
    return result


WAREHOUSE_COLUMNS = columns("SHOW WAREHOUSES")


@handles("SHOW WAREHOUSES")
def show_warehouses(ctx: Ctx, p: Parser) -> Result:
    f = parse_show_tail(ctx, p, scopes=())
    rows = []
    for wh in f.apply(ctx.cat.list("WAREHOUSE")):
        pr = wh.props
        started = pr["state"] == "STARTED"
        rows.append([
            wh.key[0], pr["state"], pr["warehouse_type"], SIZES[pr["warehouse_size"]], pr["min_cluster_count"],
            pr["max_cluster_count"], pr["min_cluster_count"] if started else 0, 0, 0, "N",
            yn(ctx.session.warehouse == wh.key[0]), pr["auto_suspend"], tf(pr["auto_resume"]),
            "100" if started else "", "0.0" if started else "", "0.0" if started else "",
            "0.0" if started else "", wh.created_on, pr.get("resumed_on"), wh.updated_on, wh.owner, wh.comment,
            tf(pr["enable_query_acceleration"]), pr["query_acceleration_max_scale_factor"],
            pr["resource_monitor"] or "null", pr["min_cluster_count"] if started else 0, 0, 0,
            0 if started else pr["min_cluster_count"], str(abs(hash(wh.key)) % 10**9), pr["scaling_policy"],
            "ROLE", pr["resource_constraint"] or ("STANDARD_GEN_1" if pr["warehouse_type"] == "STANDARD" else None),
            pr["generation"] or ("1" if pr["warehouse_type"] == "STANDARD" else None),
        ])
    return Result(WAREHOUSE_COLUMNS, rows)


# -- DATABASE / SCHEMA --------------------------------------------------------------------------
# Databases and schemas take their parameters in CREATE and ALTER ... SET / UNSET (parameters.py).
DB_SPEC: P.Spec = {"COMMENT": (P.c_comment, None), **parameters.spec("DATABASE")}
SCHEMA_SPEC: P.Spec = {"COMMENT": (P.c_comment, None), **parameters.spec("SCHEMA")}


@handles("CREATE DATABASE")
def create_database(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_not_exists()
    key = ctx.account_key(p.name())
    values = P.with_defaults(DB_SPEC, P.parse(p, DB_SPEC))
    p.end()
    comment, pr = P.split_create(values)
    obj = ctx.new_obj("DATABASE", key, comment, **pr)
    result = ctx.create(obj, ine, "Database")
    if ctx.cat.get("DATABASE", key) is obj:
        ctx.cat.add(ctx.new_obj("SCHEMA", (key[0], "PUBLIC")))
        info = ctx.new_obj("SCHEMA", (key[0], "INFORMATION_SCHEMA"), "Views describing the contents of schemas in this database", system=True)
        info.owner = ""
        ctx.cat.add(info)
        ctx.session.database, ctx.session.schema = key[0], "PUBLIC"
    return result


@handles("ALTER DATABASE")
def alter_database(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.account_key(p.name())
    return _alter_comment(ctx, p, "DATABASE", key, ine, DB_SPEC)


@handles("DROP DATABASE")
def drop_database(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.account_key(p.name())
    p.end()
    obj = ctx.cat.get("DATABASE", key)
    if obj is not None and obj.props.get("system"):
        raise invalid(f"Cannot drop database '{key[0]}'.")
    result = ctx.drop("DATABASE", key, ine)
    if ctx.session.database == key[0]:
        ctx.session.database = ctx.session.schema = None
    return result


@handles("SHOW DATABASES")
def show_databases(ctx: Ctx, p: Parser) -> Result:
    f = parse_show_tail(ctx, p, scopes=())
    cols = columns("SHOW DATABASES")
    rows = []
    for db in f.apply(ctx.cat.list("DATABASE")):
        system = bool(db.props.get("system"))
        rows.append([db.created_on, db.key[0], "N", yn(ctx.session.database == db.key[0]),
                     "SNOWFLAKE.ACCOUNT_USAGE" if system else "", db.owner, db.comment, "",
                     str(db.props.get("data_retention_time_in_days", 1)),
                     db.props.get("kind", "STANDARD"), "" if system else "ROLE"])
    return Result(cols, rows)


@handles("CREATE SCHEMA")
def create_schema(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_not_exists()
    key = ctx.schema_key(p.name(2), "CREATE SCHEMA")
    values = P.with_defaults(SCHEMA_SPEC, P.parse(p, SCHEMA_SPEC))
    p.end()
    ctx.cat.require("DATABASE", key[:1])
    comment, pr = P.split_create(values)
    obj = ctx.new_obj("SCHEMA", key, comment, **pr)
    result = ctx.create(obj, ine, "Schema")
    if ctx.cat.get("SCHEMA", key) is obj:
        ctx.session.database, ctx.session.schema = key
    return result


@handles("ALTER SCHEMA")
def alter_schema(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.schema_key(p.name(2), "ALTER SCHEMA")
    return _alter_comment(ctx, p, "SCHEMA", key, ine, SCHEMA_SPEC)


@handles("DROP SCHEMA")
def drop_schema(ctx: Ctx, p: Parser) -> Result:
    ine = p.if_exists()
    key = ctx.schema_key(p.name(2), "DROP SCHEMA")
    p.end()
    obj = ctx.cat.get("SCHEMA", key)
    if obj is not None and obj.props.get("system"):
        raise invalid(f"Cannot drop schema '{key[1]}'.")
    if obj is None and not ine:
        ctx.cat.require("DATABASE", key[:1])
    result = ctx.drop("SCHEMA", key, ine)
    if (ctx.session.database, ctx.session.schema) == key:
        ctx.session.schema = None
    return result


@handles("SHOW SCHEMAS")
def show_schemas(ctx: Ctx, p: Parser) -> Result:
    f = parse_show_tail(ctx, p, scopes=("ACCOUNT", "DATABASE"))
    cols = columns("SHOW SCHEMAS")
    rows = []
    for s in ctx.cat.list("SCHEMA"):
        if not f.keep(s.key[1], s.key) or not f.sees(s):
            continue
        current = (ctx.session.database, ctx.session.schema) == s.key
        rows.append([s.created_on, s.key[1], "N", yn(current), s.key[0], s.owner, s.comment, "",
                     str(s.props.get("data_retention_time_in_days", 1)), "" if not s.owner else "ROLE"])
    return Result(cols, rows[: f.limit] if f.limit is not None else rows)

