"""Desired vs observed vs recorded state -> ordered changes.

- absent in the target: create (a state entry means someone deleted it by hand);
- present but not in the state: import (adopted, never created twice), plus field updates;
- fields differ: update in place, or replace when any changed field forces it;
- replacing an object replaces dependents that cannot survive it (edges marked follow_replace);
- a changed upstream output (a rebuilt image's digest) marks the consumer's field known-after-apply;
- in the state but no longer declared: delete. Objects the state does not list are never touched.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import networkx as nx

from spcs_iac.errors import StackValidationError
from spcs_iac.graph.build import object_predecessors
from spcs_iac.model.base import Resource
from spcs_iac.model.digests import settle as settle_digests
from spcs_iac.model.fields import kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.plan.diff import field_changes, upstream_changed
from spcs_iac.plan.model import Action, Change, FieldChange, Plan
from spcs_iac.plan.running import keep_running
from spcs_iac.plan.still_named import refuse_uses_of_deleted
from spcs_iac.plan.target import Observed, Provider, ReadRequest
from spcs_iac.state.store import StateEntry

CHANGING = (Action.CREATE, Action.UPDATE, Action.REPLACE)


def make_plan(
    stack_name: str,
    target: str,
    graph: nx.DiGraph,
    provider: Provider,
    entries: Mapping[str, StateEntry],
    *,
    destroy: bool = False,
    assume_empty: bool = False,
    pending: Collection[str] = (),
) -> Plan:
    """``assume_empty`` plans against an empty target without reading it (a full creation plan).
    ``pending``: addresses this stack started to create without recording the success (see
    StateBackend.pending); finding such an object is taking it back, not adopting someone else's."""
    if assume_empty:
        entries = {}
    order = [n for n in nx.topological_sort(graph) if graph.nodes[n].get("resource") is not None]
    desired: dict[str, Resource] = {n: graph.nodes[n]["resource"] for n in order}
    requests = [ReadRequest(a, r.kind, r.fqn, r, entries.get(a)) for a, r in desired.items()]
    requests += [ReadRequest(a, e.kind, e.name, None, e) for a, e in entries.items() if a not in desired]
    # Secret digests (slow on purpose) are worked out meanwhile, several at once.
    digests_settled = (lambda: None) if destroy else settle_digests(
        (a, name, value, entries[a].props.get(name) if a in entries else None)
        for a, r in desired.items() for name, value in r.secret_values())
    try:
        observed = {} if assume_empty else provider.read(requests)
    finally:
        digests_settled()
    outputs = _known_outputs(entries, observed)

    changes: dict[str, Change] = {}
    for address in order:
        r = desired[address]
        prior, obs = entries.get(address), observed.get(address)
        predecessors = object_predecessors(graph, address)
        if destroy:
            changes[address] = _destroy_change(r, prior, obs)
        else:
            changes[address] = diff_resource(r, obs, prior, outputs)
            _mark_adoption(changes[address], r, pending, entries, changes)
            _propagate(graph, address, changes, predecessors)
            keep_running(changes[address], [changes[p] for p in predecessors if p in changes], pending)
        changes[address].depends_on = list(predecessors)
    deletes = _orphan_deletes(entries, desired, observed)
    if destroy:
        ordered = list(reversed([changes[a] for a in order])) + deletes
    else:
        ordered = deletes + [changes[a] for a in order]
    plan = Plan(stack=stack_name, target=target, changes=ordered, destroy=destroy, outputs=outputs)
    if not destroy and not assume_empty:
        _refuse_unresolved(plan, provider)
        refuse_uses_of_deleted(plan, desired.values())
    if not assume_empty:
        _note_contents(plan, provider, {**{a: None for a in entries}, **desired})
    shown = _settled_outputs(outputs, changes)
    for c in plan.actionable:
        c.statements = provider.statements(c, shown)
    return plan


def _refuse_unresolved(plan: Plan, provider: Provider) -> None:
    """An object to create or change that names something the target does not have would fail at its turn,
    after the operations before it ran: the plan stops here instead, naming each one. (A destroy, and
    objects left alone, go through.)"""
    missing = provider.unresolved()
    issues = [i for c in plan.actionable if c.action in (*CHANGING, Action.IMPORT) for i in missing.get(c.address, ())]
    if issues:
        raise StackValidationError(issues)


def _note_contents(plan: Plan, provider: Provider, managed: Mapping[str, Resource | None]) -> None:
    """Containers this plan drops: what they hold that the stack does not manage (consent.py asks)."""
    for c in plan.actionable:
        if c.action in (Action.DELETE, Action.REPLACE) and c.observed is not None:
            c.loses = provider.contents(c, managed)


