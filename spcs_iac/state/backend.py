"""Where a stack's state lives: one small interface, a file backend and a backend in the account.

A backend holds the entries of one stack on one target, records each successful operation at once,
hands out one lock at a time, and keeps the versions it wrote (``history``). The planner and the
executor see only this interface; ``open_state`` picks the backend from a URL:

- ``file://DIR`` — a JSON file and its journal in DIR (the default, ``.spcs-iac``);
- ``snowflake://DATABASE.SCHEMA`` — tables in the target account, reached through the same connection
  (see :mod:`spcs_iac.state.account`); the driver passes the SQL runner in.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from spcs_iac.errors import SpcsIacError

STATE_VERSION = 1
DEFAULT_STATE_DIR = ".spcs-iac"


@dataclass
class StateEntry:
    kind: str
    name: str
    props: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    owner: str | None = None
    adopted: bool = False  # existed before the stack took it over: replacing or deleting it needs consent

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object, sharing its values: written out at once, never changed (a journal
        line per operation; ``dataclasses.asdict`` deep-copied every value of every entry first)."""
        return {"kind": self.kind, "name": self.name, "props": self.props, "outputs": self.outputs,
                "depends_on": self.depends_on, "owner": self.owner, "adopted": self.adopted}


@dataclass(frozen=True)
class StateVersion:
    serial: int
    written_at: float
    written_by: str  # user@host pid
    command: str
    objects: int


class StateBackend(ABC):
    """The state of one stack on one target."""

    stack: str
    target: str
    entries: dict[str, StateEntry]
    serial: int
    # Creates that were started but whose success was not recorded (a lost reply, a killed run): an
    # object found at such an address was made by this stack, so taking it back needs no consent.
    pending: set[str]

    @property
    @abstractmethod
    def url(self) -> str:
        """Where the state lives, for messages (file://..., snowflake://...)."""

    @abstractmethod
    def load(self) -> None:
        """Read the latest version (and any operations recorded after it)."""

    def get(self, address: str) -> StateEntry | None:
        return self.entries.get(address)

    @abstractmethod
    def record(self, address: str, entry: StateEntry) -> None:
        """Keep one successful create/update at once (a crash after it must not lose it)."""

    @abstractmethod
    def intend(self, address: str) -> None:
        """Note, before a create runs, that this stack is creating the object at ``address``."""

    @abstractmethod
    def forget(self, address: str) -> None:
        """Drop one entry at once (a successful delete, or ``state rm``)."""

    @abstractmethod
    def locked(self, command: str = "apply", wait: float = 0.0) -> AbstractContextManager[StateBackend]:
        """Hold the stack's lock (waiting up to ``wait`` seconds for another holder); operations recorded
        meanwhile become one new version when it is released."""

    @abstractmethod
    def force_unlock(self, lock_id: str | None = None) -> bool:
        """Remove a lock left by a holder that died; with ``lock_id``, only that lock."""

    @abstractmethod
    def history(self) -> list[StateVersion]:
        """The versions written, oldest first."""

    def document(self) -> dict[str, Any]:
        """The state as one JSON document (``state pull``)."""
        return {"version": STATE_VERSION, "stack": self.stack, "target": self.target, "serial": self.serial,
                "pending": sorted(self.pending), **pack_resources(self.entries)}

    def replace_all(self, entries: dict[str, StateEntry]) -> None:
        """Make ``entries`` the state, as one new version (``state push``, ``state mv``, ``state rebuild``).
        Call it while holding the lock."""
        for address in [a for a in self.entries if a not in entries]:
            self.forget(address)
        for address, entry in entries.items():
            if self.entries.get(address) != entry:
                self.record(address, entry)


# Objects owned by one role all depend on the grants that give the role its privileges: written out per
# object, those lists make the state grow with objects x grants. A document keeps each such set of grant
# addresses once, under "dependency_sets", and an entry names it as "@<id>".
SHARED_KINDS = ("grant.", "role_grant.")


