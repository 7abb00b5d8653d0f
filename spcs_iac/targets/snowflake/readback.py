"""SHOW / DESCRIBE rows -> declared field values, normalised so that what was applied compares equal.

Column names default to the field names; ``Show.columns`` lists only where Snowflake names a column
differently. Values are normalised by the field's ``Fmt`` (reference §16.3: 'true'/'Y' booleans,
NULL vs '', comma lists, display spellings), plus a few per-field converters for Snowflake's own forms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Scope
from spcs_iac.model.fields import Fmt, Prop, kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.model.kinds.account import WAREHOUSE_SIZE_SYNONYMS
from spcs_iac.model.kinds.services import canonical_type
from spcs_iac.targets.snowflake.sql import split_stamp

THREE = ("database_name", "schema_name", "name")


@dataclass(frozen=True)
class Show:
    sql: str  # one statement reads every object of the kind
    key: tuple[str, ...] = ("name",)  # columns holding the stored name parts
    columns: dict[str, str] = field(default_factory=dict)  # field -> column, where they differ
    describe: str | None = None  # DESCRIBE <this> for fields SHOW lacks (only for existing objects)


SHOWS: dict[str, Show] = {
    "role": Show("SHOW ROLES"),
    "warehouse": Show("SHOW WAREHOUSES", columns={"warehouse_type": "type", "warehouse_size": "size"}),
    "database": Show("SHOW DATABASES"),
    "schema": Show("SHOW SCHEMAS IN ACCOUNT", ("database_name", "name")),
    "stage": Show("SHOW STAGES IN ACCOUNT", THREE, {"encryption": "type", "directory_table": "directory_enabled"}),
    "secret": Show("SHOW SECRETS IN ACCOUNT", THREE, {"type": "secret_type"}),
    "network_rule": Show("SHOW NETWORK RULES IN ACCOUNT", THREE, describe="NETWORK RULE"),
    "external_access_integration": Show("SHOW EXTERNAL ACCESS INTEGRATIONS",
                                        describe="EXTERNAL ACCESS INTEGRATION"),
    "compute_pool": Show("SHOW COMPUTE POOLS"),
    "image_repository": Show("SHOW IMAGE REPOSITORIES IN ACCOUNT", THREE),
    "service": Show("SHOW SERVICES EXCLUDE JOBS IN ACCOUNT", THREE, {"spec": "comment"}),
    "job_service": Show("SHOW JOB SERVICES IN ACCOUNT", THREE, {"spec": "comment", "outcome": "status"}),
    "service_function": Show(
        "SHOW USER FUNCTIONS IN ACCOUNT", ("catalog_name", "schema_name", "name"),
        {"comment": "description", "arguments": "signature", "path": "body", "endpoint": "service_endpoint"},
        describe="FUNCTION",
    ),
}
# Outputs read from the same rows (no extra query).
OUTPUT_COLUMNS: dict[str, dict[str, str]] = {
    "image_repository": {"repository_url": "repository_url"},
    "service": {"dns_name": "dns_name"},
    "job_service": {"status": "status"},
}
JOB_OUTCOME = {"FAILED": "FAILED", "INTERNAL_ERROR": "FAILED", "CANCELLED": "CANCELLED", "CANCELLING": "CANCELLED"}
STAGE_TYPES = {"INTERNAL NO CSE": "SNOWFLAKE_SSE", "INTERNAL": "SNOWFLAKE_FULL"}
NULLS = ("", "null", "NULL", "not set")


def is_null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in NULLS)


def to_bool(value: Any) -> bool | None:
    if is_null(value):
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "y", "yes", "1", "on")


def to_int(value: Any) -> int | str | None:
    if is_null(value):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return str(value)


def split_list(value: Any) -> list[str]:
    """A list column: JSON text, ``[A, B]``, ``A,B`` or a real list; items unquoted."""
    if is_null(value):
        return []
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        try:
            parsed = json.loads(text)
            items = [str(v) for v in parsed] if isinstance(parsed, list) else [text]
        except ValueError:
            items = _split_commas(text[1:-1] if text.startswith("[") and text.endswith("]") else text)
    out = []
    for item in items:
        item = item.strip()
        if len(item) > 1 and item[0] == item[-1] == "'":
            item = item[1:-1]
        if item:
            out.append(item)
    return out


def _split_commas(text: str) -> list[str]:
    items, buf, quote, depth = [], "", "", 0
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(buf)
            buf = ""
            continue
        buf += ch
    items.append(buf)
    return items


def raw_parts(text: str) -> list[str]:
    """``A."b.c".D`` -> ['A', '"b.c"', 'D'] (parts still in SQL form)."""
    parts, buf, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "." and not quoted:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    return parts


def name_value(raw: Any, ref: str | None) -> str | None:
    """A name from a SHOW column in the planner's form (each part quoted only when needed)."""
    if is_null(raw):
        return None
    text = str(raw).strip()
    if len(text) > 1 and text[0] == text[-1] == '"' and '"' not in text[1:-1].replace('""', ""):
        return ids.quote(ids.normalize(text))
    cls = KINDS.get(ref or "")
    if cls is not None and cls.scope is not Scope.ACCOUNT:
        # Schema objects come back as DB.SCHEMA.NAME; stored parts, quoted where needed.
        return ids.qualified(*(ids.normalize(p) if p.startswith('"') else p for p in raw_parts(text)))
    return ids.quote(text)


