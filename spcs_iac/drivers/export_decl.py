"""What the export writes for each object found: the keyword arguments of its declaration.

Fields come from what the Snowflake target read (the values a plan compares), references become
:class:`Ref` (a variable when the referenced object is declared before, else its name), secret values
:class:`Env` placeholders. An argument is left out when the object declared without it wants the same
values (Snowflake's defaults), checked by building the object both ways, so nothing is guessed.
``COVERAGE`` says for every kind how it is exported, or why not.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from spcs_iac.drivers.export_read import Found, address_of
from spcs_iac.errors import SpcsIacError
from spcs_iac.model import identifiers as ids
from spcs_iac.model.base import Resource, Scope
from spcs_iac.model.columns import DEFAULT_EXPRESSIONS
from spcs_iac.model.fields import Unset, kind_props
from spcs_iac.model.kinds import KINDS

# How each kind is found in the account (a kind missing here fails tests/snowflake/test_export.py).
COVERAGE: dict[str, str] = {
    "role": "SHOW ROLES, without the system roles",
    "role_grant": "SHOW GRANTS TO ROLE (granted_on ROLE), without the system hierarchy",
    "grant": "SHOW GRANTS TO ROLE, without ownership and the system roles' own grants",
    "warehouse": "SHOW WAREHOUSES",
    "database": "SHOW DATABASES, without SNOWFLAKE, shared and application databases",
    "schema": "SHOW SCHEMAS, without INFORMATION_SCHEMA and PUBLIC schemas as CREATE DATABASE made them",
    "stage": "SHOW STAGES",
    "secret": "SHOW SECRETS; values from environment variables (Snowflake never shows them)",
    "network_rule": "SHOW NETWORK RULES + DESCRIBE",
    "external_access_integration": "SHOW EXTERNAL ACCESS INTEGRATIONS + DESCRIBE",
    "compute_pool": "SHOW COMPUTE POOLS",
    "image_repository": "SHOW IMAGE REPOSITORIES",
    "service": "SHOW SERVICES + DESCRIBE SERVICE (the specification)",
    "job_service": "SHOW JOB SERVICES + DESCRIBE SERVICE (applying it elsewhere runs the job)",
    "service_function": "SHOW USER FUNCTIONS + DESCRIBE FUNCTION, those that call a service",
    "service_role_grant": "SHOW ROLES IN SERVICE + SHOW GRANTS OF SERVICE ROLE",
    "table": "SHOW TABLES + SHOW COLUMNS, permanent tables",
}
NOT_EXPORTED: dict[str, str] = {
    "image": "built from a local Docker context, which no account holds: specs name images by repository path",
}
# File order: what is referenced comes first (roles own everything; grants name everything).
KIND_ORDER = ("role", "role_grant", "warehouse", "compute_pool", "database", "schema", "stage", "secret",
              "network_rule", "external_access_integration", "image_repository", "table", "service", "job_service",
              "service_function", "service_role_grant", "grant")
VARIABLE_PREFIX = {"warehouse": "wh", "database": "db", "network_rule": "rule", "external_access_integration": "eai",
                   "compute_pool": "pool", "image_repository": "repo", "service": "svc", "job_service": "job",
                   "service_function": "fn"}
NOT_WRITTEN = frozenset({"outcome"})  # a job's last outcome is what happened, not what is declared


@dataclass(frozen=True)
class Ref:
    """A reference to another object: its variable when declared before, else ``name``."""

    address: str
    name: str


@dataclass(frozen=True)
class Env:
    """A value read from an environment variable when the stack loads (secrets)."""

    variable: str


@dataclass(frozen=True)
class Call:
    """A nested model, e.g. ``TableColumn(name=..., datatype=...)``."""

    cls: str
    args: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class IfName:
    """An argument written only when the reference ``of`` is written as a name (``on_type`` of a grant)."""

    of: str
    value: Any


@dataclass
class Declaration:
    kind: str
    address: str
    args: list[tuple[str, Any]]
    variable: str  # used when something refers to it
    comments: list[str] = field(default_factory=list)

    @property
    def cls_name(self) -> str:
        return KINDS[self.kind].__name__

    def refs(self) -> Iterator[Ref]:
        yield from _refs(self.args)

    def sort_key(self) -> tuple[int, str]:
        return (_rank(self.kind), self.address)


def _refs(value: Any) -> Iterator[Ref]:
    if isinstance(value, Ref):
        yield value
    elif isinstance(value, IfName):
        yield from _refs(value.value)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _refs(v)
    elif isinstance(value, Call):
        yield from _refs(value.args)


# ---- variables -------------------------------------------------------------------------------------------
def variable_names(found: Mapping[str, Found]) -> dict[str, str]:
    """address -> a valid, stable Python name from the object's name (``db_app_db``, ``svc_app_db_api``)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for f in sorted(found.values(), key=lambda f: (_rank(f.kind), f.address)):
        n = len(f.key) if f.kind != "service_function" else 3  # a function's argument types are not named
        parts = [p for i, p in enumerate(f.key[:n]) if not (i == 1 and n == 3 and p == "PUBLIC")]
        base = "_".join([VARIABLE_PREFIX.get(f.kind, f.kind), *(_slug(p) for p in parts)])
        name, i = base, 1
        while name in taken:
            i += 1
            name = f"{base}_{i}"
        taken.add(name)
        out[f.address] = name
    return out


