"""A Stack: the named set of objects one plan/apply manages."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TypeVar

from spcs_iac.errors import Issue, StackValidationError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource

R = TypeVar("R", bound=Resource)
STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class Stack:
    """Objects are added with :meth:`add`; objects they reference are included automatically."""

    def __init__(self, name: str, *, default_target: str = "local", state: str | None = None) -> None:
        """``state`` is where the state lives, e.g. ``snowflake://OPS.SPCS_IAC_STATE`` (default: files in
        ``.spcs-iac``; ``--state`` and ``SPCS_IAC_STATE`` override it)."""
        if not isinstance(name, str) or not STACK_NAME.match(name):  # Stack(123): named, not a TypeError
            raise StackValidationError(
                [Issue(f"Stack {name!r}", "name", "letters, digits, '.', '_' or '-', at most 63", name)]
            )
        self.name = name
        self.default_target = default_target
        self.state = state
        self.environment: str | None = None  # set when loaded with --env (the name then ends in .ENV)
        self._added: list[Resource] = []
        self._index: dict[str, Resource] | None = None
        # What len() counts without resolving the whole stack again after each add (a loop that adds
        # and counts stays linear): every object added or referenced, by address, each walked once.
        self._members: dict[str, Resource] = {}
        self._walked: set[int] = set()
        self._walked_of: list[Resource] = self._added
        self._walked_upto = 0  # objects of _added walked so far
        self._clash = False  # two objects with one address: resources() names them

    def add(self, resource: R) -> R:
        if not isinstance(resource, Resource):
            raise StackValidationError(
                [Issue(f"Stack {self.name}", "add", "takes a resource object (Role, Service, ...)", resource)]
            )
        self._added.append(resource)
        self._index = None
        return resource

    def extend(self, resources: Iterable[Resource]) -> None:
        for r in resources:
            self.add(r)

    # ---- the resolved set of objects -----------------------------------------------------------
    def resources(self) -> dict[str, Resource]:
        """address -> object: added objects plus referenced objects, links resolved, duplicates rejected."""
        if self._index is None:
            self._index = _collect(self._added)
            link_names(self._index)
            # The count starts again from what was just resolved (objects changed since are seen again).
            self._members, self._walked = dict(self._index), {id(r) for r in self._index.values()}
            self._walked_of, self._walked_upto, self._clash = self._added, len(self._added), False
        return self._index

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources().values())

    def __len__(self) -> int:
        if self._index is None and self._count_added():
            return len(self._members)
        return len(self.resources())  # resolved already, or names clash: resources() raises naming them

    def _count_added(self) -> bool:
        """Walk the objects added since the last count and what they reference; False on a name clash."""
        if self._walked_of is not self._added or self._walked_upto > len(self._added):  # _added was replaced
            self._members, self._walked, self._walked_upto, self._clash = {}, set(), 0, False
            self._walked_of = self._added
        pending = self._added[self._walked_upto:]
        self._walked_upto = len(self._added)
        while pending:
            r = pending.pop()
            if id(r) in self._walked:
                continue
            self._walked.add(id(r))
            if self._members.setdefault(r.address, r) is not r:
                self._clash = True
            pending.extend(t for _f, _k, t in r.references()
                           if isinstance(t, Resource) and id(t) not in self._walked)
        return not self._clash

    def get(self, address_or_name: str) -> Resource:
        index = self.resources()
        if address_or_name in index:
            return index[address_or_name]
        matches = [r for r in index.values() if ids.name_matches(address_or_name, r.fqn)]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(sorted(index)[:20])
        raise StackValidationError(
            [Issue(f"Stack {self.name}", "object", f"no single object matches; known: {known}", address_or_name)]
        )

    # ---- checks (planning and applying live in spcs_iac.drivers.api) ------------------------------
    def validate(self) -> None:
        from spcs_iac.model.validate import validate_stack

        issues = validate_stack(self)
        if issues:
            raise StackValidationError(issues)


def _collect(added: list[Resource]) -> dict[str, Resource]:
    index: dict[str, Resource] = {}
    issues: list[Issue] = []
    stack = deque(added)  # first in, first out: added objects first, in order, then what they reference
    seen: set[int] = set()
    while stack:
        r = stack.popleft()
        if id(r) in seen:
            continue
        seen.add(id(r))
        other = index.get(r.address)
        if other is not None and other is not r:
            issues.append(Issue(r.describe(), "name", "two different objects have the same name in one scope", r.fqn))
            continue
        index[r.address] = r
        for _field, _kind, target in r.references():
            if isinstance(target, Resource) and id(target) not in seen:
                stack.append(target)
    if issues:
        raise StackValidationError(issues)
    return index


def link_names(index: dict[str, Resource]) -> None:
    """Replace names that denote managed objects by the objects, so edges and diffs see them."""
    by_kind: dict[str, dict[str, Resource]] = {}
    by_short: dict[tuple[str, str], list[Resource]] = {}
    images: dict[str, Resource] = {}
    for r in index.values():
        by_kind.setdefault(r.kind, {})[r.fqn] = r
        by_short.setdefault((r.kind, r.name), []).append(r)
        if r.kind == "image":
            images[r.spec_reference()] = r  # type: ignore[attr-defined]

    def resolve(owner: Resource, kind: str, name: str) -> Resource | None:
        if kind == "image":
            path = "/" + name.split("/", 1)[1] if not name.startswith("/") and "/" in name else name
            return images.get(path.lower()) or images.get(name.lower())
        pool = by_kind.get(kind, {})
        try:
            parts = ids.split_qualified(name)
        except ids.IdentifierError:
            return None
        if len(parts) < 3 and hasattr(owner, "qualify") and kind not in ("role", "database", "schema", "warehouse",
                                                                          "compute_pool", "external_access_integration"):
            hit = pool.get(owner.qualify(name))  # type: ignore[attr-defined]
            if hit is not None:
                return hit
        hit = pool.get(ids.qualified(*parts))
        if hit is not None:
            return hit
        if len(parts) == 1:
            candidates = by_short.get((kind, parts[0]), [])
            if len(candidates) == 1:
                return candidates[0]
        return None

    for r in index.values():
        for field, kind, target in list(r.references()):
            if not isinstance(target, str) or not kind:
                continue
            hit = resolve(r, kind, target)
            if hit is None:
                continue
            _replace_reference(r, field, target, hit)


def _replace_reference(r: Resource, field: str, name: str, hit: Resource) -> None:
    if field == "spec":
        if hit.kind == "image":
            for c in r.spec.containers:  # type: ignore[attr-defined]
                if c.image == name:
                    c.image = hit
        else:  # a secret or stage: the spec keeps the name as written, the object becomes a dependency
            r.link_spec(hit.kind, name, hit)  # type: ignore[attr-defined]
        return
    if field in ("database", "schema"):
        attr = "schema_" if field == "schema" else "database"
        current = getattr(r, attr, None)
        if isinstance(current, str) and hit.kind == field:
            if field == "database":
                r.database = hit  # type: ignore[attr-defined]
            else:
                _set_schema(r, hit)
        return
    value = getattr(r, field, None)
    if isinstance(value, list):
        setattr(r, field, [hit if v == name else v for v in value])
    elif value == name:
        setattr(r, field, hit)


def _set_schema(r: Resource, schema: Resource) -> None:
    if getattr(schema, "database_name", None) == getattr(r, "database_name", None):
        r.schema_ = schema  # type: ignore[attr-defined]
