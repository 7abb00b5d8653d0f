"""Grants and role grants: the two kinds that are not objects of their own.

They are created with GRANT, removed with REVOKE, have no OWNERSHIP, no ALTER and no SHOW of their own:
they are read back from ``SHOW GRANTS TO ROLE`` (what a role holds) and ``SHOW GRANTS OF ROLE`` (who holds
a role), once the roles are known to exist. The adapters (:mod:`.adapters`) point here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Outputs, Resource
from spcs_iac.model.fields import FieldDecl
from spcs_iac.model.kinds.account import GRANT_TARGETS, PRIVILEGES
from spcs_iac.model.kinds.services import canonical_type
from spcs_iac.model.values import privilege_name
from spcs_iac.plan.model import Change
from spcs_iac.plan.target import Observed, ReadRequest
from spcs_iac.targets.snowflake.sql import (
    Step,
    Stmt,
    function_parts,
    function_ref,
    grant_parts,
    ident,
    owner_role,
    role_grant_parts,
    service_role_parts,
    service_role_ref,
    stmt,
)
from spcs_iac.targets.snowflake.sql_special import AlterRule
from spcs_iac.targets.snowflake.values import raw_parts, split_commas, stored_part, to_bool, unquote_ident

Key = tuple[str, ...]
ALL = "ALL"
# Privileges GRANT ALL does not include (granted only explicitly or only on shared databases).
NOT_IN_ALL = frozenset({"USE_ANY_ROLE", "SERVICE READ", "SERVICE WRITE", "IMPORTED PRIVILEGES"})
MULTIWORD_TYPES = frozenset({"DOUBLE PRECISION", "CHARACTER VARYING", "TIMESTAMP WITH TIME ZONE",
                             "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP WITH LOCAL TIME ZONE"})


# ---- privileges --------------------------------------------------------------------------------------------
def privilege(p: str) -> str:
    """One spelling per privilege: ``create_service`` / ``CREATE  SERVICE`` -> ``CREATE SERVICE``."""
    text = privilege_name(p)
    text = ALL if text == "ALL PRIVILEGES" else text
    if not text.replace(" ", "").replace("_", "").isalpha():
        raise ProviderError(f"privilege {p!r} is not a privilege name")
    return text


def privileges(privs: Iterable[str]) -> list[str]:
    """A privilege set: normalised, without repeats, sorted."""
    return sorted({privilege(p) for p in privs})


def privilege_diff(before: Iterable[str] | None, after: Iterable[str]) -> tuple[list[str], list[str]]:
    """(to grant, to revoke). ALL covers every privilege, so wanting ALL never revokes."""
    have = set(privileges(before or []))
    want = set(privileges(after))
    if ALL in want:
        return ([] if ALL in have else [ALL]), []
    return sorted(want - have), sorted(have - want)


def granted_privileges(props: Mapping[str, Any] | None) -> list[str]:
    privs = (props or {}).get("privileges")
    return list(privs) if isinstance(privs, list) and privs else []


def covers_all(on_type: str, privs: list[str]) -> bool:
    """Whether the privileges read back amount to what ``GRANT ALL`` gives on this securable type."""
    core = {p for p in PRIVILEGES.get(on_type, frozenset()) if p not in NOT_IN_ALL}
    return bool(privs) and core <= set(privs)


# ---- statements --------------------------------------------------------------------------------------------
def grant_target(on_type: str, on_name: str) -> str:
    return "ACCOUNT" if on_type == "ACCOUNT" else f"{on_type} {on_name}"


def grant_statement(privs: list[str], target: str, grantee: str, grant_option: bool, role: str | None) -> Stmt:
    return stmt("GRANT", ", ".join(privs), "ON", target, "TO ROLE", grantee,
                "WITH GRANT OPTION" if grant_option else None, role=role)


def revoke_statement(privs: list[str], target: str, grantee: str, role: str | None) -> Stmt:
    return stmt("REVOKE", ", ".join(privs), "ON", target, "FROM ROLE", grantee, role=role)


def grant_identity(r: Resource) -> tuple[str, str]:
    """(target clause, quoted grantee) of a declared Grant."""
    to = r.to  # type: ignore[attr-defined]
    grantee = ids.quote(to.name if isinstance(to, Resource) else to)
    on_type = r.on_type  # type: ignore[attr-defined]
    if on_type == "ACCOUNT":
        return "ACCOUNT", grantee
    on_name = r.on_name  # type: ignore[attr-defined]
    if on_type not in PRIVILEGES:
        raise ProviderError(f"{r.describe()}: cannot grant on {on_type}")
    return grant_target(on_type, function_ref(on_name) if on_type == "FUNCTION" else ident(on_name)), grantee


def create_grant(r: Resource, outputs: Outputs) -> list[Step]:
    target, grantee = grant_identity(r)
    privs, _ = privilege_diff([], r.privileges)  # type: ignore[attr-defined]
    return [grant_statement(privs, target, grantee, bool(r.grant_option), owner_role(r))]  # type: ignore[attr-defined]


def update_grant(change: Change, changed: list[FieldDecl], role: str | None, outputs: Outputs,
                 rule: AlterRule) -> list[Step]:
    """Privileges change with GRANT / REVOKE of the difference; nothing else changes in place."""
    r = change.resource
    assert r is not None
    if not any(d.name == "privileges" for d in changed):
        return []
    before = next((f.before for f in change.fields if f.name == "privileges"), None)
    target, grantee = grant_identity(r)
    grant, revoke = privilege_diff(before if isinstance(before, list) else [], r.privileges)  # type: ignore[attr-defined]
    steps: list[Step] = []
    if revoke:
        steps.append(revoke_statement(revoke, target, grantee, owner_role(r)))
    if grant:
        steps.append(grant_statement(grant, target, grantee, bool(r.grant_option), owner_role(r)))  # type: ignore[attr-defined]
    return steps


def delete_grant(change: Change, role: str | None) -> list[Step]:
    """REVOKE what was granted: as read back, else as recorded, else ALL."""
    grantee, on_type, on_name = grant_parts(change.name)
    privs = granted_privileges(change.observed) or granted_privileges(
        change.prior.props if change.prior else None) or [ALL]
    return [revoke_statement(privileges(privs), grant_target(on_type, on_name), ids.quote(grantee), role)]


def create_role_grant(r: Resource, outputs: Outputs) -> list[Step]:
    role, to_role = (x.name if isinstance(x, Resource) else x for x in (r.role, r.to_role))  # type: ignore[attr-defined]
    return [stmt("GRANT ROLE", ids.quote(role), "TO ROLE", ids.quote(to_role), role=owner_role(r))]


def update_role_grant(change: Change, changed: list[FieldDecl], role: str | None, outputs: Outputs,
                      rule: AlterRule) -> list[Step]:
    return []  # its identity is all it has: any other change is a new grant


def delete_role_grant(change: Change, role: str | None) -> list[Step]:
    granted, to_role = role_grant_parts(change.name)
    return [stmt("REVOKE ROLE", ids.quote(granted), "FROM ROLE", ids.quote(to_role), role=role)]


# Service roles (https://docs.snowflake.com/en/sql-reference/sql/grant-service-role): only the service's
# owner grants them, so the statements run as the grant's owner (which defaults to the service's).
def create_service_role_grant(r: Resource, outputs: Outputs) -> list[Step]:
    service, role, to_role = service_role_parts(r.name)
    return [stmt("GRANT SERVICE ROLE", service_role_ref(service, role), "TO ROLE", ids.quote(to_role),
                 role=owner_role(r))]


def delete_service_role_grant(change: Change, role: str | None) -> list[Step]:
    service, service_role, to_role = service_role_parts(change.name)
    return [stmt("REVOKE SERVICE ROLE", service_role_ref(service, service_role), "FROM ROLE", ids.quote(to_role),
                 role=role)]


def grants_of_service_role(name: str) -> tuple[tuple[str, ...], str]:
    """(the service that must exist, the query) reading a ServiceRoleGrant: who holds the service role
    (SHOW GRANTS OF SERVICE ROLE, https://docs.snowflake.com/en/sql-reference/sql/show-grants)."""
    service, role, _ = service_role_parts(name)
    return service, f"SHOW GRANTS OF SERVICE ROLE {service_role_ref(service, role)}"


def observe_service_role_grant(req: ReadRequest, rows: list[dict[str, Any]]) -> Observed | None:
    _, _, to_role = service_role_parts(req.name)
    if any(str(r.get("granted_to", "")).upper() == "ROLE" and str(r.get("grantee_name")) == to_role for r in rows):
        return Observed({})
    return None


# ---- read back -----------------------------------------------------------------------------------------------
def grants_to_role(name: str) -> tuple[str, str]:
    """(the role that must exist, the query) reading a Grant: what its grantee holds."""
    grantee = grant_parts(name)[0]
    return grantee, f"SHOW GRANTS TO ROLE {ids.quote(grantee)}"


def grants_of_role(name: str) -> tuple[str, str]:
    """(the role that must exist, the query) reading a RoleGrant: who holds the granted role."""
    granted = role_grant_parts(name)[0]
    return granted, f"SHOW GRANTS OF ROLE {ids.quote(granted)}"


def observe_grant(req: ReadRequest, rows: list[dict[str, Any]]) -> Observed | None:
    _, on_type, on_name = grant_parts(req.name)
    want = target_key(on_type, on_name)
    matching = [r for r in rows if str(r.get("privilege", "")).upper() != "OWNERSHIP"
                and row_target_key(r) == want]
    if not matching:
        return None
    recorded = list((req.prior.props.get("privileges") if req.prior else None) or [])
    declared = list((req.resource.privileges if req.resource is not None  # type: ignore[attr-defined]
                     else recorded) or [])
    managed = _managed_privileges(req, declared, recorded)
    if managed is not None:
        matching = [r for r in matching if privilege(str(r["privilege"])) in managed]
        if not matching:
            return None  # only privileges someone else granted: this grant does not exist yet
    privs = privileges(str(r["privilege"]) for r in matching)
    if any(privilege(p) == ALL for p in declared) and covers_all(on_type, privs):
        privs = list(declared)  # ALL was granted: no diff against the privileges ALL expands to
    option = all(to_bool(r.get("grant_option")) for r in matching)
    return Observed({"privileges": privs, "grant_option": option})


def _managed_privileges(req: ReadRequest, declared: list[str], recorded: list[str]) -> set[str] | None:
    """The privileges this grant answers for, or None for every privilege the role holds on the securable.

    A grant is not authoritative unless declared so: it sees what it declares and what it granted before
    (so a privilege dropped from the declaration is revoked), never what someone else granted."""
    authoritative = (getattr(req.resource, "authoritative", False) if req.resource is not None
                     else bool(req.prior and req.prior.props.get("authoritative")))
    mine = set(privileges(declared)) | set(privileges(recorded))
    if authoritative or ALL in mine:
        return None
    return mine


def observe_role_grant(req: ReadRequest, rows: list[dict[str, Any]]) -> Observed | None:
    _, to_role = role_grant_parts(req.name)
    if any(str(r.get("granted_to", "")).upper() == "ROLE" and str(r.get("grantee_name")) == to_role for r in rows):
        return Observed({})
    return None


def target_key(on_type: str, on_name: str) -> Key:
    """Comparable identity of a securable, from the SQL name a Grant uses."""
    if on_type == "ACCOUNT":
        return ("ACCOUNT",)
    if on_type == "FUNCTION":
        parts, types = function_parts(on_name)
        return ("FUNCTION", *parts, "()", *types)
    return (on_type, *ids.split_qualified(on_name))


def row_target_key(row: dict[str, Any]) -> Key | None:
    """Comparable identity of the securable of a SHOW GRANTS row (``granted_on`` + ``name``)."""
    on = str(row.get("granted_on") or "").upper().replace("_", " ")
    if on == "ACCOUNT":
        return ("ACCOUNT",)
    if on not in GRANT_TARGETS:
        return None
    parts = raw_parts(str(row.get("name") or ""))
    if on == "FUNCTION":
        found = shown_function(unquote_ident(parts[-1]))
        if found is None:
            return None
        name, types = found
        return ("FUNCTION", *(stored_part(p) for p in parts[:-1]), name, "()", *types)
    return (on, *(stored_part(p) for p in parts))


def shown_function(text: str) -> tuple[str, list[str]] | None:
    """``NAME(ARG TYPE, ...):RETURN_TYPE`` (the last name part SHOW GRANTS prints for a function,
    https://docs.snowflake.com/en/sql-reference/sql/show-grants) -> (stored name, canonical argument
    types). Argument names and the return type are dropped; ``NUMBER(38,0)`` compares as ``NUMBER``."""
    start = text.find("(")
    if start <= 0:
        return None
    depth, end = 0, -1
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            end = i
            break
    rest = text[end + 1:] if end > 0 else None
    if rest is None or (rest and not rest.startswith(":")):
        return None
    types = []
    for arg in split_commas(text[start + 1:end]):
        words = _without_arg_name(arg.strip())
        if words:
            types.append(canonical_type(" ".join(words).upper()))
    return text[:start], types


def _without_arg_name(arg: str) -> list[str]:
    """``X NUMBER(38,0)`` / ``"my x" VARCHAR`` -> the type's words (a bare type stays as it is)."""
    if arg.startswith('"'):
        close = arg.find('"', 1)
        while close > 0 and arg[close + 1:close + 2] == '"':
            close = arg.find('"', close + 2)
        return arg[close + 1:].split() if close > 0 else arg.split()
    words = arg.split()
    if len(words) >= 2 and " ".join(words).upper() not in MULTIWORD_TYPES:
        return words[1:]
    return words