def _rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def _slug(part: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", "_", ascii_text.lower()).strip("_") or "x"


# ---- arguments -------------------------------------------------------------------------------------------
def declare(f: Found, known: set[str], variables: Mapping[str, str]) -> Declaration:
    """The declaration of ``f``; ``known`` are the addresses the file declares. Raises SpcsIacError with
    the reason when the model refuses what the account holds."""
    cls = KINDS[f.kind]
    identity = _identity(f, known)
    args = identity + _fields(f, known)
    fixed = {k for k, _ in identity if k != "owner"}  # written even when a default (on="ACCOUNT"): readable
    comments: list[str] = []
    secret_fields = [d.name for d in kind_props(cls) if d.prop.sensitive]
    if secret_fields:
        args, comments = _with_secrets(f, args, secret_fields, variables[f.address])
    if f.spec is not None and f.props.get("spec") is None:
        again = "runs the job again" if f.kind == "job_service" else "applies this specification again (a restart)"
        comments.append(f"Made outside spcs-iac (no spec stamp in its comment): the first apply {again}.")
    args = _without_defaults(cls, args, fixed)
    owner = [a for a in args if a[0] == "owner"]
    return Declaration(f.kind, f.address, [a for a in args if a[0] != "owner"] + owner, variables[f.address], comments)


def _ref(kind: str, name: str, known: set[str]) -> Ref | str:
    address = address_of(kind, name)
    return Ref(address, name) if address in known else name


def _identity(f: Found, known: set[str]) -> list[tuple[str, Any]]:
    """Name, database and schema; for grants, what they are of and to whom."""
    i = f.identity
    if f.kind == "grant":
        args: list[tuple[str, Any]] = [("to", _ref("role", i["to"], known))]
        if i["on_type"] != "ACCOUNT":
            on: Any = Ref(i["on_address"], i["on"]) if i["on_address"] in known else i["on"]
            args += [("on", on), ("on_type", IfName("on", i["on_type"]) if isinstance(on, Ref) else i["on_type"])]
        else:
            args.append(("on", "ACCOUNT"))
        return args + _granted_by(i, known)
    if f.kind == "role_grant":
        return [("role", _ref("role", i["role"], known)), ("to_role", _ref("role", i["to_role"], known)),
                *_granted_by(i, known)]
    if f.kind == "service_role_grant":
        service = _ref("service", i["service"], known)
        args = [("service", service), ("service_role", i["service_role"]),
                ("to_role", _ref("role", i["to_role"], known))]
        if i.get("by"):  # the service's owner grants its roles: said only when the service is not declared
            by = _ref("role", i["by"], known)
            args.append(("owner", IfName("service", by) if isinstance(service, Ref) else by))
        return args
    scope = KINDS[f.kind].scope
    if scope is Scope.ACCOUNT:
        return [("name", ids.quote(f.key[0]))]
    args = [("name", ids.quote(f.key[1] if scope is Scope.DATABASE else f.key[2])),
            ("database", _ref("database", ids.quote(f.key[0]), known))]
    if scope is Scope.SCHEMA and f.key[1] != "PUBLIC":
        schema = ids.qualified(*f.key[:2])
        ref = _ref("schema", schema, known)
        args.append(("schema", Ref(ref.address, ids.quote(f.key[1])) if isinstance(ref, Ref) else ids.quote(f.key[1])))
    return args


def _granted_by(identity: Mapping[str, Any], known: set[str]) -> list[tuple[str, Any]]:
    """A grant is made again by the role that made it (``owner``: the role its statements run as)."""
    return [("owner", _ref("role", identity["by"], known))] if identity.get("by") else []


def _fields(f: Found, known: set[str]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for d in kind_props(KINDS[f.kind]):
        if d.prop.identity or d.prop.sensitive or d.name in NOT_WRITTEN:
            continue
        if d.prop.unset is Unset.IGNORE and d.prop.sql is None and d.name != "owner":
            continue  # a state the account keeps (a pool suspended when idle), not a setting: left to it
        if d.name == "spec":  # the props hold its fingerprint; the document is DESCRIBE SERVICE's
            out += [("spec", f.spec)] if f.spec is not None else []
            continue
        value = f.props.get(d.name)
        if value is None or value == []:
            continue
        if d.name == "arguments":
            value = [Call("FunctionArgument", (("name", n), ("datatype", t))) for n, t in value]
        elif d.name == "columns":
            value = [_column(c) for c in value]
        elif d.prop.ref is not None:
            value = [_ref(d.prop.ref, v, known) for v in value] if isinstance(value, list) else \
                _ref(d.prop.ref, str(value), known)
        out.append((d.name, value))
    return out


def _column(c: Mapping[str, Any]) -> Call:
    args: list[tuple[str, Any]] = [("name", ids.quote(str(c["name"]))), ("datatype", c["type"])]
    if c.get("nullable") is False:
        args.append(("nullable", False))
    if c.get("default") is not None:
        args.append(("default", default_value(str(c["default"]))))
    if c.get("comment") is not None:
        args.append(("comment", c["comment"]))
    return Call("TableColumn", tuple(args))


def default_value(sql: str) -> Any:
    """A column default as SHOW COLUMNS gives it (normalised) -> the value ``TableColumn.default`` takes."""
    if sql in DEFAULT_EXPRESSIONS:
        return sql
    if sql in ("TRUE", "FALSE"):
        return sql == "TRUE"
    if len(sql) >= 2 and sql[0] == sql[-1] == "'":
        return _unquote(sql[1:-1])
    for number in (int, float):
        try:
            return number(sql)
        except ValueError:
            continue
    raise SpcsIacError(f"a column default {sql} is not a value or an expression a TableColumn declares "
                       f"(allowed: text, numbers, booleans, {', '.join(DEFAULT_EXPRESSIONS)})")


def _unquote(body: str) -> str:
    """The inverse of ``identifiers.string_literal``: ``''`` is a quote, ``\\x`` is x."""
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
            continue
        if ch == "'" and body[i + 1:i + 2] == "'":
            i += 1
        out.append(ch)
        i += 1
    return "".join(out)


def _with_secrets(f: Found, args: list[tuple[str, Any]], fields: list[str], variable: str
                  ) -> tuple[list[tuple[str, Any]], list[str]]:
    """The fewest secret fields the object needs (a GENERIC_STRING secret its string, a PASSWORD one its
    username and password), each from an environment variable named after the object and the field."""
    cls = KINDS[f.kind]
    for n in range(len(fields) + 1):
        for chosen in itertools.combinations(fields, n):
            trial = args + [(name, Env(f"{variable.upper()}_{name.upper()}")) for name in chosen]
            try:
                build(cls, trial)
            except SpcsIacError:
                continue
            names = ", ".join(f"${variable.upper()}_{name.upper()}" for name in chosen)
            comments = [f"Snowflake never shows a secret's value: {names} hold{'s' if n == 1 else ''} it."] if n else []
            return trial, comments
    build(cls, args)  # no combination works: raise the model's own message
    return args, []


def build(cls: type[Resource], args: list[tuple[str, Any]]) -> Resource:
    """The object these arguments declare (references as names, secrets as placeholders)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an instance family spcs-iac does not know is passed through as it is
        return cls(**{k: _plain(v) for k, v in args})


def _plain(value: Any) -> Any:
    if isinstance(value, Ref):
        return value.name
    if isinstance(value, IfName):
        return _plain(value.value)
    if isinstance(value, Env):
        return "(set from the environment)"
    if isinstance(value, Call):
        return {k: _plain(v) for k, v in value.args}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _without_defaults(cls: type[Resource], args: list[tuple[str, Any]], fixed: set[str]) -> list[tuple[str, Any]]:
    """Leave out each argument the object wants the same values without (Snowflake's defaults)."""
    want = _compared(build(cls, args))
    keep = list(args)
    for arg in args:
        if arg[0] in fixed or isinstance(arg[1], Env):
            continue
        trial = [a for a in keep if a is not arg]
        try:
            if _compared(build(cls, trial)) == want:
                keep = trial
        except SpcsIacError:
            continue
    return keep


def _compared(r: Resource) -> tuple[str, dict[str, Any]]:
    """What a plan compares: the address and the desired values (secret digests are salted: left out)."""
    sensitive = {d.name for d in kind_props(type(r)) if d.prop.sensitive}
    return r.address, {k: v for k, v in r.desired().items() if k not in sensitive}
