"""Snowflake identifier and literal rules (reference §1).

Every name that reaches SQL goes through this module: names are validated and normalised when an
object is declared, and quoted/escaped when SQL is generated. Nothing else builds SQL text from names.
"""

from __future__ import annotations

import re
from functools import lru_cache

UNQUOTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
MAX_IDENTIFIER = 255
# SPCS objects (pools, services, repositories, job names) forbid quoted names; services are also DNS
# labels, so the planner keeps them to this shape (reference §1.2).

# Words that cannot appear unquoted as identifiers; quoting them keeps generated SQL valid.
RESERVED = frozenset(
    """ACCOUNT ALL ALTER AND ANY AS BETWEEN BY CASE CAST CHECK COLUMN CONNECT CONNECTION CONSTRAINT CREATE
    CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DATABASE DELETE DISTINCT DROP
    ELSE EXISTS FALSE FOLLOWING FOR FROM FULL GRANT GROUP GSCLUSTER HAVING ILIKE IN INCREMENT INNER INSERT
    INTERSECT INTO IS ISSUE JOIN LATERAL LEFT LIKE LOCALTIME LOCALTIMESTAMP MINUS NATURAL NOT NULL OF ON OR
    ORDER ORGANIZATION QUALIFY REGEXP REVOKE RIGHT RLIKE ROW ROWS SAMPLE SCHEMA SELECT SET SOME START TABLE
    TABLESAMPLE THEN TO TRIGGER TRUE TRY_CAST UNION UNIQUE UPDATE USING VALUES VIEW WHEN WHENEVER WHERE
    WITH""".split()
)


class IdentifierError(ValueError):
    """A name that cannot be used as a Snowflake identifier."""


def normalize(name: str, *, allow_quoted: bool = True, what: str = "name") -> str:
    """Return the stored form of an identifier: unquoted names fold to upper case.

    A name given in double quotes (``'"My Name"'``) keeps its case; a name that is not a valid unquoted
    identifier is kept verbatim and will be quoted in SQL, unless the object kind forbids quoted names.
    """
    if not isinstance(name, str) or not name:
        raise IdentifierError(f"{what} must be a non-empty string, got {name!r}")
    if len(name) > 2 and name.startswith('"') and name.endswith('"'):
        inner = name[1:-1]
        if '"' in inner.replace('""', ""):
            raise IdentifierError(f"{what} {name!r} has an unescaped double quote inside quotes")
        stored = inner.replace('""', '"')
        if UNQUOTED.match(stored) and stored == stored.upper():
            return stored
        if not allow_quoted:
            raise IdentifierError(
                f"{what} {name!r} needs quoting, which Snowflake does not support for this object; "
                "allowed: letters, digits, _ and $, starting with a letter or _"
            )
        return _check_length(stored, what)
    if UNQUOTED.match(name):
        return _check_length(name.upper(), what)
    if not allow_quoted:
        raise IdentifierError(
            f"{what} {name!r} is not a plain identifier and this object cannot have a quoted name; "
            "allowed: letters, digits, _ and $, starting with a letter or _ (at most 255 characters)"
        )
    if "\x00" in name:
        raise IdentifierError(f"{what} {name!r} contains a NUL character")
    return _check_length(name, what)


def _check_length(stored: str, what: str) -> str:
    if len(stored) > MAX_IDENTIFIER:
        raise IdentifierError(f"{what} is {len(stored)} characters long; at most {MAX_IDENTIFIER} allowed")
    return stored


@lru_cache(maxsize=1 << 16)
def quote(stored: str) -> str:
    """Render a stored identifier for SQL: bare when safe, otherwise double-quoted with ``""`` escapes."""
    if UNQUOTED.match(stored) and stored == stored.upper() and stored not in RESERVED:
        return stored
    return '"' + stored.replace('"', '""') + '"'


@lru_cache(maxsize=1 << 16)
def qualified(*parts: str) -> str:
    """``DB.SCHEMA.NAME`` with each part quoted on its own (never the dotted string as a whole)."""
    return ".".join(quote(p) for p in parts)


def split_qualified(text: str) -> list[str]:
    """Split ``a."b.c".d`` into stored parts, honouring quotes."""
    return list(_split_qualified(text))


@lru_cache(maxsize=1 << 16)
def _split_qualified(text: str) -> tuple[str, ...]:
    parts: list[str] = []
    buf = ""
    in_quotes = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if in_quotes and i + 1 < len(text) and text[i + 1] == '"':
                buf += '""'
                i += 2
                continue
            in_quotes = not in_quotes
            buf += ch
        elif ch == "." and not in_quotes:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
        i += 1
    parts.append(buf)
    return tuple(normalize(p) for p in parts)


def string_literal(text: str) -> str:
    """Single-quoted SQL string literal that preserves the exact value (reference §1.3)."""
    if "\x00" in text:
        raise IdentifierError("text contains a NUL character, which cannot be stored in Snowflake")
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def like_pattern(stored: str) -> str:
    """A SHOW ... LIKE literal matching exactly one name (wildcards escaped); callers still filter."""
    escaped = stored.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return string_literal(escaped)


def name_matches(query: str, full_name: str, address: str | None = None, *, bare: bool = False) -> bool:
    """Whether ``query`` names this object, as users type names on the command line: its address, its full
    name, a function's name without its argument types, or (``bare``) the last part alone. Case and
    quotes are ignored."""
    want = _loose(query)
    full = _loose(full_name)
    base = full.split("(")[0]
    if want in (full, base) or (address is not None and want == _loose(address)):
        return True
    return bare and base.split(".")[-1] == want


def _loose(name: str) -> str:
    return name.replace('"', "").upper()