def normalise(prop: Prop, value: Any) -> Any:
    fmt = prop.fmt
    if fmt in (Fmt.IDENT_LIST, Fmt.STRING_LIST):
        items = split_list(value)
        if fmt is Fmt.IDENT_LIST:
            items = [v for v in (name_value(i, prop.ref) for i in items) if v]
        return sorted(items) if prop.unordered else items
    if fmt is Fmt.BOOL:
        return to_bool(value)
    if fmt is Fmt.INT:
        return to_int(value)
    if fmt is Fmt.IDENT:
        return name_value(value, prop.ref)
    if value is None or value == "" or (fmt is not Fmt.STRING and is_null(value)):
        return None
    if fmt is Fmt.KEYWORD:
        return str(value).strip().upper()
    return str(value) if not isinstance(value, bool | int | float) else value


def _size(value: Any) -> Any:
    if is_null(value):
        return None
    text = str(value).strip().upper().replace(" ", "")
    return WAREHOUSE_SIZE_SYNONYMS.get(text, text.replace("-", ""))


def _stage_type(value: Any) -> Any:
    return None if is_null(value) else STAGE_TYPES.get(str(value).strip().upper(), str(value).strip().upper())


def _outcome(value: Any) -> str:
    return JOB_OUTCOME.get(str(value or "").strip().upper(), "DONE")


def _signature_args(value: Any) -> list[list[str]]:
    """DESC FUNCTION ``signature`` ``(INPUT FLOAT, B VARCHAR)`` -> [[INPUT, FLOAT], [B, VARCHAR]]."""
    text = str(value or "").strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    out = []
    for arg in _split_commas(text):
        words = arg.split()
        if len(words) >= 2:
            out.append([ids.normalize(words[0]), canonical_type(" ".join(words[1:]).upper())])
    return out


def _type(value: Any) -> Any:
    return None if is_null(value) else canonical_type(str(value).strip().upper())


# (kind, field) -> converter for Snowflake's own spellings.
CONVERTERS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("warehouse", "warehouse_size"): _size,
    ("stage", "encryption"): _stage_type,
    ("stage", "directory_table"): to_bool,
    ("service", "spec"): lambda v: split_stamp(None if is_null(v) else str(v))[1],
    ("service", "comment"): lambda v: split_stamp(None if is_null(v) else str(v))[0],
    ("job_service", "spec"): lambda v: split_stamp(None if is_null(v) else str(v))[1],
    ("job_service", "comment"): lambda v: split_stamp(None if is_null(v) else str(v))[0],
    ("job_service", "outcome"): _outcome,
    ("service_function", "arguments"): _signature_args,
    ("service_function", "returns"): _type,
}


def describe_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """DESCRIBE output as one dict: property/value rows are folded, a single row is taken as is."""
    if rows and "property" in rows[0]:
        value_col = next((c for c in ("property_value", "value") if c in rows[0]), None)
        if value_col is not None:
            return {str(r["property"]).lower(): r.get(value_col) for r in rows}
    return dict(rows[0]) if rows else {}


def props_of(kind: str, row: Mapping[str, Any], scope_parts: tuple[str, ...] = ()) -> dict[str, Any]:
    """The readable declared fields found in ``row`` (SHOW merged with DESCRIBE)."""
    cls = KINDS[kind]
    show = SHOWS[kind]
    out: dict[str, Any] = {}
    for decl in kind_props(cls):
        prop = decl.prop
        if prop.identity or not prop.readable:
            continue
        col = show.columns.get(decl.name, decl.name)
        if col not in row:
            continue
        conv = CONVERTERS.get((kind, decl.name))
        value = conv(row[col]) if conv else normalise(prop, row[col])
        out[decl.name] = value
    if kind == "service_function" and out.get("service") and scope_parts:
        out["service"] = _qualify(str(out["service"]), scope_parts)
    if kind in ("grant", "role_grant", "image"):
        out.pop("owner", None)
    return out


def _qualify(name: str, scope: tuple[str, ...]) -> str:
    parts = ids.split_qualified(name)
    if len(parts) < 3:
        parts = [*scope[: 3 - len(parts)], *parts]
    return ids.qualified(*parts)


def outputs_of(kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
    return {out: row[col] for out, col in OUTPUT_COLUMNS.get(kind, {}).items() if not is_null(row.get(col))}


def row_key(kind: str, row: Mapping[str, Any]) -> tuple[str, ...] | None:
    show = SHOWS[kind]
    if any(is_null(row.get(c)) for c in show.key):
        return None
    key = tuple(str(row[c]) for c in show.key)
    if kind == "service_function":
        types = function_row_types(row.get("arguments"))
        if types is None:
            return None
        key = (*key, *types)
    return key


_ARGS = re.compile(r"^(?P<name>.*)\((?P<args>.*)\)\s+RETURN\s+(?P<ret>.+)$", re.S | re.I)


def function_row_types(arguments: Any) -> tuple[str, ...] | None:
    """SHOW FUNCTIONS ``arguments`` ``F(FLOAT, VARCHAR) RETURN FLOAT`` -> canonical argument types."""
    m = _ARGS.match(str(arguments or "").strip())
    if m is None:
        return None
    return tuple(canonical_type(a.strip().upper()) for a in _split_commas(m.group("args")) if a.strip())
