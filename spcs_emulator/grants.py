"""GRANT / REVOKE (privileges, roles, ownership) and SHOW GRANTS."""

from __future__ import annotations

from . import access
from .catalog import Grant, Obj, fmt_key, fmt_obj_name
from .columns import columns
from .context import Ctx
from .errors import does_not_exist, insufficient_privileges, invalid, unsupported
from .parser import Parser
from .registry import handles
from .results import Result, ok, tf
from .sqltypes import arg_display_type, display_type, parse_arg_types

# SQL object type (after ON) -> catalog kind
TARGETS = {
    ("ACCOUNT",): "ACCOUNT",
    ("DATABASE",): "DATABASE",
    ("SCHEMA",): "SCHEMA",
    ("WAREHOUSE",): "WAREHOUSE",
    ("COMPUTE", "POOL"): "COMPUTE POOL",
    ("INTEGRATION",): "INTEGRATION",
    ("EXTERNAL", "ACCESS", "INTEGRATION"): "INTEGRATION",
    ("STAGE",): "STAGE",
    ("IMAGE", "REPOSITORY"): "IMAGE REPOSITORY",
    ("SECRET",): "SECRET",
    ("SERVICE",): "SERVICE",
    ("NETWORK", "RULE"): "NETWORK RULE",
    ("FUNCTION",): "FUNCTION",
    ("TABLE",): "TABLE",
    ("ROLE",): "ROLE",
}
ACCOUNT_PRIVS = [
    "CREATE ROLE", "CREATE USER", "CREATE WAREHOUSE", "CREATE DATABASE", "CREATE INTEGRATION",
    "CREATE EXTERNAL ACCESS INTEGRATION", "CREATE COMPUTE POOL", "CREATE NETWORK POLICY", "CREATE SHARE",
    "CREATE APPLICATION", "CREATE APPLICATION PACKAGE", "BIND SERVICE ENDPOINT", "MANAGE GRANTS",
    "MONITOR USAGE", "MONITOR EXECUTION", "MONITOR SECURITY", "EXECUTE TASK", "EXECUTE MANAGED TASK",
    "IMPORT SHARE", "MANAGE WAREHOUSES", "APPLY TAG", "MANAGE SERVICE CALLER ACCESS", "MANAGE CALLER GRANT",
    "AUDIT",
]
SCHEMA_PRIVS = [
    "USAGE", "MONITOR", "MODIFY", "CREATE SERVICE", "CREATE IMAGE REPOSITORY", "CREATE STAGE",
    "CREATE FUNCTION", "CREATE NETWORK RULE", "CREATE SECRET", "CREATE TABLE", "CREATE VIEW",
    "CREATE PROCEDURE", "CREATE TASK", "CREATE SNAPSHOT", "CREATE SEQUENCE", "CREATE FILE FORMAT",
    "CREATE PIPE", "CREATE STREAM", "CREATE TAG", "CREATE MODEL",
]
PRIVS: dict[str, list[str]] = {
    "ACCOUNT": ACCOUNT_PRIVS,
    "DATABASE": ["USAGE", "MONITOR", "MODIFY", "CREATE SCHEMA", "CREATE DATABASE ROLE", "APPLYBUDGET"],
    "SCHEMA": SCHEMA_PRIVS,
    "WAREHOUSE": ["USAGE", "OPERATE", "MONITOR", "MODIFY", "APPLYBUDGET"],
    "COMPUTE POOL": ["USAGE", "MONITOR", "OPERATE", "MODIFY"],
    "INTEGRATION": ["USAGE", "USE_ANY_ROLE"],
    "STAGE": ["READ", "WRITE"],
    "IMAGE REPOSITORY": ["READ", "WRITE", "SERVICE READ", "SERVICE WRITE"],
    "SECRET": ["READ", "USAGE"],
    "SERVICE": ["MONITOR", "OPERATE", "USAGE"],
    "NETWORK RULE": ["USAGE"],
    "FUNCTION": ["USAGE"],
    "TABLE": ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "EVOLVE SCHEMA"],
}
ALL_EXCLUDES = {"USE_ANY_ROLE", "SERVICE READ", "SERVICE WRITE"}


def granted_on(kind: str) -> str:
    return kind.replace(" ", "_")


def display_name(ctx: Ctx, kind: str, key: tuple[str, ...]) -> str:
    if kind == "ACCOUNT":
        return ctx.emu.account
    fn = ctx.cat.get("FUNCTION", key) if kind == "FUNCTION" else None
    if fn is not None:
        # SHOW GRANTS names a function DB.S."NAME(ARG TYPE, ...):RETURN_TYPE", full types included
        # (https://docs.snowflake.com/en/sql-reference/sql/show-grants).
        args = ", ".join(f"{n} {arg_display_type(t)}" for n, t in fn.props["args"])
        signature = f"{key[2]}({args}):{display_type(fn.props['returns'])}"
        return fmt_key(key[:2]) + '."' + signature.replace('"', '""') + '"'
    return fmt_obj_name(kind, key)


