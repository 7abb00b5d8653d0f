"""Snowflake's spellings of values in SHOW / DESCRIBE output, turned into the declared fields' forms.

Pure functions only (no per-kind tables): values are normalised by the field's ``Fmt`` (reference
§16.3: 'true'/'Y' booleans, NULL vs '', comma lists, display spellings) and by the few converters the
adapters (:mod:`.adapters`) name for Snowflake's own forms.
"""

from __future__ import annotations

import json
import re
from typing import Any

from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Scope
from spcs_iac.model.fields import Fmt, Prop
from spcs_iac.model.kinds import KINDS
from spcs_iac.model.kinds.account import WAREHOUSE_SIZE_SYNONYMS
from spcs_iac.model.kinds.services import canonical_type
from spcs_iac.targets.snowflake.sql import is_true, split_stamp

NULLS = ("", "null", "NULL", "not set")
JOB_OUTCOME = {"FAILED": "FAILED", "INTERNAL_ERROR": "FAILED", "CANCELLED": "CANCELLED", "CANCELLING": "CANCELLED"}
STAGE_TYPES = {"INTERNAL NO CSE": "SNOWFLAKE_SSE", "INTERNAL": "SNOWFLAKE_FULL"}


def is_null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in NULLS)


def to_bool(value: Any) -> bool | None:
    if is_null(value):
        return None
    if isinstance(value, bool):
        return value
    return is_true(str(value))


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
            items = split_commas(text[1:-1] if text.startswith("[") and text.endswith("]") else text)
    out = []
    for item in items:
        item = item.strip()
        if len(item) > 1 and item[0] == item[-1] == "'":
            item = item[1:-1]
        if item:
            out.append(item)
    return out


def split_commas(text: str) -> list[str]:
    """Split at top-level commas (not inside quotes or parentheses)."""
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


# ---- names as SHOW prints them -------------------------------------------------------------------------
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


def stored_part(part: str) -> str:
    """One name part as SHOW prints it -> its stored form. Bare parts are already stored (SHOW prints
    stored names), so only quoted ones are parsed; upper-casing a bare part would be wrong."""
    return ids.normalize(part) if part.startswith('"') else part


def named_row(rows: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The row of exactly this stored name among what SHOW ... LIKE returned."""
    return next((r for r in rows if str(r.get("name")) == name), None)


def unquote_ident(text: str) -> str:
    """``"a""b"`` -> ``a"b``; a bare part as it is (no validation: SHOW may print long signatures)."""
    if len(text) > 1 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


def stored_parts(text: str) -> list[str]:
    return [stored_part(p) for p in raw_parts(text)]


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
        return ids.qualified(*stored_parts(text))
    return ids.quote(text)


def qualify(name: str, scope: tuple[str, ...]) -> str:
    """A name Snowflake shows without its database and schema, completed with the object's own."""
    parts = ids.split_qualified(name)
    if len(parts) < 3:
        parts = [*scope[: 3 - len(parts)], *parts]
    return ids.qualified(*parts)


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


# ---- converters for Snowflake's own spellings (named by the adapters) ------------------------------------
def warehouse_size(value: Any) -> Any:
    """``2X-Large`` -> ``XXLARGE``."""
    if is_null(value):
        return None
    text = str(value).strip().upper().replace(" ", "")
    return WAREHOUSE_SIZE_SYNONYMS.get(text, text.replace("-", ""))


def stage_type(value: Any) -> Any:
    """SHOW STAGES ``type`` -> the ENCRYPTION type it was created with."""
    return None if is_null(value) else STAGE_TYPES.get(str(value).strip().upper(), str(value).strip().upper())


def is_suspended(value: Any) -> bool:
    """A service's ``status`` or a pool's ``state`` -> whether it is (being) suspended."""
    return str(value or "").strip().upper() in ("SUSPENDED", "SUSPENDING")


def job_outcome(value: Any) -> str:
    """A job's status -> its outcome: a job still running counts as DONE until it fails."""
    return JOB_OUTCOME.get(str(value or "").strip().upper(), "DONE")


def signature_args(value: Any) -> list[list[str]]:
    """DESC FUNCTION ``signature`` ``(INPUT FLOAT, B VARCHAR)`` -> [[INPUT, FLOAT], [B, VARCHAR]]."""
    text = str(value or "").strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    out = []
    for arg in split_commas(text):
        words = arg.split()
        if len(words) >= 2:
            out.append([ids.normalize(words[0]), canonical_type(" ".join(words[1:]).upper())])
    return out


def datatype(value: Any) -> Any:
    return None if is_null(value) else canonical_type(str(value).strip().upper())


def stamped_spec(value: Any) -> str | None:
    """The spec fingerprint a service's comment carries."""
    return split_stamp(None if is_null(value) else str(value))[1]


def stamped_comment(value: Any) -> str | None:
    """The user's part of a service's comment (without the spec stamp)."""
    return split_stamp(None if is_null(value) else str(value))[0]


_ARGS = re.compile(r"^(?P<name>.*)\((?P<args>.*)\)\s+RETURN\s+(?P<ret>.+)$", re.S | re.I)


def function_row_types(arguments: Any) -> tuple[str, ...] | None:
    """SHOW FUNCTIONS ``arguments`` ``F(FLOAT, VARCHAR) RETURN FLOAT`` -> canonical argument types."""
    m = _ARGS.match(str(arguments or "").strip())
    if m is None:
        return None
    return tuple(canonical_type(a.strip().upper()) for a in split_commas(m.group("args")) if a.strip())
