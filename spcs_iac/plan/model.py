"""A plan is data: changes with actions, desired values and field diffs. Rendering lives in render.py.

``Plan.to_json()`` carries everything the apply needs (each object's declaration as data, its desired
values, what the target and the state had, the outputs known at plan time) and ``Plan.from_json()``
reads it back: the operations compiled from either are the same. No secret appears in plain text: the
desired values and declarations hold salted hashes, and field diffs show sensitive values masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from spcs_iac.state.store import StateEntry

if TYPE_CHECKING:
    from spcs_iac.model.base import Resource

SENSITIVE = "(sensitive)"
KNOWN_AFTER_APPLY = "(known after apply)"
PLAN_FORMAT = 1


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    IMPORT = "import"  # adopt an existing object into the state (plus its field updates, if any)
    NOOP = "no-op"


@dataclass(slots=True)  # a plan holds one per compared field: about ten per object
class FieldChange:
    name: str
    before: Any
    after: Any
    sensitive: bool = False
    forces_replace: bool = False
    known_after_apply: bool = False
    detail: Sequence[str] = ()  # e.g. which spec paths changed

    def to_json(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "before": SENSITIVE if self.sensitive and self.before is not None else self.before,
            "after": KNOWN_AFTER_APPLY if self.known_after_apply
            else SENSITIVE if self.sensitive and self.after is not None else self.after,
            "forces_replace": self.forces_replace,
            **({"detail": list(self.detail)} if self.detail else {}),
        }
        if self.sensitive:
            out["sensitive"] = True
        if self.known_after_apply:
            out["known_after_apply"] = True
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FieldChange:
        unknown = bool(data.get("known_after_apply"))
        return cls(name=data["name"], before=data.get("before"), after=None if unknown else data.get("after"),
                   sensitive=bool(data.get("sensitive")), forces_replace=bool(data.get("forces_replace")),
                   known_after_apply=unknown, detail=list(data.get("detail") or []))


@dataclass(slots=True)
class Change:
    address: str
    kind: str
    name: str
    action: Action
    fields: list[FieldChange] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    reason: str | None = None
    resource: Resource | None = field(default=None, repr=False)  # the desired object (None for deletes)
    prior: StateEntry | None = None  # what the state recorded
    observed: dict[str, Any] | None = None  # what the target has now (None = absent)
    observed_outputs: dict[str, Any] = field(default_factory=dict)  # outputs read from the target
    depends_on: list[str] = field(default_factory=list)
    desired: dict[str, Any] | None = None  # desired values at plan time (secrets as hashes)
    needs: list[str] = field(default_factory=list)  # addresses whose outputs feed the desired values
    adopting: bool = False  # takes over an object this stack did not create (needs consent)
    # Taken back from a run of this stack that started it without recording the success (interrupted, or out
    # of time while waiting for it): the apply finishes it as its create would have, e.g. waits until READY.
    finishing: bool = False
    # What dropping this container (database, schema, stage) takes with it that the stack does not manage.
    loses: list[str] = field(default_factory=list)
    _declaration: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def destroys_adopted(self) -> bool:
        """Deletes or replaces an object that existed before the stack took it over."""
        if self.action not in (Action.DELETE, Action.REPLACE):
            return False
        return self.adopting or bool(self.prior is not None and self.prior.adopted and self.observed is not None)

    @property
    def changed_fields(self) -> set[str]:
        return {f.name for f in self.fields}

    @property
    def declaration(self) -> dict[str, Any] | None:
        """The declared object as data (model.declaration); computed when first asked for."""
        if self._declaration is None and self.resource is not None:
            from spcs_iac.model.declaration import declaration

            self._declaration = declaration(self.resource)
        return self._declaration

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "address": self.address,
            "kind": self.kind,
            "name": self.name,
            "action": self.action.value,
            "fields": [f.to_json() for f in self.fields],
            "statements": list(self.statements),
        }
        if self.reason:
            out["reason"] = self.reason
        if self.declaration is not None:
            out["declaration"] = self.declaration
        if self.desired is not None:
            out["desired"] = self.desired
        if self.needs:
            out["needs"] = list(self.needs)
        if self.adopting:
            out["adopting"] = True
        if self.finishing:
            out["finishing"] = True
        if self.loses:
            out["loses"] = list(self.loses)
        if self.prior is not None:
            out["prior"] = self.prior.to_json()
        if self.observed is not None:
            out["observed"] = self.observed
        if self.observed_outputs:
            out["observed_outputs"] = self.observed_outputs
        if self.depends_on:
            out["depends_on"] = list(self.depends_on)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        prior = data.get("prior")
        return cls(address=data["address"], kind=data["kind"], name=data["name"], action=Action(data["action"]),
                   fields=[FieldChange.from_json(f) for f in data.get("fields") or []],
                   statements=list(data.get("statements") or []), reason=data.get("reason"),
                   prior=StateEntry(**prior) if prior is not None else None, observed=data.get("observed"),
                   observed_outputs=dict(data.get("observed_outputs") or {}),
                   depends_on=list(data.get("depends_on") or []), desired=data.get("desired"),
                   needs=list(data.get("needs") or []), adopting=bool(data.get("adopting")),
                   finishing=bool(data.get("finishing")),
                   loses=list(data.get("loses") or []),
                   _declaration=data.get("declaration"))


@dataclass
class Plan:
    stack: str
    target: str
    changes: list[Change]
    destroy: bool = False
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # known at plan time: recorded + read
    serial: int | None = None  # the state version the plan was made from
    source: str | None = None  # where the stack was loaded from (a saved plan is applied with it)

    @property
    def actionable(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.NOOP]

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.IMPORT)}
        for c in self.actionable:
            counts[c.action.value] += 1
        return counts

    def get(self, address: str) -> Change:
        for c in self.changes:
            if c.address == address:
                return c
        raise KeyError(address)

    def to_json(self) -> dict[str, Any]:
        """The plan as data. ``changes`` lists what apply will do; ``unchanged`` the declared objects it
        leaves alone (their declarations link names, e.g. a spec's image, when the plan is read back)."""
        return {
            "format": PLAN_FORMAT,
            "stack": self.stack,
            "target": self.target,
            "destroy": self.destroy,
            "serial": self.serial,
            "source": self.source,
            "changes": [c.to_json() for c in self.actionable],
            "unchanged": [c.to_json() for c in self.changes if c.action is Action.NOOP],
            "outputs": self.outputs,
            "summary": self.summary(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], kinds: dict[str, type[Resource]] | None = None) -> Plan:
        """Read a plan back; each declared object is rebuilt from its data (secrets stay hashes until the
        apply binds them)."""
        if data.get("format") != PLAN_FORMAT:
            from spcs_iac.errors import SpcsIacError

            raise SpcsIacError(f"plan format {data.get('format')!r} is not supported (this version reads "
                               f"{PLAN_FORMAT}); make the plan again with this version")
        changes = [Change.from_json(c) for c in [*(data.get("changes") or []), *(data.get("unchanged") or [])]]
        _rebuild_resources(changes, kinds)
        order = {c["address"]: i for i, c in enumerate(data.get("changes") or [])}
        unchanged = [c for c in changes if c.address not in order]
        acting = sorted((c for c in changes if c.address in order), key=lambda c: order[c.address])
        return cls(stack=data["stack"], target=data["target"], changes=acting + unchanged,
                   destroy=bool(data.get("destroy")), outputs=dict(data.get("outputs") or {}),
                   serial=data.get("serial"), source=data.get("source"))


def _rebuild_resources(changes: list[Change], kinds: dict[str, type[Resource]] | None) -> None:
    from spcs_iac.model.declaration import rebuild

    if kinds is None:
        from spcs_iac.model.kinds import KINDS as kinds  # noqa: N811
    declared = [c for c in changes if c.declaration is not None]
    index = rebuild([(c.kind, c.declaration) for c in declared], kinds)  # type: ignore[misc]
    for c in declared:
        c.resource = index.get(c.address)