def parse_target(ctx: Ctx, p: Parser) -> tuple[str, tuple[str, ...]]:
    """Parse ``<object type> <name>`` after ON; returns (catalog kind, key) of an existing object."""
    for words in sorted(TARGETS, key=len, reverse=True):
        if p.accept_kw(*words):
            kind = TARGETS[words]
            break
    else:
        raise p.error()
    if kind == "ACCOUNT":
        return kind, ()
    parts = p.name()
    if kind in ("DATABASE", "WAREHOUSE", "COMPUTE POOL", "INTEGRATION", "ROLE"):
        key: tuple[str, ...] = ctx.account_key(parts)
    elif kind == "SCHEMA":
        key = ctx.schema_key(parts, "GRANT")
    elif kind == "FUNCTION":
        key = (*ctx.object_key(parts, "GRANT"), parse_arg_types(p))
    else:
        key = ctx.object_key(parts, "GRANT")
    ctx.cat.require(kind, key)
    return kind, key


def parse_privileges(p: Parser) -> list[str]:
    privs: list[str] = []
    words: list[str] = []
    while True:
        tok = p.peek()
        if tok.is_kw("ON") and words:
            privs.append(" ".join(words))
            return privs
        if tok.kind == "punct" and tok.value == "," and words:
            privs.append(" ".join(words))
            words = []
            p.next()
            continue
        if tok.kind != "ident":
            raise p.error()
        words.append(p.next().value)


def _expand(p: Parser, kind: str, privs: list[str], key: tuple[str, ...]) -> list[str]:
    allowed = list(PRIVS.get(kind, []))
    if kind == "DATABASE" and key == ("SNOWFLAKE",):
        allowed = ["IMPORTED PRIVILEGES"]
    out: list[str] = []
    for priv in privs:
        if priv in ("ALL", "ALL PRIVILEGES"):
            out += [a for a in allowed if a not in ALL_EXCLUDES]
        elif priv in allowed:
            out.append(priv)
        else:
            raise invalid(f"Invalid privilege {priv} for object type {kind}.")
    return list(dict.fromkeys(out))


def _grantee(ctx: Ctx, p: Parser, word: str) -> str:
    p.expect_kw(word)
    p.accept_kw("ROLE")
    role = ctx.account_key(p.name())[0]
    ctx.cat.require("ROLE", (role,))
    return role


def _may_grant(ctx: Ctx, kind: str, key: tuple[str, ...], privs: list[str]) -> None:
    """The object's owner, a holder of MANAGE GRANTS, or a grantee WITH GRANT OPTION may grant
    (https://docs.snowflake.com/en/sql-reference/sql/grant-privilege#access-control-requirements)."""
    roles = access.roles(ctx)
    if access.manages_grants(ctx):
        return
    if kind != "ACCOUNT":
        obj = ctx.cat.require(kind, key)
        if access.owns(ctx, obj):
            return
        if not access.visible(ctx, obj):
            raise access.denied(ctx, obj)
    for priv in privs:
        if not any(g.grantee in roles and g.grant_option and g.privilege == priv and g.on_kind == kind
                   and g.on_key == key for g in ctx.cat.grants):
            raise insufficient_privileges(
                f"Insufficient privileges to grant {priv} on {kind.lower()} '{display_name(ctx, kind, key)}'."
            )


def _service_role_key(ctx: Ctx, p: Parser, action: str) -> tuple[Obj, tuple[str, ...]]:
    """``<service fqn>!<service role>``; the role must be ALL_ENDPOINTS_USAGE or declared in the spec."""
    svc_key = ctx.object_key(p.name(), action)
    p.expect_punct("!")
    role = p.ident()
    svc = ctx.cat.require("SERVICE", svc_key)
    declared = {str(r.get("name", "")).upper() for r in (svc.props.get("spec") or {}).get("serviceRoles") or []}
    if role.upper() != "ALL_ENDPOINTS_USAGE" and role.upper() not in declared:
        raise does_not_exist("Service role", f"{fmt_obj_name('SERVICE', svc_key)}!{role}")
    return svc, (*svc_key, role.upper())


def _service_role(ctx: Ctx, p: Parser) -> tuple[str, ...]:
    svc, key = _service_role_key(ctx, p, "GRANT SERVICE ROLE")
    svc_key = svc.key
    if not ctx.inherits_owner(svc):
        raise insufficient_privileges(f"Only the owner of service '{fmt_obj_name('SERVICE', svc_key)}' can grant "
                                      "its service roles.")
    return key


