"""The places where Snowflake's syntax departs from ``CREATE <TYPE> name KEY = value ...``.

Each function here handles one statement shape the generic builder cannot express: service and job
specifications, function signatures, the PUBLIC schema, compute-pool family swaps and drops (grants are
in :mod:`.grants`). The adapters (:mod:`.adapters`) say which kind uses which shape and which ALTER rule;
values still come from the kind declarations (``Prop.sql``, ``Prop.fmt``) via :mod:`.sql`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Outputs, Resource
from spcs_iac.model.fields import FieldDecl, kind_props
from spcs_iac.plan.model import Change
from spcs_iac.targets.snowflake.sql import (
    Part,
    Step,
    Stmt,
    Upload,
    Wait,
    decl_named,
    ident,
    is_property,
    owner_role,
    property_parts,
    render_value,
    spec_clause,
    stamp_comment,
    stmt,
    target_value,
)


# ---- ALTER ... SET / UNSET ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AlterRule:
    """How one object type accepts SET/UNSET (reference §2-§13)."""

    one_per_statement: bool = False  # `SET { a | b }`: a single property (or pair) per statement
    pairs: tuple[tuple[str, str], ...] = ()  # properties that must be set together
    separate: frozenset[str] = frozenset()  # properties with their own `SET` statement
    unset_as_null: frozenset[str] = frozenset()  # cleared with `SET KEY = NULL` instead of UNSET
    string_names: frozenset[str] = frozenset()  # names written as string literals in ALTER


def with_pairs(r: Resource, changed: list[FieldDecl], rule: AlterRule) -> list[FieldDecl]:
    """Add the partners of paired properties (SERVICE+ENDPOINT, USERNAME+PASSWORD)."""
    sqls = {d.prop.sql for d in changed}
    out = list(changed)
    for a, b in rule.pairs:
        for have, need in ((a, b), (b, a)):
            if have in sqls and need not in sqls:
                partner = next((d for d in kind_props(type(r)) if d.prop.sql == need), None)
                if partner is not None:
                    out.append(partner)
                    sqls.add(need)
    order = {d.name: i for i, d in enumerate(kind_props(type(r)))}
    return sorted(out, key=lambda d: order.get(d.name, len(order)))


def alter_statements(r: Resource, name: str, changed: Iterable[FieldDecl], role: str | None, rule: AlterRule,
                     extra_sets: Iterable[tuple[str, Part]] = ()) -> list[Stmt]:
    """``ALTER <TYPE> name SET ...`` / ``UNSET ...`` for changed declared properties, as ``rule`` allows."""
    sets: list[tuple[str, Part]] = list(extra_sets)
    unsets: list[str] = []
    for decl in with_pairs(r, list(changed), rule):
        prop = decl.prop
        if not is_property(prop):
            raise ProviderError(
                f"{r.describe()}: {decl.name} cannot be changed in place on Snowflake (the plan should replace it)"
            )
        assert prop.sql is not None
        value = target_value(r, decl)
        if value is None or value == []:
            if prop.sql in rule.unset_as_null:
                sets.append((prop.sql, "NULL"))
            else:
                unsets.append(prop.sql)
        elif prop.sql in rule.string_names:
            sets.append((prop.sql, ids.string_literal(ident(value))))
        else:
            sets.append((prop.sql, render_value(prop, value)))
    head = ("ALTER", r.sql_type, name)
    out: list[Stmt] = []
    grouped = [kv for kv in sets if kv[0] not in rule.separate]
    for key, part in sets:
        if key in rule.separate:
            out.append(stmt(*head, "SET", f"{key} =", part, role=role))
    if grouped:
        if rule.one_per_statement:
            for group in _one_per_statement(grouped, rule):
                out.append(stmt(*head, "SET", [x for k, p in group for x in (f"{k} =", p)], role=role))
        else:
            out.append(stmt(*head, "SET", [x for k, p in grouped for x in (f"{k} =", p)], role=role))
    if unsets:
        if rule.one_per_statement:
            out.extend(stmt(*head, "UNSET", key, role=role) for key in unsets)
        else:
            out.append(stmt(*head, "UNSET", ", ".join(unsets), role=role))
    return out


def _one_per_statement(sets: list[tuple[str, Part]], rule: AlterRule) -> list[list[tuple[str, Part]]]:
    """One property per statement, pairs together, in declaration order."""
    partner = {a: b for a, b in rule.pairs} | {b: a for a, b in rule.pairs}
    groups: list[list[tuple[str, Part]]] = []
    done: set[str] = set()
    for key, part in sets:
        if key in done:
            continue
        group = [(key, part)] + [kv for kv in sets if kv[0] == partner.get(key)]
        done.update(k for k, _ in group)
        groups.append(group)
    return groups


def ownership_statement(on_type: str, name: str, new_owner: str, old_owner: str | None) -> Stmt:
    """Owner change in place (§3.2); runs as the current owner, which holds OWNERSHIP."""
    return stmt("GRANT OWNERSHIP ON", on_type, name, "TO ROLE", new_owner, "COPY CURRENT GRANTS", role=old_owner)


# ---- CREATE ---------------------------------------------------------------------------------------------
def _clause(r: Resource, field_name: str, value: str) -> str:
    """A positional clause named by the declaration, e.g. ``IN COMPUTE POOL P``."""
    sql = decl_named(r, field_name).prop.sql
    assert sql is not None
    return f"{sql} {value}"


def _value_clause(r: Resource, field_name: str) -> str:
    decl = decl_named(r, field_name)
    part = render_value(decl.prop, target_value(r, decl))
    assert isinstance(part, str)
    return _clause(r, field_name, part)


def _stamped_comment(r: Resource, outputs: Outputs) -> str:
    return stamp_comment(getattr(r, "comment", None), r.spec_fingerprint(outputs))  # type: ignore[attr-defined]


def create_schema(r: Resource, outputs: Outputs) -> list[Step]:
    # Every database comes with PUBLIC: declaring it adopts it, so create only if missing.
    if r.name != "PUBLIC":
        return [stmt("CREATE", r.sql_type, r.fqn, property_parts(r), role=owner_role(r))]
    steps: list[Step] = [stmt("CREATE SCHEMA IF NOT EXISTS", r.fqn, role=owner_role(r))]
    parts = property_parts(r)
    if parts:
        steps.append(stmt("ALTER SCHEMA", r.fqn, "SET", parts, role=owner_role(r)))
    return steps


def spec_source(r: Resource, outputs: Outputs, role: str | None) -> tuple[list[Step], str]:
    """Steps to run first and the ``FROM ...`` clause: inline ``$$spec$$``, or an uploaded stage file."""
    doc = r.spec_document(outputs)  # type: ignore[attr-defined]
    stage = getattr(r, "spec_stage", None)
    if stage is None:
        return [], _clause(r, "spec", spec_clause(doc))
    stage_name = stage.fqn if isinstance(stage, Resource) else r.qualify(stage)  # type: ignore[attr-defined]
    path = r.spec_file  # type: ignore[attr-defined]
    upload = Upload(stage_name, path, yaml.safe_dump(doc, sort_keys=False), role)
    return [upload], f"FROM @{stage_name} SPECIFICATION_FILE = {ids.string_literal(path)}"


# The syntax block's order (https://docs.snowflake.com/en/sql-reference/sql/create-service): the usage notes
# ask for the compute pool, then the specification, then the other properties; following the block for those
# too is what the Terraform provider and the Snowflake CLI send.
SERVICE_ORDER = ("AUTO_SUSPEND_SECS", "EXTERNAL_ACCESS_INTEGRATIONS", "AUTO_RESUME", "MIN_INSTANCES",
                 "MIN_READY_INSTANCES", "MAX_INSTANCES", "LOG_LEVEL", "QUERY_WAREHOUSE", "COMMENT")


def create_service(r: Resource, outputs: Outputs) -> list[Step]:
    first, source = spec_source(r, outputs, owner_role(r))
    return [
        *first,
        stmt("CREATE", r.sql_type, r.fqn, _value_clause(r, "compute_pool"), source,
             property_parts(r, overrides={"COMMENT": _stamped_comment(r, outputs)}, order=SERVICE_ORDER),
             role=owner_role(r)),
        Wait("service_ready", r.fqn, owner_role(r)),
        *([stmt("ALTER", r.sql_type, r.fqn, "SUSPEND", role=owner_role(r))] if getattr(r, "suspended", None)
          else []),
    ]


# The syntax block's order, which the page says must be followed ("the command parameters must be
# specified in specific order"): https://docs.snowflake.com/en/sql-reference/sql/execute-job-service
JOB_ORDER = ("ASYNC", "REPLICAS", "QUERY_WAREHOUSE", "COMMENT", "EXTERNAL_ACCESS_INTEGRATIONS")


def create_job(r: Resource, outputs: Outputs) -> list[Step]:
    first, source = spec_source(r, outputs, owner_role(r))
    steps: list[Step] = [*first, stmt(
        "EXECUTE JOB SERVICE", _value_clause(r, "compute_pool"), source, "NAME =", r.fqn,
        property_parts(r, overrides={"COMMENT": _stamped_comment(r, outputs)}, order=JOB_ORDER),
        role=owner_role(r),
    )]
    if not getattr(r, "run_async", False):
        steps.append(Wait("job_done", r.fqn, owner_role(r)))
    return steps


def create_function(r: Resource, outputs: Outputs) -> list[Step]:
    args = ", ".join(f"{ids.quote(a.name)} {a.datatype}" for a in r.arguments)  # type: ignore[attr-defined]
    name = ids.qualified(*r.name_parts())
    returns = _clause(r, "returns", r.returns)  # type: ignore[attr-defined]
    path = _clause(r, "path", ids.string_literal(r.path))  # type: ignore[attr-defined]
    return [stmt("CREATE FUNCTION", f"{name}({args})", returns, property_parts(r), path, role=owner_role(r))]


# ---- UPDATE specials ------------------------------------------------------------------------------------------
def create_pool(r: Resource, outputs: Outputs) -> list[Step]:
    steps: list[Step] = [stmt("CREATE", r.sql_type, r.fqn, property_parts(r), role=owner_role(r))]
    if getattr(r, "suspended", None) and not getattr(r, "initially_suspended", None):
        steps.append(stmt("ALTER", r.sql_type, r.fqn, "SUSPEND", role=owner_role(r)))
    return steps


def update_pool(change: Change, changed: list[FieldDecl], role: str | None, outputs: Outputs,
                rule: AlterRule) -> list[Step] | None:
    """INSTANCE_FAMILY changes only while the pool is fully suspended (§9.3); the pool then runs again
    unless it is declared suspended. ``suspended`` alone is SUSPEND or RESUME."""
    r = _desired(change)
    head = ("ALTER", r.sql_type, r.fqn)
    rest = [d for d in changed if d.name != "suspended"]
    keep_suspended = getattr(r, "suspended", None) is True
    if any(d.name == "instance_family" for d in rest):
        steps: list[Step] = [stmt(*head, "SUSPEND", role=role), Wait("pool_suspended", r.fqn, role),
                             *alter_statements(r, r.fqn, rest, role, rule)]
        return steps if keep_suspended else [*steps, stmt(*head, "RESUME", role=role)]
    steps = list(alter_statements(r, r.fqn, rest, role, rule)) if rest else []
    if len(rest) < len(changed):
        steps.append(stmt(*head, "SUSPEND" if keep_suspended else "RESUME", role=role))
    return steps


def update_warehouse(change: Change, changed: list[FieldDecl], role: str | None, outputs: Outputs,
                     rule: AlterRule) -> list[Step] | None:
    """WAREHOUSE_TYPE changes only while the warehouse is suspended
    (https://docs.snowflake.com/en/user-guide/warehouses-snowpark-optimized: "Changing the warehouse type
    using the ALTER WAREHOUSE command is only supported for a warehouse in the SUSPENDED state"). It is
    left suspended: it resumes on its next query, or here when it does not resume by itself."""
    r = _desired(change)
    if not any(d.name == "warehouse_type" for d in changed):
        return None
    steps: list[Step] = [Wait("warehouse_suspended", r.fqn, role), *alter_statements(r, r.fqn, changed, role, rule)]
    if getattr(r, "auto_resume", None) is False:
        steps.append(stmt("ALTER", r.sql_type, r.fqn, "RESUME IF SUSPENDED", role=role))
    return steps


def update_service(change: Change, changed: list[FieldDecl], role: str | None, outputs: Outputs,
                   rule: AlterRule) -> list[Step] | None:
    """A spec change is an upgrade (§11.2); the comment then carries the new spec stamp. A new query
    warehouse takes effect only when the service restarts (https://docs.snowflake.com/en/sql-reference/sql/
    alter-service: "modifications that take effect only after service is restarted. For example, specify a
    default warehouse for queries"), so a running service is upgraded to the same spec, which restarts its
    instances one at a time."""
    r = _desired(change)
    names = {d.name for d in changed}
    running = _running_steps(r, role) if "suspended" in names else []
    changed = [d for d in changed if d.name != "suspended"]
    counts = _instance_counts(r, changed, outputs)
    rest = [d for d in changed if d.name not in ("spec", "comment", *SPEC_LOCATION, *INSTANCE_COUNTS)]
    restamp = bool(names & {"spec", "comment", *SPEC_LOCATION})
    roll = bool(names & {"spec", *SPEC_LOCATION}) or ("query_warehouse" in names and not getattr(r, "suspended", None))
    stamp = ("COMMENT", ids.string_literal(_stamped_comment(r, outputs)))
    if not roll:
        sets = [*counts, stamp] if restamp else counts
        return [*(alter_statements(r, r.fqn, rest, role, rule, extra_sets=sets) if rest or sets else []), *running]
    steps: list[Step] = list(alter_statements(r, r.fqn, rest, role, rule, extra_sets=counts))
    first, source = spec_source(r, outputs, role)
    steps.extend(first)
    steps.append(stmt("ALTER", r.sql_type, r.fqn, source, role=role))
    if not running:
        steps.append(Wait("service_ready", r.fqn, role))
    if restamp:  # stamped last: if the upgrade fails, the old stamp makes the next plan retry it
        steps.extend(alter_statements(r, r.fqn, [], role, rule, extra_sets=[stamp]))
    return [*steps, *running]


INSTANCE_COUNTS = ("min_instances", "max_instances", "min_ready_instances")


def _instance_counts(r: Resource, changed: list[FieldDecl], outputs: Outputs) -> list[tuple[str, Part]]:
    """Changed instance counts, all set in one statement to the values the plan shows. A count left out of
    the declaration follows MIN_INSTANCES there: it is set to that number rather than unset, since what
    UNSET restores is not documented, and setting MIN_INSTANCES above a MAX_INSTANCES still to come would
    break the documented MIN <= MAX for a statement."""
    want = r.desired(outputs)
    return [(str(d.prop.sql), str(want[d.name])) for d in changed if d.name in INSTANCE_COUNTS]


def finish_steps(r: Resource, role: str | None) -> list[Step]:
    """What a create does after its statement, for an object taken back from a run that did not see it
    through: a running service is waited for until READY."""
    if r.kind == "service" and not getattr(r, "suspended", None):
        return [Wait("service_ready", r.fqn, role)]
    return []


def _running_steps(r: Resource, role: str | None) -> list[Step]:
    """Bring a service to its declared running state: RESUME (and wait until READY), or SUSPEND."""
    if getattr(r, "suspended", None):
        return [stmt("ALTER", r.sql_type, r.fqn, "SUSPEND", role=role)]
    return [stmt("ALTER", r.sql_type, r.fqn, "RESUME", role=role), Wait("service_ready", r.fqn, role)]


SPEC_LOCATION = ("spec_stage", "spec_file")  # where the spec is read from: a change re-runs the upgrade


def _desired(change: Change) -> Resource:
    assert change.resource is not None, "an update always carries the declared object"
    return change.resource


# ---- DELETE -----------------------------------------------------------------------------------------------------
def drop_statement(sql_type: str, name: str, role: str | None, suffix: str | None = None) -> Stmt:
    return stmt("DROP", sql_type, "IF EXISTS", name, suffix, role=role)


def delete_pool(change: Change, role: str | None) -> list[Step]:
    # A pool with services cannot be dropped; STOP ALL drops them first (§9.4).
    name = ident(change.name)
    return [stmt("ALTER COMPUTE POOL IF EXISTS", name, "STOP ALL", role=role),
            drop_statement("COMPUTE POOL", name, role)]
