"""Which statements a change runs. The planner chose the action and the changed fields; this only maps
them to SQL, through the generic builder in :mod:`.sql` or the shape the kind's adapter names."""

from __future__ import annotations

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Outputs, Resource
from spcs_iac.model.fields import FieldDecl, Update, kind_props
from spcs_iac.plan.model import Action, Change
from spcs_iac.targets.snowflake import sql_special as sp
from spcs_iac.targets.snowflake.adapters import ADAPTERS
from spcs_iac.targets.snowflake.sql import Step, Stmt, owner_role, property_parts, stmt


def create_steps(r: Resource, outputs: Outputs) -> list[Step]:
    adapter = ADAPTERS[r.kind]
    if not adapter.sql:
        return []
    if adapter.create is not None:
        return adapter.create(r, outputs)
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
    if "owner" in change.changed_fields and type(r).owner_change is Update.REPLACE and "owner" not in out:
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
    adapter = ADAPTERS[r.kind]
    if not adapter.sql:
        return []
    changed = changed_decls(change)
    # Later statements run as the owner: the declared one (after any transfer), else the real one.
    role = owner_role(r) or current_owner(change)
    steps: list[Step] = []
    if any(d.name == "owner" for d in changed):
        changed = [d for d in changed if d.name != "owner"]
        if role and adapter.owned:
            on_type = adapter.ownership_type or r.sql_type
            steps.append(sp.ownership_statement(on_type, adapter.sql_name(r.fqn), role, current_owner(change)))
    if changed:
        found = adapter.update(change, changed, role, outputs, adapter.alter) if adapter.update is not None else None
        steps.extend(found if found is not None else sp.alter_statements(r, r.fqn, changed, role, adapter.alter))
    if change.finishing:
        steps.extend(sp.finish_steps(r, role))
    return steps


def delete_steps(change: Change) -> list[Step]:
    adapter = ADAPTERS.get(change.kind)
    if adapter is None:
        raise ProviderError(f"{change.address}: unknown kind {change.kind!r}")
    role = current_owner(change)  # the real owner (read back), else the one recorded
    if not adapter.sql:
        return []
    if adapter.delete is not None:
        return adapter.delete(change, role)
    return [sp.drop_statement(adapter.cls.sql_type, adapter.sql_name(change.name), role, adapter.drop_suffix)]


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