def _settled_outputs(outputs: Mapping[str, Mapping[str, Any]], changes: Mapping[str, Change]
                     ) -> dict[str, dict[str, Any]]:
    """Known outputs minus those the apply will regenerate (declared per kind as drift_outputs)."""
    shown = {a: dict(o) for a, o in outputs.items()}
    for address, c in changes.items():
        if c.action in CHANGING and c.resource is not None and address in shown:
            for key in getattr(type(c.resource), "drift_outputs", ()):
                shown[address].pop(key, None)
    return shown


def _known_outputs(entries: Mapping[str, StateEntry], observed: Mapping[str, Observed]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {a: dict(e.outputs) for a, e in entries.items()}
    for a, o in observed.items():
        out.setdefault(a, {}).update(o.outputs)
    return out


def diff_resource(r: Resource, obs: Observed | None, prior: StateEntry | None,
                  outputs: Mapping[str, Mapping[str, Any]]) -> Change:
    if prior is not None:
        r.keep_secret_digests(prior.props)  # an unchanged secret keeps its recorded digest: no change
    desired = r.desired(outputs)
    base = Change(address=r.address, kind=r.kind, name=r.fqn, action=Action.NOOP, resource=r, prior=prior,
                  observed=obs.props if obs else None, observed_outputs=dict(obs.outputs) if obs else {},
                  desired=desired, needs=r.outputs_needed())
    if obs is None:
        base.action = Action.CREATE
        base.fields = [FieldChange(d.name, None, desired[d.name], d.prop.sensitive)
                       for d in kind_props(type(r)) if not d.prop.identity and desired.get(d.name) is not None]
        if prior is not None:
            base.reason = "recorded in the state but missing from the target (deleted outside spcs-iac)"
        return base
    base.fields = field_changes(type(r), desired, obs.props, prior.props if prior is not None else None)
    for key in getattr(type(r), "drift_outputs", ()):
        recorded = prior.outputs.get(key) if prior else None
        now = obs.outputs.get(key)
        if recorded and now != recorded:
            base.fields.append(FieldChange(key, recorded, now))
            base.reason = f"{key} in the target differs from the one spcs-iac recorded (changed outside spcs-iac)"
    _explain_spec(r, base, prior, outputs)
    if prior is None and any(f.forces_replace for f in base.fields):
        # Adopting it as it is cannot reach the declaration: replace it, and say why.
        base.action = Action.REPLACE
        base.reason = _drops_data(type(r), "exists in the target but not in the state, and differs in a field that "
                                  "cannot change in place")
    elif prior is None:
        base.action = Action.IMPORT
        base.reason = "exists in the target but not in the state: adopted" + (
            " and updated" if base.fields else "")
    elif any(f.forces_replace for f in base.fields):
        base.action = Action.REPLACE
        base.reason = _drops_data(type(r), base.reason)
    elif base.fields:
        base.action = Action.UPDATE
        if base.reason is None:
            base.reason = _drift_reason(base.fields, prior, desired)
    return base


def _explain_spec(r: Resource, change: Change, prior: StateEntry | None,
                  outputs: Mapping[str, Mapping[str, Any]]) -> None:
    """Say which paths of a service spec changed, from the spec recorded at the last apply."""
    spec = next((f for f in change.fields if f.name == "spec"), None)
    old = prior.outputs.get("spec_document") if prior else None
    if spec is None or old is None:
        return
    new = r.recorded(outputs).get("spec_document")
    spec.detail = spec_paths(old, new)
    if not spec.detail:
        spec.detail = ["(the spec is unchanged here: the target's copy was changed outside spcs-iac)"]


def spec_paths(old: Any, new: Any, path: str = "") -> list[str]:
    """Human lines for the differences between two spec documents."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in list(old) + [k for k in new if k not in old]:
            out += spec_paths(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [line for i, (a, b) in enumerate(zip(old, new, strict=True)) for line in spec_paths(a, b, f"{path}[{i}]")]
    if old == new:
        return []
    return [f"{path}: {_short(old)} -> {_short(new)}"]


def _short(value: Any) -> str:
    text = "absent" if value is None else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _drift_reason(fields: list[FieldChange], prior: StateEntry, desired: Mapping[str, Any]) -> str | None:
    """An update whose desired values equal what was recorded means the target was changed by hand."""
    drifted = [f.name for f in fields if f.name in prior.props and prior.props[f.name] == desired.get(f.name)]
    if drifted and len(drifted) == len(fields):
        return f"changed outside spcs-iac: {', '.join(drifted)}"
    return None


def _propagate(graph: nx.DiGraph, address: str, changes: dict[str, Change], predecessors: list[str]) -> None:
    """Finalise `address` given its predecessors' final actions (called in topological order)."""
    change = changes[address]
    r = change.resource
    if change.action is Action.CREATE or r is None:
        return
    for pred in predecessors:
        pc = changes.get(pred)
        if change.action is Action.REPLACE or pc is None or pc.action is not Action.REPLACE:
            continue
        data = graph.get_edge_data(pred, address) or {}
        if data.get("follow_replace"):
            change.action = Action.REPLACE
            change.reason = _drops_data(type(r), f"replaced because {pred} is replaced")
            return
    upstream = [a for a in change.needs if a in changes and changes[a].action in CHANGING]
    if not upstream:
        return
    fields = upstream_changed(type(r), change.fields, None)
    if fields is change.fields:
        return  # the kind computes nothing from upstream outputs
    consumer = fields[-1]
    consumer.before = change.observed.get(consumer.name) if change.observed else None
    change.fields = fields
    if change.action is not Action.REPLACE or change.reason is None:
        change.reason = f"{', '.join(upstream)} will change"
    if consumer.forces_replace:
        change.action = Action.REPLACE
    elif change.action is Action.NOOP:
        change.action = Action.UPDATE


def _destroy_change(r: Resource, prior: StateEntry | None, obs: Observed | None) -> Change:
    c = Change(address=r.address, kind=r.kind, name=r.fqn, action=Action.NOOP, resource=None, prior=prior,
               observed=obs.props if obs else None)
    if prior is None:
        c.reason = "not managed by this stack (absent from its state): left alone"
    elif obs is None:
        c.action, c.reason = Action.DELETE, "already absent from the target: only forgotten"
    else:
        c.action = Action.DELETE
        c.reason = _drops_data(type(r), None)
    return c


def _mark_adoption(change: Change, r: Resource, pending: Collection[str], entries: Mapping[str, StateEntry],
                   changes: Mapping[str, Change]) -> None:
    """An object found in the target but not in the state was made by someone else, unless this stack
    made it (a create whose reply was lost, or an object its parent's create makes, such as a database's
    PUBLIC schema): adopting it (or replacing it) then needs the user's consent."""
    if change.prior is not None or change.observed is None:
        return
    parent = r.made_with()
    if parent is not None:
        made = entries.get(parent)
        if (made is not None and not made.adopted) or (parent in changes and changes[parent].action is Action.CREATE):
            change.reason = f"made by the create of {parent}, which this stack manages: taken over"
            return
    if change.address in pending:
        change.reason = "created by an earlier run of this stack whose success was not recorded: taken back" + (
            "" if change.action is Action.IMPORT else f"; {change.reason}")
        change.finishing = change.action is Action.IMPORT
        return
    change.adopting = True
    if change.action is Action.IMPORT:
        change.reason = ("exists in the target but not in the state: adopting it needs --adopt (or "
                         "`spcs-iac import`)" + ("; then updated" if change.fields else ""))
    else:
        change.reason = (f"{change.reason}; it was not created by this stack: replacing it needs --adopt and "
                         "--destroy-adopted")


def _drops_data(cls: type | None, reason: str | None) -> str | None:
    """A kind that holds data (tables) says, whenever it is dropped, that the data goes with it."""
    note = getattr(cls, "drops_data", None)
    if not note:
        return reason
    return f"{reason}; {note}" if reason else note


def _orphan_deletes(entries: Mapping[str, StateEntry], desired: Mapping[str, Resource],
                    observed: Mapping[str, Observed]) -> list[Change]:
    """State entries no longer declared, dependents first."""
    orphans = {a: e for a, e in entries.items() if a not in desired}
    if not orphans:
        return []
    g = nx.DiGraph()
    g.add_nodes_from(orphans)
    for a, e in orphans.items():
        for dep in e.depends_on:
            if dep in orphans:
                g.add_edge(dep, a)
    out = []
    for a in reversed(list(nx.topological_sort(g))):
        e = orphans[a]
        obs = observed.get(a)
        c = Change(address=a, kind=e.kind, name=e.name, action=Action.DELETE, prior=e,
                   observed=obs.props if obs else None, depends_on=list(e.depends_on))
        c.reason = _drops_data(KINDS.get(e.kind), "removed from the stack") if obs else \
            "removed from the stack; already absent from the target"
        out.append(c)
    return out
