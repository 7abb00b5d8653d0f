"""Per-statement execution context: session, catalog, clock, name resolution, ownership checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import access
from .catalog import Catalog, Obj, fmt_key
from .errors import (
    already_exists,
    invalid,
    no_current_database,
    no_current_schema,
)
from .results import Result, status

if TYPE_CHECKING:
    from .engine import Emulator


@dataclass
class Session:
    token: str
    session_id: int
    user: str
    role: str
    warehouse: str | None = None
    database: str | None = None
    schema: str | None = None
    # USE SECONDARY ROLES: ["ALL"], role names, or [] (NONE, the emulator's default for new sessions).
    secondary: list[str] = field(default_factory=list)
    # Session parameters the emulator acts on (upper-case name -> value): MULTI_STATEMENT_COUNT.
    parameters: dict[str, str] = field(default_factory=dict)
    query_ids: list[str] = field(default_factory=list)  # the session's statements, oldest first (LAST_QUERY_ID)


@dataclass
class Ctx:
    emu: Emulator
    session: Session
    cat: Catalog
    sql: str
    now: float = field(default_factory=time.time)
    or_replace: bool = False
    # Work to run after the catalog lock is released (e.g. waiting for a synchronous job).
    after: Callable[[], Result] | None = None
    role_sets: dict[tuple[Any, ...], set[str]] = field(default_factory=dict)  # access.roles, per statement

    @property
    def role(self) -> str:
        return self.session.role

    # -- name resolution ------------------------------------------------------------------------
    def schema_key(self, parts: tuple[str, ...], action: str) -> tuple[str, str]:
        if len(parts) == 2:
            return parts[0], parts[1]
        if len(parts) == 1:
            if not self.session.database:
                raise no_current_database(action)
            return self.session.database, parts[0]
        raise invalid(f"invalid schema name '{'.'.join(parts)}'")

    def object_key(self, parts: tuple[str, ...], action: str) -> tuple[str, str, str]:
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        if not self.session.database:
            raise no_current_database(action)
        if len(parts) == 2:
            return self.session.database, parts[0], parts[1]
        if not self.session.schema:
            raise no_current_schema(action)
        return self.session.database, self.session.schema, parts[0]

    def account_key(self, parts: tuple[str, ...]) -> tuple[str]:
        if len(parts) != 1:
            raise invalid(f"invalid identifier '{'.'.join(parts)}'")
        return (parts[0],)

    def require_schema(self, db: str, schema: str) -> Obj:
        self.cat.require("DATABASE", (db,))
        return self.cat.require("SCHEMA", (db, schema))

    # -- privileges (the rules are in access.py) ---------------------------------------------------
    def acts_as_owner(self, obj: Obj) -> bool:
        return access.owns(self, obj)

    def inherits_owner(self, obj: Obj) -> bool:
        """The current roles own the object or inherit its owner (there is no administrator bypass)."""
        return access.owns(self, obj)

    def check_owner(self, obj: Obj) -> None:
        access.require_owner(self, obj)

    def check_owner_or_priv(self, obj: Obj, *privileges: str) -> None:
        access.require_owner(self, obj, *privileges)

    # -- generic create/drop --------------------------------------------------------------------
    def create(self, obj: Obj, if_not_exists: bool, label: str) -> Result:
        existing = self.cat.get(obj.kind, obj.key)
        shown = fmt_key(obj.key[-1:]) if obj.kind != "FUNCTION" else obj.key[2]
        access.require_create(self, obj.kind, obj.key)
        if existing is not None:
            if self.or_replace:
                self.check_owner(existing)
                self.cat.remove(existing.kind, existing.key)
            elif if_not_exists:
                return status(f"{shown} already exists, statement succeeded.")
            else:
                raise already_exists(fmt_key(obj.key[:3]) if obj.kind == "FUNCTION" else fmt_key(obj.key))
        self.cat.add(obj)
        return status(f"{label} {shown} successfully created.")

    def new_obj(self, kind: str, key: tuple[str, ...], comment: str | None = None, **props: Any) -> Obj:
        return Obj(kind, tuple(key), self.role, self.now, self.now, comment, dict(props))

    def drop(self, kind: str, key: tuple[str, ...], if_exists: bool) -> Result:
        obj = self.cat.get(kind, key)
        shown = key[2] if kind == "FUNCTION" else key[-1]
        if obj is None:
            if if_exists:
                return status(f"Drop statement executed successfully ({fmt_key((shown,))} already dropped).")
            self.cat.require(kind, key)
        assert obj is not None
        self.check_owner(obj)
        self.cat.remove(kind, key)
        return status(f"{fmt_key((shown,))} successfully dropped.")

    def alter_target(self, kind: str, key: tuple[str, ...], if_exists: bool) -> Obj | None:
        obj = self.cat.get(kind, key)
        if obj is None:
            if if_exists:
                return None
            self.cat.require(kind, key)
        assert obj is not None
        self.check_owner(obj)
        obj.updated_on = self.now
        return obj
