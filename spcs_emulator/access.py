"""Access control as Snowflake enforces it (https://docs.snowflake.com/en/user-guide/security-access-control-overview).

* The roles a statement acts with are the primary role and, for everything but CREATE, the secondary
  roles, each with every role granted to it (the hierarchy). There is no administrator bypass: a role can
  ALTER / DROP an object only if it owns it or inherits its owner; ACCOUNTADMIN inherits SYSADMIN and
  SECURITYADMIN, not the custom roles nobody granted to it.
* CREATE needs the privilege on the container, from the primary role, which then owns the object
  (https://docs.snowflake.com/en/user-guide/security-access-control-overview#enforcement-model-with-primary-role-and-secondary-roles).
* MANAGE GRANTS (ACCOUNTADMIN and SECURITYADMIN in a new account) allows GRANT / REVOKE and GRANT OWNERSHIP
  on any object, and shows every object.
* An object the roles hold no privilege on is reported as missing ("does not exist or not authorized",
  002003); one they can see but may not change gives "Insufficient privileges" (003001).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .catalog import LABELS, SCHEMA_KINDS, Obj, fmt_key, fmt_obj_name
from .errors import does_not_exist, insufficient_privileges

if TYPE_CHECKING:
    from .context import Ctx

ALL = "*"
# Account privileges the system roles hold in a new account (what SHOW GRANTS TO ROLE shows there).
SYSTEM_ACCOUNT_PRIVILEGES: dict[str, frozenset[str]] = {
    "ACCOUNTADMIN": frozenset({ALL}),
    "SECURITYADMIN": frozenset({"MANAGE GRANTS", "CREATE ROLE", "CREATE USER", "CREATE NETWORK POLICY"}),
    "USERADMIN": frozenset({"CREATE ROLE", "CREATE USER"}),
    "SYSADMIN": frozenset({"CREATE DATABASE", "CREATE WAREHOUSE"}),
}
# Account-level kinds: the account privilege that creates one (either of several).
CREATE_ON_ACCOUNT: dict[str, tuple[str, ...]] = {
    "ROLE": ("CREATE ROLE",),
    "WAREHOUSE": ("CREATE WAREHOUSE",),
    "DATABASE": ("CREATE DATABASE",),
    "INTEGRATION": ("CREATE INTEGRATION", "CREATE EXTERNAL ACCESS INTEGRATION"),
    "COMPUTE POOL": ("CREATE COMPUTE POOL",),
}


def roles(ctx: Ctx, primary_only: bool = False) -> set[str]:
    """The roles the statement acts with: primary (+ secondary) roles and everything they inherit (worked out
    once per statement: a statement checks them many times, each walk reads every grant)."""
    key = (ctx.session.role, primary_only, tuple(ctx.session.secondary))
    if key not in ctx.role_sets:
        out = ctx.cat.closure(ctx.session.role)
        if not primary_only:
            for role in secondary_roles(ctx):
                out |= ctx.cat.closure(role)
        ctx.role_sets[key] = out
    return set(ctx.role_sets[key])


def secondary_roles(ctx: Ctx) -> list[str]:
    """Activated secondary roles: the roles granted to the user that USE SECONDARY ROLES named."""
    wanted = ctx.session.secondary
    if not wanted:
        return []
    granted = ctx.emu.user_roles(ctx.session.user)
    return sorted(granted) if wanted == ["ALL"] else [r for r in wanted if r in granted]


def account_privilege(ctx: Ctx, privilege: str, primary_only: bool = False) -> bool:
    for role in roles(ctx, primary_only):
        held = SYSTEM_ACCOUNT_PRIVILEGES.get(role, frozenset())
        if ALL in held or privilege in held:
            return True
    have = roles(ctx, primary_only)
    return any(g.on_kind == "ACCOUNT" and g.privilege == privilege and g.grantee in have for g in ctx.cat.grants)


def manages_grants(ctx: Ctx) -> bool:
    return account_privilege(ctx, "MANAGE GRANTS")


def owns(ctx: Ctx, obj: Obj, primary_only: bool = False) -> bool:
    return bool(obj.owner) and obj.owner in roles(ctx, primary_only)


def has(ctx: Ctx, obj: Obj, *privileges: str, primary_only: bool = False) -> bool:
    """Owner, or holds one of ``privileges`` on the object (through the hierarchy)."""
    if owns(ctx, obj, primary_only):
        return True
    have = roles(ctx, primary_only)
    return any(g.grantee in have and g.on_kind == obj.kind and g.on_key == obj.key and g.privilege in privileges
               for g in ctx.cat.grants)


def visible(ctx: Ctx, obj: Obj) -> bool:
    """SHOW lists, and statements find, objects the roles hold any privilege on (MANAGE GRANTS: all)."""
    if not obj.owner or manages_grants(ctx) or owns(ctx, obj):
        return True
    have = roles(ctx)
    return any(g.grantee in have and g.on_kind == obj.kind and g.on_key == obj.key for g in ctx.cat.grants)


def denied(ctx: Ctx, obj: Obj) -> Exception:
    """Snowflake's error for an object the roles may not change: missing if unseen, else 003001."""
    label = LABELS.get(obj.kind, "Object")
    if not visible(ctx, obj):
        return does_not_exist(label, fmt_obj_name(obj.kind, obj.key))
    return insufficient_privileges(f"Insufficient privileges to operate on {label.lower()} "
                                   f"'{fmt_obj_name(obj.kind, obj.key)}'.")


def require_owner(ctx: Ctx, obj: Obj, *privileges: str) -> None:
    """ALTER / DROP / DESCRIBE-with-secrets: ownership (or one of ``privileges`` where one suffices)."""
    if not has(ctx, obj, *privileges):
        raise denied(ctx, obj)


def require_create(ctx: Ctx, kind: str, key: tuple[str, ...]) -> None:
    """The primary role may create an object of ``kind`` named ``key``."""
    if kind in CREATE_ON_ACCOUNT:
        if not any(account_privilege(ctx, p, primary_only=True) for p in CREATE_ON_ACCOUNT[kind]):
            raise insufficient_privileges(f"Insufficient privileges to operate on account '{ctx.emu.account}'.")
        return
    if kind == "SCHEMA":
        _require_in(ctx, "DATABASE", key[:1], "CREATE SCHEMA")
        return
    if kind in SCHEMA_KINDS:
        _require_in(ctx, "DATABASE", key[:1], "USAGE")
        _require_in(ctx, "SCHEMA", key[:2], f"CREATE {kind}")


def _require_in(ctx: Ctx, kind: str, key: tuple[str, ...], privilege: str) -> None:
    container = ctx.cat.get(kind, key)
    if container is None or not container.owner:
        return  # missing containers are reported by the handler; system ones (SNOWFLAKE) are open
    if not has(ctx, container, privilege, primary_only=True):
        if not visible(ctx, container):
            raise does_not_exist(LABELS[kind], fmt_key(key))
        raise insufficient_privileges(f"Insufficient privileges to operate on {kind.lower()} '{fmt_key(key)}'.")


def require_usage(ctx: Ctx, obj: Obj) -> None:
    """USAGE on an object a statement uses (a compute pool, an integration, a warehouse)."""
    if not has(ctx, obj, "USAGE"):
        raise denied(ctx, obj)


def require_account(ctx: Ctx, privilege: str) -> None:
    if not account_privilege(ctx, privilege):
        raise insufficient_privileges(f"Insufficient privileges to operate on account '{ctx.emu.account}'.")
