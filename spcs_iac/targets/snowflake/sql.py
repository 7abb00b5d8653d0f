"""SQL building blocks for the Snowflake target, driven by the kind declarations (``kind_props``).

A statement is a sequence of parts; secret values stay wrapped in :class:`Sensitive` until the very
last moment, so one :meth:`Stmt.render` call produces either the text that is executed or the text
that is shown (plans, logs, errors) with every secret replaced by ``'(sensitive)'``. Every name goes
through ``identifiers.quote/qualified`` and every literal through ``string_literal`` (reference §1).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.model import redact
from spcs_iac.model.base import Resource, Scope, normalise_value
from spcs_iac.model.fields import FieldDecl, Fmt, Prop, Unset, kind_props
from spcs_iac.model.kinds import KINDS
from spcs_iac.model.kinds.account import GRANT_TARGETS
from spcs_iac.model.kinds.services import DATATYPE, canonical_type
from spcs_iac.model.values import parse_bool
from spcs_iac.plan.model import SENSITIVE

SQL_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
KEYWORD = re.compile(r"^[A-Z0-9_]+$")
# Declared SQL names that are positional clauses of a kind's statement shape, not `KEY = value` pairs.
CLAUSES = frozenset({"AS", "RETURNS"})
READ_ONLY = ("SHOW", "DESC", "DESCRIBE", "SELECT", "USE", "CALL", "--")


@dataclass(frozen=True)
class Sensitive:
    """A secret value: a string literal when executed, ``'(sensitive)'`` when shown."""

    value: str

    def __repr__(self) -> str:  # never leak through debugging output
        return "Sensitive(***)"


Part = str | Sensitive


@dataclass(frozen=True)
class Stmt:
    parts: tuple[Part, ...]
    role: str | None = None  # run under this (quoted) role; None = the session's default role

    def render(self, display: bool = False) -> str:
        out = []
        for p in self.parts:
            if isinstance(p, Sensitive):
                out.append(ids.string_literal(SENSITIVE if display else p.value))
            else:
                out.append(p)
        return " ".join(out)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(p.value for p in self.parts if isinstance(p, Sensitive))

    @property
    def mutating(self) -> bool:
        first = self.parts[0] if self.parts and isinstance(self.parts[0], str) else ""
        return not first.upper().startswith(READ_ONLY)


WAITS = {
    "service_ready": "service {} is READY",
    "pool_suspended": "compute pool {} is SUSPENDED",
    "warehouse_suspended": "warehouse {} is SUSPENDED (suspending it if it runs)",
    "job_done": "job service {} is DONE",
}


@dataclass(frozen=True)
class Wait:
    """Not SQL: the apply pauses here until the target reaches a state (shown as a comment in plans)."""

    what: str
    target: str
    role: str | None = None

    def render(self, display: bool = True) -> str:
        return "-- wait until " + WAITS[self.what].format(self.target)


@dataclass(frozen=True)
class Upload:
    """Not SQL of its own: ``content`` is written to a temporary file named like ``path`` and PUT to the
    stage (``@stage/dir``), as ``snow stage copy`` does; plans show the PUT with a placeholder path."""

    stage: str  # the stage's quoted name
    path: str  # where the file lands inside the stage, e.g. "convert-api.yaml"
    content: str
    role: str | None = None

    def statement(self, local_dir: str) -> Stmt:
        directory, _, filename = self.path.rpartition("/")
        location = f"@{self.stage}" + (f"/{directory}" if directory else "")
        if '"' in location:
            # A quoted stage name (spaces, quotes...) is only one location as a string literal:
            # https://docs.snowflake.com/en/sql-reference/sql/put ("enclose ... in single quotes").
            location = ids.string_literal(location)
        source = ids.string_literal(f"file://{local_dir.rstrip('/')}/{filename}")
        return stmt("PUT", source, location, "AUTO_COMPRESS = FALSE OVERWRITE = TRUE", role=self.role)

    def render(self, display: bool = True) -> str:
        return self.statement("<rendered spec>").render(display)


Step = Stmt | Wait | Upload


def stmt(*parts: Part | Iterable[Part] | None, role: str | None = None) -> Stmt:
    """Build a statement from parts; nested iterables are flattened, None and '' dropped."""
    flat: list[Part] = []
    for p in parts:
        if p is None or p == "":
            continue
        if isinstance(p, str | Sensitive):
            flat.append(p)
        else:
            flat.extend(x for x in p if x is not None and x != "")
    return Stmt(tuple(flat), role)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove secret values from text that may echo a statement (error messages): every form this
    writer gives them (string literals, JSON in specs and PARSE_JSON) and pieces of those cut short."""
    return redact.scrub(text, secrets, SENSITIVE)


