"""Snowflake data types: one canonical spelling, the DuckDB type that stores it, and how Snowflake shows it.

Canonical forms are what Snowflake reports back for a column (docs.snowflake.com/en/sql-reference/
intro-summary-data-types): ``NUMBER(p,s)`` for every fixed-point synonym (INT is NUMBER(38,0)), ``FLOAT``
for every floating-point one, ``VARCHAR(n)`` (16777216 by default; CHAR is VARCHAR(1)), ``BINARY(n)``
(8388608), ``TIME(s)`` and ``TIMESTAMP_NTZ|LTZ|TZ(s)`` (9; plain TIMESTAMP is TIMESTAMP_NTZ), and the
parameterless BOOLEAN, DATE, VARIANT, OBJECT, ARRAY, GEOGRAPHY, GEOMETRY.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_VARCHAR = 16_777_216
MAX_BINARY = 8_388_608

_FIXED = {"NUMBER", "DECIMAL", "DEC", "NUMERIC"}
_INTEGER = {"INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT"}
_FLOAT = {"FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION", "REAL"}
_TEXT = {"VARCHAR", "STRING", "TEXT", "NVARCHAR", "NVARCHAR2", "CHAR VARYING", "NCHAR VARYING",
         "CHARACTER VARYING"}
_CHAR = {"CHAR", "CHARACTER", "NCHAR"}
_BINARY = {"BINARY", "VARBINARY"}
_TIMESTAMPS = {"TIMESTAMP": "TIMESTAMP_NTZ", "DATETIME": "TIMESTAMP_NTZ", "TIMESTAMP_NTZ": "TIMESTAMP_NTZ",
               "TIMESTAMPNTZ": "TIMESTAMP_NTZ", "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP_NTZ",
               "TIMESTAMP_LTZ": "TIMESTAMP_LTZ", "TIMESTAMPLTZ": "TIMESTAMP_LTZ",
               "TIMESTAMP WITH LOCAL TIME ZONE": "TIMESTAMP_LTZ", "TIMESTAMP_TZ": "TIMESTAMP_TZ",
               "TIMESTAMPTZ": "TIMESTAMP_TZ", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP_TZ"}
_PLAIN = {"BOOLEAN", "DATE", "VARIANT", "OBJECT", "ARRAY", "GEOGRAPHY", "GEOMETRY"}
_SHAPE = re.compile(r"^\s*(?P<base>[A-Za-z_][A-Za-z0-9_ ]*?)\s*(\(\s*(?P<a>\d+)\s*(,\s*(?P<b>\d+)\s*)?\))?\s*$")
ALLOWED = ("NUMBER(p,s) and its synonyms (INT, DECIMAL, ...), FLOAT (REAL, DOUBLE), VARCHAR(n) (STRING, TEXT, "
           "CHAR), BINARY(n), BOOLEAN, DATE, TIME, TIMESTAMP[_NTZ|_LTZ|_TZ], VARIANT, OBJECT, ARRAY, "
           "GEOGRAPHY, GEOMETRY")


class TypeSpellingError(ValueError):
    """A data type Snowflake would not accept."""


@dataclass(frozen=True)
class SfType:
    base: str  # NUMBER, FLOAT, VARCHAR, BINARY, BOOLEAN, DATE, TIME, TIMESTAMP_NTZ, ..., VARIANT
    a: int | None = None  # precision / length
    b: int | None = None  # scale

    def __str__(self) -> str:
        if self.base == "NUMBER":
            return f"NUMBER({self.a},{self.b})"
        if self.a is not None:
            return f"{self.base}({self.a})"
        return self.base


def parse(text: str) -> SfType:
    """A Snowflake type as written (``int``, ``NUMBER``, ``varchar(10)``, ``DECIMAL(10, 2)``)."""
    m = _SHAPE.match(str(text))
    if m is None:
        raise TypeSpellingError(f"{text!r} is not a data type; allowed: {ALLOWED}")
    base = " ".join(m.group("base").upper().split())
    a = int(m.group("a")) if m.group("a") is not None else None
    b = int(m.group("b")) if m.group("b") is not None else None
    if base in _FIXED:
        precision, scale = (38 if a is None else a), (0 if b is None else b)
        if not 1 <= precision <= 38 or not 0 <= scale <= precision:
            raise TypeSpellingError(f"{text!r}: NUMBER needs 1 <= precision <= 38 and 0 <= scale <= precision")
        return SfType("NUMBER", precision, scale)
    if b is not None:
        raise TypeSpellingError(f"{text!r}: only NUMBER takes a scale; allowed: {ALLOWED}")
    if base in _INTEGER:
        if a is not None:
            raise TypeSpellingError(f"{text!r}: {base} takes no precision (it is NUMBER(38,0))")
        return SfType("NUMBER", 38, 0)
    if base in _FLOAT:
        return SfType("FLOAT")
    if base in _TEXT or base in _CHAR:
        length = a if a is not None else (1 if base in _CHAR else MAX_VARCHAR)
        if not 1 <= length <= MAX_VARCHAR:
            raise TypeSpellingError(f"{text!r}: length must be 1..{MAX_VARCHAR}")
        return SfType("VARCHAR", length)
    if base in _BINARY:
        length = MAX_BINARY if a is None else a
        if not 1 <= length <= MAX_BINARY:
            raise TypeSpellingError(f"{text!r}: length must be 1..{MAX_BINARY}")
        return SfType("BINARY", length)
    if base == "TIME" or base in _TIMESTAMPS:
        scale = 9 if a is None else a
        if not 0 <= scale <= 9:
            raise TypeSpellingError(f"{text!r}: fractional seconds precision must be 0..9")
        return SfType("TIME" if base == "TIME" else _TIMESTAMPS[base], scale)
    if base in _PLAIN and a is None:
        return SfType(base)
    raise TypeSpellingError(f"{text!r} is not a data type Snowflake tables take; allowed: {ALLOWED}")


def canonical(text: str) -> str:
    return str(parse(text))


def duckdb_type(text: str) -> str:
    """The DuckDB column type that stores values of this Snowflake type."""
    t = parse(text)
    if t.base == "NUMBER":
        return f"DECIMAL({t.a},{t.b})"
    return {"FLOAT": "DOUBLE", "VARCHAR": "VARCHAR", "BINARY": "BLOB", "BOOLEAN": "BOOLEAN", "DATE": "DATE",
            "TIME": "TIME", "TIMESTAMP_NTZ": "TIMESTAMP", "TIMESTAMP_LTZ": "TIMESTAMPTZ",
            "TIMESTAMP_TZ": "TIMESTAMPTZ"}.get(t.base, "VARCHAR")  # semi-structured and geo as JSON text


def show_columns_type(text: str, nullable: bool) -> str:
    """SHOW COLUMNS ``data_type``: a JSON description, e.g. ``{"type":"FIXED","precision":38,...}``."""
    t = parse(text)
    out: dict[str, object]
    if t.base == "NUMBER":
        out = {"type": "FIXED", "precision": t.a, "scale": t.b}
    elif t.base == "VARCHAR":
        out = {"type": "TEXT", "length": t.a, "byteLength": min(4 * (t.a or 0), MAX_VARCHAR), "fixed": False}
    elif t.base == "BINARY":
        out = {"type": "BINARY", "length": t.a, "byteLength": t.a, "fixed": False}
    elif t.base in ("TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ"):
        out = {"type": t.base, "precision": 0, "scale": t.a}
    else:
        out = {"type": "REAL" if t.base == "FLOAT" else t.base}
    out["nullable"] = nullable
    return json.dumps(out, separators=(",", ":"))


def from_show_columns(data_type: str) -> str:
    """The canonical type of a SHOW COLUMNS ``data_type`` JSON value."""
    d = json.loads(data_type)
    kind = str(d.get("type", "")).upper()
    if kind == "FIXED":
        return f"NUMBER({d.get('precision', 38)},{d.get('scale', 0)})"
    if kind == "REAL":
        return "FLOAT"
    if kind == "TEXT":
        return f"VARCHAR({d.get('length', MAX_VARCHAR)})"
    if kind == "BINARY":
        return f"BINARY({d.get('length', MAX_BINARY)})"
    if kind in ("TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ"):
        return f"{kind}({d.get('scale', 9)})"
    return canonical(kind)


def in_place_change(old: str, new: str) -> bool:
    """Whether ALTER COLUMN ... SET DATA TYPE can turn ``old`` into ``new`` (docs.snowflake.com/en/
    sql-reference/sql/alter-table-column: longer text or binary, another precision at the same scale;
    never another type, a shorter text, or another scale)."""
    a, b = parse(old), parse(new)
    if a == b:
        return True
    if a.base != b.base:
        return False
    if a.base in ("VARCHAR", "BINARY"):
        return (b.a or 0) >= (a.a or 0)
    if a.base == "NUMBER":
        return a.b == b.b  # precision may grow, or shrink when the values fit (Snowflake checks them)
    return False


# ---- result metadata (the connector's rowtype) -------------------------------------------------------
def rowtype_of_duckdb(duck: str) -> tuple[str, int | None, int | None, int | None]:
    """(Snowflake rowtype name, precision, scale, length) of a DuckDB result column type."""
    t = duck.upper()
    m = re.match(r"DECIMAL\((\d+),\s*(\d+)\)", t)
    if m:
        return "fixed", int(m.group(1)), int(m.group(2)), None
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT", "UHUGEINT"):
        return "fixed", 38, 0, None
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return "real", None, None, None
    if t == "BOOLEAN":
        return "boolean", None, None, None
    if t == "DATE":
        return "date", None, None, None
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return "timestamp_ltz", 0, 9, None
    if t.startswith("TIMESTAMP"):
        return "timestamp_ntz", 0, 9, None
    if t.startswith("TIME"):
        return "time", 0, 9, None
    if t == "BLOB":
        return "binary", None, None, MAX_BINARY
    return "text", None, None, MAX_VARCHAR
