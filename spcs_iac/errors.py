"""Errors users see. Each names the object, the field, what was given and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class SpcsIacError(Exception):
    """Base of every error the CLI prints as a message instead of a traceback."""


@dataclass(frozen=True)
class Issue:
    obj: str
    field: str
    message: str
    given: Any = None

    def __str__(self) -> str:
        given = "" if self.given is None else f" (given: {_short(self.given)})"
        where = f"{self.obj}: {self.field}" if self.field else self.obj
        return f"{where}: {self.message}{given}"


class SensitiveValue:
    """Stands for a sensitive value in a message: says one was given, never what."""

    def __repr__(self) -> str:
        return "(sensitive value hidden)"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


class StackValidationError(SpcsIacError, ValueError):
    def __init__(self, issues: list[Issue]):
        self.issues = issues
        lines = "\n".join(f"  - {i}" for i in issues)
        super().__init__(f"{len(issues)} validation error{'s' if len(issues) != 1 else ''}:\n{lines}")


class DeclarationError(StackValidationError):
    """Raised when an object is constructed with bad arguments."""

    @classmethod
    def from_pydantic(cls, kind: str, data: dict[str, Any], exc: ValidationError,
                      sensitive: frozenset[str] = frozenset()) -> DeclarationError:
        """``sensitive``: fields whose given value is never repeated in the message."""
        name = data.get("name")
        obj = f"{kind} {name!r}" if isinstance(name, str) and name else kind
        issues = []
        for err in exc.errors(include_url=False):
            loc = _where(data, err.get("loc", ()))
            msg = err.get("msg", "invalid").removeprefix("Value error, ")
            if err.get("type") == "extra_forbidden":
                msg = "unknown field"
            elif err.get("type") == "missing":
                msg = "required field is missing"
            given = err.get("input") if err.get("type") not in ("missing",) and loc else None
            if isinstance(given, dict):
                given = None
            if given is not None and loc.split(".", 1)[0] in sensitive:
                given = SensitiveValue()
            issues.append(Issue(obj, loc, msg, given))
        return cls(issues)


def _where(data: Any, loc: tuple[Any, ...]) -> str:
    """A pydantic location as the user wrote it, list items named by their ``name`` where they have one:
    ``spec.containers[sidecar].readinessProbe.port`` rather than ``spec.containers.0...``."""
    parts: list[str] = []
    node: Any = data
    for p in loc:
        if p == "__root__":
            continue
        if isinstance(p, int) and parts:
            item = node[p] if isinstance(node, list | tuple) and 0 <= p < len(node) else None
            label = item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
            parts[-1] += f"[{label}]" if isinstance(label, str) and label else f"[{p}]"
            node = item
            continue
        if isinstance(node, dict) and p not in node and isinstance(node.get("spec"), dict):
            node = node["spec"]  # a spec in the YAML shape: its parts are under "spec:"
        parts.append(str(p))
        node = node.get(p) if isinstance(node, dict) else getattr(node, str(p), None)
    return ".".join(parts)


class AbandonedApply(KeyboardInterrupt):
    """Interrupted again while the operations in flight were finishing: they were not waited for."""


class ApplyError(SpcsIacError):
    pass


class StateCorruptError(SpcsIacError):
    """The state cannot be read; the message names the file, where, and how to recover."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("{stack}", "STACK"))
        self.template = message

    def for_stack(self, stack_ref: str) -> str:
        return self.template.replace("{stack}", stack_ref)


class StateLockedError(SpcsIacError):
    """The stack's state is locked. ``{stack}`` in the message stands for how the user named the stack;
    the CLI fills it in so that the command it suggests can be pasted as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("{stack}", "STACK"))
        self.template = message

    def for_stack(self, stack_ref: str) -> str:
        return self.template.replace("{stack}", stack_ref)


class ProviderError(SpcsIacError):
    """A target refused an operation; carries the statement or action that failed."""