# ---- values ----------------------------------------------------------------------------------------
def ident(value: Any) -> str:
    """A (possibly qualified) name, each part quoted on its own."""
    if isinstance(value, Resource):
        return ids.qualified(*value.name_parts())
    if not isinstance(value, str) or not value:
        raise ProviderError(f"expected an object name, got {value!r}")
    return ids.qualified(*ids.split_qualified(value))


def owner_role(r: Resource) -> str | None:
    """The (quoted) role that owns ``r``. Validators keep owner names in stored form, so they are
    quoted as they are, never re-parsed as SQL text (which would fold a quoted lower-case name)."""
    owner = getattr(r, "owner", None)
    if owner is None:
        return None
    return ids.quote(owner.name if isinstance(owner, Resource) else str(owner))


def int_literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value), 10)
        except ValueError:
            raise ProviderError(f"expected an integer, got {value!r}") from None
    return str(int(value))


def is_true(text: str) -> bool:
    """How Snowflake ('Y' in SHOW output) and its users spell true: one reading, in model.values."""
    return parse_bool(text) is True


def bool_literal(value: Any) -> str:
    if isinstance(value, str):
        value = is_true(value)
    return "TRUE" if value else "FALSE"


def keyword(value: Any) -> str:
    """Validated keywords are emitted bare; anything else becomes a string literal (never raw text)."""
    text = str(value).upper()
    return text if KEYWORD.match(text) else ids.string_literal(str(value))


def literal(value: Any) -> str:
    """A SQL literal for a Python value (function call arguments)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return bool_literal(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ProviderError(f"cannot pass {value!r} to SQL: only finite numbers are allowed")
        return repr(value)
    if isinstance(value, str):
        return ids.string_literal(value)
    if isinstance(value, dict | list):
        return f"PARSE_JSON({ids.string_literal(json.dumps(value))})"
    raise ProviderError(f"cannot pass a {type(value).__name__} to SQL; allowed: None, bool, int, float, str, dict, list")


# Properties whose value is a parenthesised sub-clause (reference §8, §10).
SPECIAL_VALUES = {
    "ENCRYPTION": lambda v: f"(TYPE = {ids.string_literal(str(v).upper())})",
    "DIRECTORY": lambda v: f"(ENABLE = {bool_literal(v)})",
}


def render_value(prop: Prop, value: Any) -> Part:
    if prop.sensitive:
        return Sensitive(str(value))
    fmt = prop.fmt
    if fmt is Fmt.KEYWORD:
        return keyword(value)
    if fmt is Fmt.STRING:
        return ids.string_literal(str(value))
    if fmt is Fmt.INT:
        return int_literal(value)
    if fmt is Fmt.BOOL:
        return bool_literal(value)
    if fmt is Fmt.IDENT:
        return ident(value)
    if fmt is Fmt.IDENT_LIST:
        return "(" + ", ".join(ident(v) for v in value) + ")"
    if fmt is Fmt.STRING_LIST:
        return "(" + ", ".join(ids.string_literal(str(v)) for v in value) + ")"
    special = SPECIAL_VALUES.get(prop.sql or "")
    if special is None:
        raise ProviderError(f"no SQL rendering for special property {prop.sql!r}")
    return special(value)


def _schema_scoped(kind: str | None) -> bool:
    cls = KINDS.get(kind or "")
    return cls is not None and cls.scope is Scope.SCHEMA


def set_value(r: Resource, decl: FieldDecl) -> Any:
    """The value the user set for a field (None when not set), in SQL-ready normal form."""
    raw = getattr(r, decl.name, None)
    if decl.name == "comment" and decl.prop.sql == "COMMENT" and STACK_MARK.get():
        return stamp_comment(raw)  # the user's comment (or none) with the stack marker
    if raw is None:
        return None
    value = normalise_value(raw, decl.prop)
    # A bare name given for a schema-level object means one in this object's schema.
    if decl.prop.ref and _schema_scoped(decl.prop.ref) and hasattr(r, "qualify"):
        if isinstance(value, str):
            value = r.qualify(value)  # type: ignore[attr-defined]
        elif isinstance(value, list):
            value = [r.qualify(v) if isinstance(v, str) else v for v in value]  # type: ignore[attr-defined]
    return value


def target_value(r: Resource, decl: FieldDecl) -> Any:
    """What an update should set: the user's value, or the declared default when unset."""
    value = set_value(r, decl)
    if value is None and decl.prop.unset is Unset.DEFAULT:
        return r.default_of(decl)
    return value


def is_property(prop: Prop) -> bool:
    """A ``KEY = value`` property (as opposed to a positional clause or a non-SQL field)."""
    return prop.sql is not None and bool(SQL_KEY.match(prop.sql)) and prop.sql not in CLAUSES


