"""Per-field declarations: how each property of a kind behaves across plan, SQL, read-back and docs.

A kind declares each field once, as ``Annotated[type, Prop(...)]`` on its pydantic model. The planner,
the Snowflake SQL generator, the read-back normalisers and the generated docs all read these ``Prop``
objects through :func:`kind_props`; no other place lists a kind's fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spcs_iac.model.base import Resource


class Update(StrEnum):
    """What a change to the field costs."""

    ALTER = "alter"  # changed in place (ALTER ... SET / UNSET or a special form)
    REPLACE = "replace"  # the object must be dropped and created again
    CREATE_ONLY = "create_only"  # used at creation, never compared afterwards


class Fmt(StrEnum):
    """How a value is written in SQL ``KEY = value`` clauses."""

    KEYWORD = "keyword"  # validated enum, emitted bare
    STRING = "string"  # escaped single-quoted literal
    INT = "int"
    BOOL = "bool"  # TRUE / FALSE
    IDENT = "ident"  # a single (possibly qualified) identifier
    IDENT_LIST = "ident_list"  # (A, B)
    STRING_LIST = "string_list"  # ('a', 'b')
    SPECIAL = "special"  # the kind's SQL module renders it


class Unset(StrEnum):
    """What an omitted (None) field means."""

    DEFAULT = "default"  # the target's default (Prop.default) is desired; drift back to it is corrected
    IGNORE = "ignore"  # not managed: whatever the target has is fine


@dataclass(frozen=True)
class Prop:
    sql: str | None = None  # SQL property name, e.g. WAREHOUSE_SIZE; None = not a SQL property
    fmt: Fmt = Fmt.KEYWORD
    update: Update = Update.ALTER
    readable: bool = True  # read back from the target; False = compared with the recorded state
    # Readable, but Snowflake shows no column for it (the adapter's ``not_shown``): compared with the
    # recorded state, so a change made outside spcs-iac is not detected.
    shown: bool = True
    sensitive: bool = False  # never shown, logged or stored in plain text
    default: Any = None  # value the target uses when the field is not set
    unset: Unset = Unset.DEFAULT
    unordered: bool = False  # lists compared as sets
    follow_replace: bool = False  # reference: replacing the referenced object replaces this one
    ref: str | None = None  # the field refers to objects of this kind (object or name)
    identity: bool = False  # part of the object's identity (its address): never diffed
    from_outputs: bool = False  # computed from upstream objects' outputs (image digests): known after apply
    # The kind classifies changes of this field itself (a table's columns): (have, want) -> None when
    # equal, else (forces replace, plan detail lines). ``update`` then only says what no change costs.
    compare: Callable[[Any, Any], tuple[bool, list[str]] | None] | None = None
    doc: str = ""


@dataclass(frozen=True)
class FieldDecl:
    name: str
    prop: Prop
    is_reference: bool


@cache
def kind_props(cls: type[Resource]) -> tuple[FieldDecl, ...]:
    """The declared properties of a kind, in declaration order.

    The ``owner`` field is declared once on the base class; what an owner change costs is the kind's
    (``owner_change``: services cannot transfer ownership), so its Prop carries the kind's rule here and
    every caller reads one ``update`` value."""
    out: list[FieldDecl] = []
    for name, info in cls.model_fields.items():
        prop = next((m for m in info.metadata if isinstance(m, Prop)), None)
        if prop is None:
            continue
        if name == "owner" and prop.update is not cls.owner_change:
            prop = replace(prop, update=cls.owner_change)
        out.append(FieldDecl(name=name, prop=prop, is_reference=prop.ref is not None))
    return tuple(out)


@cache
def output_consumer(cls: type[Resource]) -> FieldDecl | None:
    """The field whose value is computed from upstream outputs (``Prop.from_outputs``), if any."""
    return next((d for d in kind_props(cls) if d.prop.from_outputs), None)
