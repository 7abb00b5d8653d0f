"""SHOW / DESCRIBE rows -> declared field values, normalised so that what was applied compares equal.

A field is read from the column its kind's adapter names (by default the field's own name) and normalised
by its ``Fmt`` or the adapter's converter (:mod:`.values`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spcs_iac.targets.snowflake.adapters import ADAPTERS
from spcs_iac.targets.snowflake.sql import stamp_fields
from spcs_iac.targets.snowflake.values import function_row_types, is_null, normalise, qualify


def describe_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """DESCRIBE output as one dict: property/value rows are folded, a single row is taken as is."""
    if rows and "property" in rows[0]:
        value_col = next((c for c in ("property_value", "value") if c in rows[0]), None)
        if value_col is not None:
            return {str(r["property"]).lower(): r.get(value_col) for r in rows}
    return dict(rows[0]) if rows else {}


def props_of(kind: str, row: Mapping[str, Any], scope_parts: tuple[str, ...] = ()) -> dict[str, Any]:
    """The readable declared fields found in ``row`` (SHOW merged with DESCRIBE)."""
    adapter = ADAPTERS[kind]
    out: dict[str, Any] = {}
    for decl in adapter.read_fields():
        col = adapter.column(decl.name)
        if col not in row:
            continue
        conv = adapter.converters.get(decl.name)
        if conv is None and decl.name == "comment" and isinstance(row[col], str):
            # The user's comment without the stack marker; only a marker means no comment of the user's,
            # which the target shows as its default (a function's "user-defined function").
            user = stamp_fields(row[col])[0]
            out[decl.name] = user if user is not None else decl.prop.default
            continue
        out[decl.name] = conv(row[col]) if conv else normalise(decl.prop, row[col])
    for name in adapter.qualify:
        if out.get(name) and scope_parts:
            out[name] = qualify(str(out[name]), scope_parts)
    return out


def owner_of(rows: object) -> str | None:
    """The grantee of the OWNERSHIP row of ``SHOW GRANTS ON <object>`` (None when not read)."""
    if not isinstance(rows, list):
        return None
    return next((str(r.get("grantee_name")) for r in rows
                 if str(r.get("privilege", "")).upper() == "OWNERSHIP" and r.get("grantee_name")), None)


def outputs_of(kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
    adapter = ADAPTERS[kind]
    out = {name: row[col] for name, col in adapter.outputs.items() if not is_null(row.get(col))}
    comment = row.get(adapter.column("comment"))
    stack = stamp_fields(comment)[1].get("stack") if isinstance(comment, str) else None
    if stack:
        out["managed_by"] = stack  # the stack that created it (state rebuild takes back only its own)
    return out


def row_key(kind: str, row: Mapping[str, Any]) -> tuple[str, ...] | None:
    adapter = ADAPTERS[kind]
    if any(is_null(row.get(c)) for c in adapter.key):
        return None
    key = tuple(str(row[c]) for c in adapter.key)
    if adapter.signature:
        # SHOW FUNCTIONS names overloads alike: the argument types in `arguments` tell them apart.
        types = function_row_types(row.get("arguments"))
        if types is None:
            return None
        key = (*key, *types)
    return key