def decl_named(r: Resource | type[Resource], name: str) -> FieldDecl:
    cls = r if isinstance(r, type) else type(r)
    for d in kind_props(cls):
        if d.name == name:
            return d
    raise KeyError(f"{cls.__name__} declares no property {name!r}")


def property_parts(r: Resource, *, overrides: Mapping[str, Any] | None = None,
                   order: tuple[str, ...] = ()) -> list[Part]:
    """``KEY = value`` for every declared SQL property the user set, in declaration order.

    ``overrides`` replaces values by SQL name (the service comment carries the spec stamp);
    ``order`` moves the named SQL keys first, in that order (EXECUTE JOB SERVICE's documented order).
    """
    items: list[tuple[str, Part]] = []
    for decl in kind_props(type(r)):
        prop = decl.prop
        if prop.identity or not is_property(prop):
            continue
        assert prop.sql is not None
        value = overrides[prop.sql] if overrides and prop.sql in overrides else set_value(r, decl)
        if value is None:
            continue
        items.append((prop.sql, render_value(prop, value)))
    if order:
        items.sort(key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    out: list[Part] = []
    for key, part in items:
        out.extend((f"{key} =", part))
    return out


def show_like(what: str, fqn: str, in_schema: bool = True) -> tuple[str, str]:
    """``SHOW <what> LIKE '<name>' [IN SCHEMA db.s]`` reading one object, and the stored name to keep:
    LIKE ignores case and '_' matches any character, so callers keep only rows of exactly that name."""
    parts = ids.split_qualified(fqn)
    if not in_schema:
        return f"SHOW {what} LIKE {ids.like_pattern(parts[-1])}", parts[-1]
    if len(parts) != 3:
        raise ProviderError(f"{fqn!r} is not a DATABASE.SCHEMA.NAME")
    return f"SHOW {what} LIKE {ids.like_pattern(parts[2])} IN SCHEMA {ids.qualified(*parts[:2])}", parts[2]


# ---- service specifications and comment stamps ---------------------------------------------------
_DOLLAR_RUN = re.compile(r"\$(?=\$)")
# The spec is YAML (https://docs.snowflake.com/en/developer-guide/snowpark-container-services/
# specification-reference). Characters a YAML reader would not take as they are (not printable in YAML,
# or line breaks YAML 1.1 readers fold: NEL, LS, PS) stay \u escapes; every other one is sent as itself,
# so one outside the Basic Multilingual Plane is not split into two escaped surrogate halves.
_YAML_ESCAPED = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def spec_text(doc: Mapping[str, Any]) -> str:
    """The spec as JSON (valid YAML) with every ``$`` that precedes another ``$`` escaped (§1.3)."""
    text = _YAML_ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(doc, ensure_ascii=False))
    text = _DOLLAR_RUN.sub(r"\\u0024", text)
    if "$$" in text or text.endswith("$"):
        raise ProviderError("the service specification cannot be embedded between $$ quotes")
    return text


def spec_clause(doc: Mapping[str, Any]) -> str:
    return "$$" + spec_text(doc) + "$$"


# The stamp at the end of a stored comment: ``[spcs-iac:stack=NAME spec=FP]``. ``stack`` ties the object to
# the stack that created it (``state rebuild`` takes back exactly those); ``spec`` is a service's spec
# fingerprint (spec drift). The user's own comment stays in front, readable. Exactly one space separates
# them (stamp_comment writes one): the user's own trailing whitespace is theirs and must read back.
STAMP = re.compile(r"^(?P<user>.*?) ?\[spcs-iac:(?P<fields>[a-z]+=[^\s\]]*(?:\s+[a-z]+=[^\s\]]*)*)\]$", re.S)
STACK_MARK: ContextVar[str | None] = ContextVar("spcs_iac_stack_mark", default=None)


@contextmanager
def marking(stack: str | None) -> Iterator[None]:
    """Statements built inside carry ``stack`` in the comment of every object they create or alter."""
    token = STACK_MARK.set(stack or None)
    try:
        yield
    finally:
        STACK_MARK.reset(token)


def stamp_comment(user: str | None, fingerprint: str | None = None) -> str | None:
    """The comment Snowflake stores: the user's text, then the stack marker and the spec fingerprint."""
    fields = {k: v for k, v in (("stack", STACK_MARK.get()), ("spec", fingerprint)) if v}
    if not fields:
        return user
    tag = "[spcs-iac:" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
    return f"{user} {tag}" if user else tag


def stamp_fields(text: str | None) -> tuple[str | None, dict[str, str]]:
    """(user comment, stamp fields) of a stored comment."""
    if not text:
        return None, {}
    m = STAMP.match(text)
    if m is None:
        return text, {}
    fields = dict(item.split("=", 1) for item in m.group("fields").split())
    return (m.group("user") or None), fields