def pack_resources(entries: dict[str, StateEntry]) -> dict[str, Any]:
    """``{"resources": ..., "dependency_sets": ...}`` for a state document."""
    sets: dict[tuple[str, ...], str] = {}
    resources: dict[str, Any] = {}
    for address, entry in sorted(entries.items()):
        data = entry.to_json()
        shared = tuple(sorted(d for d in entry.depends_on if d.startswith(SHARED_KINDS)))
        if len(shared) > 1:
            ref = sets.setdefault(shared, f"g{len(sets) + 1}")
            data["depends_on"] = [d for d in entry.depends_on if not d.startswith(SHARED_KINDS)] + ["@" + ref]
        resources[address] = data
    out: dict[str, Any] = {"resources": resources}
    if sets:
        out["dependency_sets"] = {ref: list(members) for members, ref in sets.items()}
    return out


def unpack_resources(doc: dict[str, Any]) -> dict[str, StateEntry]:
    """The entries of a state document (raises TypeError/ValueError on a malformed one)."""
    sets = doc.get("dependency_sets") or {}
    entries = {}
    for address, data in (doc.get("resources") or {}).items():
        entry = StateEntry(**data)
        if any(d.startswith("@") for d in entry.depends_on):
            entry.depends_on = [m for d in entry.depends_on for m in (sets[d[1:]] if d.startswith("@") else [d])]
        entries[address] = entry
    return entries


def entries_from_document(doc: dict[str, Any], stack: str, target: str) -> tuple[int, dict[str, StateEntry]]:
    """Check a state document (``state push``) and read its entries."""
    if doc.get("version") != STATE_VERSION:
        raise SpcsIacError(f"state version {doc.get('version')!r} is not supported (this version reads "
                           f"{STATE_VERSION})")
    if (doc.get("stack"), doc.get("target")) != (stack, target):
        raise SpcsIacError(f"the document is the state of stack {doc.get('stack')} on {doc.get('target')}, "
                           f"not of stack {stack} on {target}")
    try:
        return int(doc.get("serial", 0)), unpack_resources(doc)
    except (TypeError, KeyError) as exc:
        raise SpcsIacError(f"the state document has a malformed entry: {exc}") from None


def state_url(explicit: str | None = None, declared: str | None = None, state_dir: str | None = None) -> str:
    """The state URL in force: ``--state``, else ``SPCS_IAC_STATE``, else the stack's ``state=``, else a
    directory (``--state-dir``, ``SPCS_IAC_STATE_DIR`` or ``.spcs-iac``)."""
    url = explicit or os.environ.get("SPCS_IAC_STATE") or declared
    if url:
        return url
    return "file://" + str(state_dir or os.environ.get("SPCS_IAC_STATE_DIR") or DEFAULT_STATE_DIR)


def open_state(url: str, stack: str, target: str, sql: Any = None, *, strict: bool = True) -> StateBackend:
    """The backend for ``url``; ``sql`` is the account's SQL runner, needed by ``snowflake://``.
    ``strict=False`` opens a damaged file state as empty, for ``state push --force`` to replace."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "file", url
    if scheme == "file":
        from spcs_iac.state.store import StateStore

        return StateStore(stack, target, rest or DEFAULT_STATE_DIR, strict=strict)
    if scheme == "snowflake":
        from spcs_iac.state.account import AccountState

        if sql is None:
            raise SpcsIacError(f"state {url}: keeping the state in the account needs a Snowflake connection")
        return AccountState(rest, stack, target, sql)
    raise SpcsIacError(f"state {url!r}: unknown kind {scheme!r}; allowed: file://DIR, snowflake://DATABASE.SCHEMA")


def iter_versions(versions: list[StateVersion]) -> Iterator[str]:
    """Lines for ``state history``."""
    import time

    for v in versions:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(v.written_at))
        yield f"{v.serial:>6}  {when}  {v.command:<10} {v.objects:>5} objects  by {v.written_by}"
