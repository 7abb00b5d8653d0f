"""Result sets returned by the engine and their encoding into Snowflake's JSON result format."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# Column types used by the emulator, mapped to Snowflake rowtype ``type`` names.
TEXT = "text"
FIXED = "fixed"
TIMESTAMP = "timestamp_ltz"
BOOLEAN = "boolean"
REAL = "real"
VARIANT = "variant"
OBJECT = "object"


@dataclass
class Result:
    columns: list[tuple[str, str]]
    rows: list[list[Any]] = field(default_factory=list)
    statement_type: int = 0x1000  # SELECT-ish; DDL uses 0x3000

    def rowtype(self) -> list[dict[str, Any]]:
        out = []
        for name, typ in self.columns:
            col: dict[str, Any] = {
                "name": name,
                "database": "",
                "schema": "",
                "table": "",
                "nullable": True,
                "type": typ,
                "length": None,
                "byteLength": None,
                "precision": None,
                "scale": None,
                "collation": None,
            }
            if typ in (TEXT, VARIANT, OBJECT):
                col["length"] = 16777216
                col["byteLength"] = 16777216
            elif typ == FIXED:
                col["precision"] = 38
                col["scale"] = 0
            elif typ == TIMESTAMP:
                col["precision"] = 0
                col["scale"] = 3
            out.append(col)
        return out

    def rowset(self) -> list[list[str | None]]:
        return [[_encode(v, typ) for v, (_, typ) in zip(row, self.columns, strict=True)] for row in self.rows]

    def as_dicts(self) -> list[dict[str, Any]]:
        names = [c for c, _ in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


def _encode(value: Any, typ: str) -> str | None:
    if value is None:
        return None
    if typ == TIMESTAMP:
        return f"{float(value):.3f}"
    if typ == BOOLEAN:
        return "1" if value else "0"  # how JSON result sets carry BOOLEAN (connector 3.12 reads "1"/"TRUE")
    if typ in (VARIANT, OBJECT):
        return value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def status(message: str) -> Result:
    return Result([("status", TEXT)], [[message]], statement_type=0x3000)


def ok() -> Result:
    return status("Statement executed successfully.")


def tf(flag: bool) -> str:
    return "true" if flag else "false"


def yn(flag: bool) -> str:
    return "Y" if flag else "N"


def like_match(pattern: str, value: str) -> bool:
    """SHOW ... LIKE semantics: case-insensitive, ``%``/``_`` wildcards, backslash escapes."""
    return _like_regex(pattern).fullmatch(value) is not None


@lru_cache(maxsize=256)
def _like_regex(pattern: str) -> re.Pattern[str]:
    # Compiled once per pattern: a SHOW ... LIKE tests it against every object of the kind.
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), flags=re.IGNORECASE | re.DOTALL)
