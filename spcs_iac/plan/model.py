"""A plan is data: changes with actions and field diffs. Rendering lives in render.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spcs_iac.model.base import Resource
    from spcs_iac.state.store import StateEntry

SENSITIVE = "(sensitive)"
KNOWN_AFTER_APPLY = "(known after apply)"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    IMPORT = "import"  # adopt an existing object into the state (plus its field updates, if any)
    NOOP = "no-op"


@dataclass
class FieldChange:
    name: str
    before: Any
    after: Any
    sensitive: bool = False
    forces_replace: bool = False
    known_after_apply: bool = False
    detail: list[str] = field(default_factory=list)  # e.g. which spec paths changed

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "before": SENSITIVE if self.sensitive and self.before is not None else self.before,
            "after": KNOWN_AFTER_APPLY if self.known_after_apply
            else SENSITIVE if self.sensitive and self.after is not None else self.after,
            "forces_replace": self.forces_replace,
            **({"detail": self.detail} if self.detail else {}),
        }


@dataclass
class Change:
    address: str
    kind: str
    name: str
    action: Action
    fields: list[FieldChange] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    reason: str | None = None
    resource: Resource | None = None  # desired object (None for deletes)
    prior: StateEntry | None = None  # what the state recorded
    observed: dict[str, Any] | None = None  # what the target has now (None = absent)
    observed_outputs: dict[str, Any] = field(default_factory=dict)  # outputs read from the target
    depends_on: list[str] = field(default_factory=list)

    @property
    def changed_fields(self) -> set[str]:
        return {f.name for f in self.fields}

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
        return out


@dataclass
class Plan:
    stack: str
    target: str
    changes: list[Change]
    destroy: bool = False
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # known at plan time: recorded + read

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
        return {
            "stack": self.stack,
            "target": self.target,
            "changes": [c.to_json() for c in self.actionable],
            "summary": self.summary(),
        }