def split_stamp(text: str | None) -> tuple[str | None, str | None]:
    """(user comment, spec fingerprint) of a stored comment; either may be None."""
    user, fields = stamp_fields(text)
    return user, fields.get("spec")


# ---- names recorded in the state (re-validated before they reach SQL) ------------------------------
_SIGNATURE = re.compile(r"^(?P<name>.*)\((?P<types>[^()\"]*)\)$", re.S)


def function_parts(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``DB.S.F(FLOAT, VARCHAR)`` -> (stored name parts, canonical argument types)."""
    m = _SIGNATURE.match(name)
    if m is None:
        raise ProviderError(f"function name {name!r} has no argument signature")
    types = tuple(canonical_type(" ".join(t.upper().split())) for t in m.group("types").split(",") if t.strip())
    for t in types:
        if not DATATYPE.match(t):
            raise ProviderError(f"function {name!r}: {t!r} is not a SQL type")
    return tuple(ids.split_qualified(m.group("name"))), types


def function_ref(name: str) -> str:
    """``DB.S.F(T1, T2)`` rebuilt from validated parts: how ALTER/DROP/GRANT name a function."""
    parts, types = function_parts(name)
    return f"{ids.qualified(*parts)}({', '.join(types)})"


def _take_ident(text: str) -> tuple[str, str]:
    """Split one stored identifier (quoted or bare) off the front of ``text``."""
    if text.startswith('"'):
        i = 1
        while i < len(text):
            if text[i] == '"':
                if i + 1 < len(text) and text[i + 1] == '"':
                    i += 2
                    continue
                return ids.normalize(text[: i + 1]), text[i + 1:]
            i += 1
        raise ProviderError(f"unterminated quoted name in {text!r}")
    m = re.match(r"[A-Za-z_][A-Za-z0-9_$]*", text)
    if m is None:
        raise ProviderError(f"expected a name at {text!r}")
    return ids.normalize(m.group(0)), text[m.end():]


def grant_parts(name: str) -> tuple[str, str, str]:
    """A Grant's recorded name ``GRANTEE:ACCOUNT`` / ``GRANTEE:TYPE:NAME`` -> (grantee, type, SQL name)."""
    grantee, rest = _take_ident(name)
    if not rest.startswith(":"):
        raise ProviderError(f"grant name {name!r} is not GRANTEE:TYPE:NAME")
    rest = rest[1:]
    if rest == "ACCOUNT":
        return grantee, "ACCOUNT", ""
    on_type, sep, on_name = rest.partition(":")
    if not sep or on_type not in GRANT_TARGETS:
        raise ProviderError(f"grant name {name!r}: unknown securable type {on_type!r}")
    return grantee, on_type, (function_ref(on_name) if on_type == "FUNCTION" else ident(on_name))


def role_grant_parts(name: str) -> tuple[str, str]:
    """A RoleGrant's recorded name ``ROLE->TO_ROLE`` -> (role, to_role) stored names."""
    role, rest = _take_ident(name)
    if not rest.startswith("->"):
        raise ProviderError(f"role grant name {name!r} is not ROLE->TO_ROLE")
    to_role, rest = _take_ident(rest[2:])
    if rest:
        raise ProviderError(f"role grant name {name!r} is not ROLE->TO_ROLE")
    return role, to_role


def service_role_parts(name: str) -> tuple[tuple[str, ...], str, str]:
    """A ServiceRoleGrant's recorded name ``DB.S.SVC!ROLE->TO_ROLE`` -> (service parts, role, to_role)."""
    parts: list[str] = []
    rest = name
    while True:
        part, rest = _take_ident(rest)
        parts.append(part)
        if not rest.startswith("."):
            break
        rest = rest[1:]
    if len(parts) != 3 or not rest.startswith("!"):
        raise ProviderError(f"service role grant name {name!r} is not DB.SCHEMA.SERVICE!ROLE->TO_ROLE")
    role, rest = _take_ident(rest[1:])
    if not rest.startswith("->"):
        raise ProviderError(f"service role grant name {name!r} is not DB.SCHEMA.SERVICE!ROLE->TO_ROLE")
    to_role, rest = _take_ident(rest[2:])
    if rest:
        raise ProviderError(f"service role grant name {name!r} is not DB.SCHEMA.SERVICE!ROLE->TO_ROLE")
    return tuple(parts), role, to_role


def service_role_ref(service: tuple[str, ...], role: str) -> str:
    """``DB.S.SVC!ROLE``, each part quoted where needed (GRANT / REVOKE / SHOW GRANTS OF SERVICE ROLE)."""
    return f"{ids.qualified(*service)}!{ids.quote(role)}"
