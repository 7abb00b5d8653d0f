"""Table columns: their normal form, and what changing them costs on Snowflake.

A table's columns are one declared field whose changes are not all alike, so the kind classifies them
itself (``Prop.compare``): adding, dropping and renaming a column, its nullability, its comment, dropping
its default, a longer VARCHAR or another NUMBER precision are ALTERed in place; another type, a shorter
VARCHAR, another scale, or a new default cannot be (docs.snowflake.com/en/sql-reference/sql/
alter-table-column), so the table is replaced, and its rows with it. Column order is not compared:
Snowflake appends added columns and cannot move them.

The planner, the Snowflake statements and the local warehouse all read :func:`plan_columns`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sfduck import types as sftypes
from spcs_iac.model import identifiers as ids

# Defaults that are expressions rather than values (anything else a string default is, is text).
DEFAULT_EXPRESSIONS = ("CURRENT_TIMESTAMP()", "CURRENT_DATE()", "CURRENT_TIME()", "SYSDATE()",
                       "CURRENT_USER()", "CURRENT_ROLE()", "UUID_STRING()")
Col = Mapping[str, Any]  # {"name", "type", "nullable", "default", "comment"[, "renamed_from"]}


def default_sql(value: Any) -> str | None:
    """A declared default as Snowflake SQL: a literal (escaped), or one of DEFAULT_EXPRESSIONS."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"default {value!r}: only finite numbers")
        return repr(value)
    text = str(value)
    if text.strip().upper() in DEFAULT_EXPRESSIONS:
        return text.strip().upper()
    return ids.string_literal(text)


def normal_default(text: Any) -> str | None:
    """A default as Snowflake shows it (SHOW COLUMNS ``default``), in the form default_sql gives.

    Snowflake stores an expression default in a form of its own: cast to the column's type
    (``CAST(CURRENT_TIMESTAMP() AS TIMESTAMP_NTZ(9))`` for a TIMESTAMP_NTZ column) and SYSDATE() spelt out
    (https://github.com/littleK0i/SnowDDL/issues/334). Those read back as the expression declared, or every
    plan would replace the table, and its rows with it."""
    if text is None:
        return None
    s = str(text).strip()
    while (cast := _CAST.fullmatch(s)) is not None:
        s = (cast.group(1) or cast.group(2)).strip()
    if not s or s.upper() == "NULL":
        return None
    if s.startswith("'"):
        return s
    upper = s.upper()
    if _SYSDATE.fullmatch(upper):
        return "SYSDATE()"
    if re.fullmatch(r"[A-Z_]+", upper) and f"{upper}()" in DEFAULT_EXPRESSIONS:
        return f"{upper}()"
    return upper


_CAST = re.compile(r"CAST\((.+) AS [A-Z_]+(?:\(\d+(?:,\s*\d+)?\))?\)|(.+)::[A-Z_]+(?:\(\d+(?:,\s*\d+)?\))?",
                   re.IGNORECASE)
_SYSDATE = re.compile(r"CONVERT_TIMEZONE\('UTC',\s*(?:CAST\()?CURRENT_TIMESTAMP\(\)(?: AS TIMESTAMP_TZ(?:\(\d\))?\))?\)")


def normal_type(text: Any) -> str:
    try:
        return sftypes.canonical(str(text))
    except sftypes.TypeSpellingError:
        return str(text).upper()


@dataclass
class ColumnPlan:
    """What turning one column list into another takes, in the order the statements run."""

    renames: list[tuple[str, str]] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)
    adds: list[Col] = field(default_factory=list)
    retypes: list[tuple[str, str, str]] = field(default_factory=list)  # (column, old, new)
    nullability: list[tuple[str, bool]] = field(default_factory=list)
    drop_defaults: list[str] = field(default_factory=list)
    comments: list[tuple[str, str | None]] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)  # why an ALTER cannot do it

    @property
    def empty(self) -> bool:
        return not (self.renames or self.drops or self.adds or self.retypes or self.nullability
                    or self.drop_defaults or self.comments or self.replace)

    def lines(self) -> list[str]:
        """Plan detail: one line per column change; dropped data is said out loud."""
        out = [f"column {ids.quote(new)}: renamed from {ids.quote(old)}" for old, new in self.renames]
        out += [f"column {ids.quote(c['name'])}: added ({c['type']})" for c in self.adds]
        out += [f"WARNING column {ids.quote(n)}: dropped, and the data in it with it" for n in self.drops]
        out += [f"column {ids.quote(n)}: type {a} -> {b} (in place)" for n, a, b in self.retypes]
        out += [f"column {ids.quote(n)}: {'nullable' if ok else 'NOT NULL'}" for n, ok in self.nullability]
        out += [f"column {ids.quote(n)}: default dropped" for n in self.drop_defaults]
        out += [f"column {ids.quote(n)}: comment {'set' if c is not None else 'removed'}" for n, c in self.comments]
        out += [f"WARNING {why}: the table is replaced, and ALL ITS ROWS ARE LOST" for why in self.replace]
        return out


def as_columns(value: Any) -> list[Col] | None:
    if not isinstance(value, list) or not all(isinstance(c, Mapping) and "name" in c for c in value):
        return None
    return list(value)


def plan_columns(before: Sequence[Col], after: Sequence[Col]) -> ColumnPlan:
    plan = ColumnPlan()
    have = {str(c["name"]): c for c in before}
    wanted = {str(c["name"]) for c in after}
    matched: set[str] = set()
    for want in after:
        name = str(want["name"])
        old_name = name if name in have else None
        source = want.get("renamed_from")
        if old_name is None and source and source in have and source not in wanted and source not in matched:
            old_name = source
            plan.renames.append((source, name))
        if old_name is None:
            plan.adds.append(want)
            continue
        matched.add(old_name)
        _compare(plan, name, have[old_name], want)
    plan.drops = [n for n in have if n not in matched]
    return plan


def _compare(plan: ColumnPlan, name: str, old: Col, new: Col) -> None:
    a, b = normal_type(old.get("type")), normal_type(new.get("type"))
    if a != b:
        try:
            in_place = sftypes.in_place_change(a, b)
        except sftypes.TypeSpellingError:
            in_place = False
        if in_place:
            plan.retypes.append((name, a, b))
        else:
            plan.replace.append(f"column {ids.quote(name)}: type {a} -> {b} cannot be altered")
    if bool(old.get("nullable", True)) != bool(new.get("nullable", True)):
        plan.nullability.append((name, bool(new.get("nullable", True))))
    da, db = normal_default(old.get("default")), normal_default(new.get("default"))
    if da != db:
        if db is None:
            plan.drop_defaults.append(name)
        else:
            plan.replace.append(f"column {ids.quote(name)}: default {da or 'none'} -> {db} cannot be altered")
    if (old.get("comment") or None) != (new.get("comment") or None):
        plan.comments.append((name, new.get("comment") or None))


def compare_columns(have: Any, want: Any) -> tuple[bool, list[str]] | None:
    """``Prop.compare`` of Table.columns: None when equal, else (forces replace, detail lines)."""
    before, after = as_columns(have), as_columns(want)
    if after is None:
        return None if have == want else (False, [])
    if before is None:
        return (False, [])  # not read back (unknown): the apply sets them as declared
    plan = plan_columns(before, after)
    if plan.empty:
        return None
    return (bool(plan.replace), plan.lines())
