"""Which statements a change runs. The planner chose the action and the changed fields; this only maps
them to SQL, through the generic builder in :mod:`.sql` or a shape from :mod:`.sql_special`."""

from __future__ import annotations

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Outputs, Resource
from spcs_iac.model.fields import FieldDecl, Update, kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan.model import Action, Change
from spcs_iac.targets.snowflake import sql_special as sp
from spcs_iac.targets.snowflake.sql import (
    Step,
    Stmt,
    function_ref,
    grant_parts,
    ident,
    owner_role,
    property_parts,
    role_grant_parts,
    stmt,
)

NOT_SQL = ("image",)  # built and pushed with Docker (images.py), never deleted individually (§10.1)


def create_steps(r: Resource, outputs: Outputs) -> list[Step]:
    special = sp.CREATE_SPECIAL.get(r.kind)
    if special is not None:
        return special(r, outputs)
    return [stmt("CREATE", r.sql_type, r.fqn, property_parts(r), role=owner_role(r))]


def changed_decls(change: Change) -> list[FieldDecl]:
    r = change.resource
    assert r is not None
    names = change.changed_fields
    return [d for d in kind_props(type(r)) if d.name in names and not d.prop.identity]


def forces_replace(change: Change) -> list[str]:
    """Changed fields Snowflake cannot alter in place (an adopted object may carry them: see provider)."""
    r = change.resource
    assert r is not None
    out = [d.name for d in changed_decls(change) if d.prop.update is Update.REPLACE]
    if "owner" in change.changed_fields and type(r).owner_change is Update.REPLACE:
        out.append("owner")
    return out


def current_owner(change: Change) -> str | None:
    """The role holding OWNERSHIP now: what the target reports, else what the state recorded."""
    observed = (change.observed or {}).get("owner")
    if observed:
        return str(observed)
    return recorded_owner(change)


def recorded_owner(change: Change) -> str | None:
    """The owner the state recorded (a stored name), as SQL."""
    owner = change.prior.owner if change.prior is not None else None
    return ids.quote(owner) if owner else None


def update_steps(change: Change, outputs: Outputs) -> list[Step]:
    r = change.resource
    assert r is not None
    changed = changed_decls(change)
    role = owner_role(r)
    steps: list[Step] = []
    if any(d.name == "owner" for d in changed):
        changed = [d for d in changed if d.name != "owner"]
        if owner_role(r) and r.kind not in ("grant", "role_grant") and r.kind not in NOT_SQL:
            name = function_ref(r.fqn) if r.kind == "service_function" else r.fqn
            steps.append(sp.ownership_statement(r, name, owner_role(r), current_owner(change)))
    if r.kind in NOT_SQL or r.kind == "role_grant":
        return steps
    if r.kind == "grant":
        before = next((f.before for f in change.fields if f.name == "privileges"), None)
        if any(d.name == "privileges" for d in changed):
            steps.extend(sp.update_grant(r, before))
        return steps
    if not changed:
        return steps
    special = sp.UPDATE_SPECIAL.get(r.kind)
    found = special(r, changed, role, outputs) if special is not None else None
    steps.extend(found if found is not None else sp.alter_statements(r, r.fqn, changed, role))
    return steps


def delete_steps(change: Change) -> list[Step]:
    kind, name = change.kind, change.name
    cls = KINDS.get(kind)
    if cls is None:
        raise ProviderError(f"{change.address}: unknown kind {kind!r}")
    role = recorded_owner(change) or current_owner(change)
    if kind in NOT_SQL:
        return []
    if kind == "grant":
        grantee, on_type, on_name = grant_parts(name)
        privs = sp.granted_privileges(change.observed) or sp.granted_privileges(
            change.prior.props if change.prior else None) or [sp.ALL]
        privs = sorted({sp.privilege(p) for p in privs})
        return [sp.revoke_statement(privs, sp.grant_target(on_type, on_name), ids.quote(grantee), role)]
    if kind == "role_grant":
        granted, to_role = role_grant_parts(name)
        return [stmt("REVOKE ROLE", ids.quote(granted), "FROM ROLE", ids.quote(to_role), role=role)]
    if kind == "compute_pool":
        return sp.delete_pool(ident(name), role)
    if kind in ("service", "job_service"):
        return [sp.drop_statement("SERVICE", ident(name), role, "FORCE")]
    if kind == "service_function":
        return [sp.drop_statement("FUNCTION", function_ref(name), role)]
    return [sp.drop_statement(cls.sql_type, ident(name), role)]


def change_steps(change: Change, outputs: Outputs) -> list[Step]:
    """Every step of a change, for the plan: a replace is the delete followed by the create."""
    r = change.resource
    if change.action is Action.DELETE:
        return delete_steps(change)
    assert r is not None
    if change.action is Action.CREATE:
        return create_steps(r, outputs)
    if change.action is Action.REPLACE:
        return delete_steps(change) + create_steps(r, outputs)
    if change.action in (Action.UPDATE, Action.IMPORT):
        if forces_replace(change):
            return delete_steps(change) + create_steps(r, outputs)
        return update_steps(change, outputs)
    return []


def with_role_switches(steps: list[Step], current: str | None, default: str | None) -> tuple[list[Step], str | None]:
    """Insert ``USE ROLE`` wherever a step's role differs from the session's current role."""
    out: list[Step] = []
    for s in steps:
        want = s.role or default
        if want and want != current:
            out.append(Stmt(("USE ROLE", want), want))
            current = want
        out.append(s)
    return out, current