@handles("GRANT SERVICE ROLE", "REVOKE SERVICE ROLE")
def grant_service_role(ctx: Ctx, p: Parser) -> Result:
    revoking = p.toks[0].is_kw("REVOKE")
    key = _service_role(ctx, p)
    grantee = _grantee(ctx, p, "FROM" if revoking else "TO")
    p.end()
    existing = ctx.cat.find_grant("USAGE", "SERVICE ROLE", key, grantee)
    if revoking and existing is not None:
        ctx.cat.grants.remove(existing)
    elif not revoking and existing is None:
        ctx.cat.grants.append(Grant("USAGE", "SERVICE ROLE", key, grantee, False, ctx.role, ctx.now))
    return ok()


@handles("SHOW ROLES IN SERVICE")
def show_service_roles(ctx: Ctx, p: Parser) -> Result:
    key = ctx.object_key(p.name(), "SHOW ROLES IN SERVICE")
    p.end()
    svc = ctx.cat.require("SERVICE", key)
    roles = [str(r.get("name", "")).upper() for r in (svc.props.get("spec") or {}).get("serviceRoles") or []]
    rows = [[svc.created_on, name, None] for name in ["ALL_ENDPOINTS_USAGE", *roles]]
    return Result(columns("SHOW ROLES IN SERVICE"), rows)


@handles("GRANT")
def grant(ctx: Ctx, p: Parser) -> Result:
    if p.accept_kw("ROLE"):
        child = ctx.account_key(p.name())[0]
        if p.accept_kw("TO", "USER"):
            return _role_to_user(ctx, p, child, revoking=False)
        parent = _grantee(ctx, p, "TO")
        p.end()
        child_obj = ctx.cat.require("ROLE", (child,))
        if not (access.owns(ctx, child_obj) or access.manages_grants(ctx)):
            raise insufficient_privileges(f"Insufficient privileges to grant role '{child}'.")
        if child in ctx.cat.closure(parent) and child != "PUBLIC":
            return ok()
        if parent in ctx.cat.closure(child):
            raise invalid(f"Granting role '{child}' to role '{parent}' would create a cycle.")
        ctx.cat.grants.append(Grant("USAGE", "ROLE", (child,), parent, False, ctx.role, ctx.now))
        return ok()
    if p.accept_kw("OWNERSHIP"):
        return _grant_ownership(ctx, p)
    privs = parse_privileges(p)
    p.expect_kw("ON")
    kind, key = parse_target(ctx, p)
    if kind == "ROLE":
        raise p.error()
    expanded = _expand(p, kind, privs, key)
    grantee = _grantee(ctx, p, "TO")
    option = p.accept_kw("WITH", "GRANT", "OPTION")
    p.end()
    _may_grant(ctx, kind, key, expanded)
    if kind == "STAGE" and "WRITE" in expanded and "READ" not in expanded \
            and ctx.cat.find_grant("READ", kind, key, grantee) is None:
        raise invalid("Privilege WRITE on a stage requires the READ privilege to be granted first.")
    for priv in expanded:
        existing = ctx.cat.find_grant(priv, kind, key, grantee)
        if existing is not None:
            existing.grant_option = existing.grant_option or option
        else:
            ctx.cat.grants.append(Grant(priv, kind, key, grantee, option, ctx.role, ctx.now))
    return ok()


def _grant_ownership(ctx: Ctx, p: Parser) -> Result:
    p.expect_kw("ON")
    kind, key = parse_target(ctx, p)
    if kind == "ACCOUNT":
        raise p.error()
    new_owner = _grantee(ctx, p, "TO")
    mode = "COPY"
    if p.accept_kw("COPY", "CURRENT", "GRANTS"):
        mode = "COPY"
    elif p.accept_kw("REVOKE", "CURRENT", "GRANTS"):
        mode = "REVOKE"
    p.end()
    if kind == "SERVICE":
        raise unsupported("GRANT OWNERSHIP ON SERVICE")
    obj: Obj = ctx.cat.require(kind, key)
    if not (access.owns(ctx, obj) or access.manages_grants(ctx)):
        raise access.denied(ctx, obj)
    if mode == "REVOKE":
        ctx.cat.grants = [g for g in ctx.cat.grants if not (g.on_kind == kind and g.on_key == key)]
    obj.owner = new_owner
    return ok()


def _role_to_user(ctx: Ctx, p: Parser, role: str, revoking: bool) -> Result:
    """GRANT ROLE r TO USER u / REVOKE ROLE r FROM USER u: which roles a user may USE."""
    user = p.ident().upper()
    p.end()
    obj = ctx.cat.require("ROLE", (role,))
    if not (access.owns(ctx, obj) or access.manages_grants(ctx)):
        raise insufficient_privileges(f"Insufficient privileges to grant role '{role}'.")
    held = ctx.cat.user_grants.setdefault(user, [])
    if revoking and role in held:
        held.remove(role)
    elif not revoking and role not in held:
        held.append(role)
    return ok()


@handles("REVOKE")
def revoke(ctx: Ctx, p: Parser) -> Result:
    if p.accept_kw("ROLE"):
        child = ctx.account_key(p.name())[0]
        if p.accept_kw("FROM", "USER"):
            return _role_to_user(ctx, p, child, revoking=True)
        parent = _grantee(ctx, p, "FROM")
        p.end()
        child_obj = ctx.cat.require("ROLE", (child,))
        if not (access.owns(ctx, child_obj) or access.manages_grants(ctx)):
            raise insufficient_privileges(f"Insufficient privileges to revoke role '{child}'.")
        ctx.cat.grants = [g for g in ctx.cat.grants
                          if not (g.on_kind == "ROLE" and g.on_key == (child,) and g.grantee == parent)]
        return ok()
    option_only = p.accept_kw("GRANT", "OPTION", "FOR")
    privs = parse_privileges(p)
    p.expect_kw("ON")
    kind, key = parse_target(ctx, p)
    expanded = _expand(p, kind, privs, key)
    grantee = _grantee(ctx, p, "FROM")
    p.accept_kw("RESTRICT") or p.accept_kw("CASCADE")
    p.end()
    _may_grant(ctx, kind, key, expanded)
    for priv in expanded:
        g = ctx.cat.find_grant(priv, kind, key, grantee)
        if g is None:
            continue
        if option_only:
            g.grant_option = False
        else:
            ctx.cat.grants.remove(g)
    return ok()


GRANT_COLUMNS = columns("SHOW GRANTS TO")


def _ownership_rows(ctx: Ctx, owner: str | None = None, obj: Obj | None = None) -> list[list[object]]:
    objs = [obj] if obj is not None else [o for o in ctx.cat.objects.values() if o.owner == owner]
    return [[o.created_on, "OWNERSHIP", granted_on(o.kind), display_name(ctx, o.kind, o.key), "ROLE", o.owner,
             "true", o.owner] for o in objs if o.owner]


def _grant_row(ctx: Ctx, g: Grant) -> list[object]:
    return [g.created_on, g.privilege, granted_on(g.on_kind), display_name(ctx, g.on_kind, g.on_key), "ROLE",
            g.grantee, tf(g.grant_option), g.granted_by]


@handles("SHOW GRANTS")
def show_grants(ctx: Ctx, p: Parser) -> Result:
    if p.accept_kw("TO"):
        p.accept_kw("ROLE")
        role = ctx.account_key(p.name())[0]
        p.end()
        if ctx.cat.get("ROLE", (role,)) is None:
            raise does_not_exist("Role", role)
        rows = [_grant_row(ctx, g) for g in ctx.cat.grants if g.grantee == role]
        rows += _ownership_rows(ctx, owner=role)
        rows.sort(key=lambda r: (r[0], r[2], r[3], r[1]))
        return Result(GRANT_COLUMNS, rows)
    if p.accept_kw("OF", "SERVICE", "ROLE"):
        # Who holds a service role (https://docs.snowflake.com/en/sql-reference/sql/show-grants).
        _, key = _service_role_key(ctx, p, "SHOW GRANTS")
        p.end()
        cols = columns("SHOW GRANTS OF")
        rows = [[g.created_on, display_name(ctx, "SERVICE ROLE", key), "ROLE", g.grantee, g.granted_by]
                for g in ctx.cat.grants if g.on_kind == "SERVICE ROLE" and g.on_key == key]
        return Result(cols, rows)
    if p.accept_kw("OF"):
        p.accept_kw("ROLE")
        role = ctx.account_key(p.name())[0]
        p.end()
        if ctx.cat.get("ROLE", (role,)) is None:
            raise does_not_exist("Role", role)
        cols = columns("SHOW GRANTS OF")
        rows = [[g.created_on, role, "ROLE", g.grantee, g.granted_by] for g in ctx.cat.grants
                if g.on_kind == "ROLE" and g.on_key == (role,)]
        return Result(cols, rows)
    p.expect_kw("ON")
    kind, key = parse_target(ctx, p)
    p.end()
    rows = [_grant_row(ctx, g) for g in ctx.cat.grants if g.on_kind == kind and g.on_key == key]
    if kind != "ACCOUNT":
        rows = _ownership_rows(ctx, obj=ctx.cat.require(kind, key)) + rows
    return Result(columns("SHOW GRANTS ON"), [r + ["ROLE"] for r in rows])
