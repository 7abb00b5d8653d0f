"""The Resource base class: identity, references, and the desired properties a plan compares."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from spcs_iac.errors import DeclarationError, SensitiveValue
from spcs_iac.model import identifiers as ids
from spcs_iac.model.digests import digest_for, is_legacy, keep_digest, renew_digest
from spcs_iac.model.fields import FieldDecl, Fmt, Prop, Unset, Update, kind_props


class Scope(StrEnum):
    ACCOUNT = "account"
    DATABASE = "database"
    SCHEMA = "schema"


Outputs = Mapping[str, Mapping[str, Any]]  # address -> outputs recorded for that object


class Resource(BaseModel):
    """One declared object. Subclasses are the kinds; each declares its fields once with ``Prop``."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, populate_by_name=True)

    kind: ClassVar[str] = "resource"
    sql_type: ClassVar[str] = ""  # e.g. "COMPUTE POOL"
    scope: ClassVar[Scope] = Scope.ACCOUNT
    allow_quoted_name: ClassVar[bool] = True
    owner_change: ClassVar[Update] = Update.ALTER  # GRANT OWNERSHIP, or replace where unsupported
    # Kinds whose identity is not just a name (grants) override `identity`.

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            sensitive = frozenset(d.name for d in kind_props(type(self)) if d.prop.sensitive)
            if sensitive:  # a misspelt secret field (pasword=...) holds a secret too: never repeat it
                sensitive |= {k for k in data if k not in type(self).model_fields}
            raise DeclarationError.from_pydantic(type(self).__name__, data, exc, sensitive) from None

    def __repr_args__(self) -> Any:
        # An object's repr ends up in messages (a Secret given for another field is the value given), logs
        # and tracebacks: sensitive values never appear in it.
        sensitive = {d.name for d in kind_props(type(self)) if d.prop.sensitive}
        for name, value in super().__repr_args__():
            yield name, SensitiveValue() if name in sensitive and value is not None else value

    _address: str | None = PrivateAttr(default=None)
    _fqn: str | None = PrivateAttr(default=None)

    name: str
    owner: Annotated[
        Any, Prop(fmt=Fmt.IDENT, ref="role", unset=Unset.IGNORE, doc="role that creates and owns the object")
    ] = None

    @field_validator("name")
    @classmethod
    def _normalise_name(cls, v: str) -> str:
        return ids.normalize(v, allow_quoted=cls.allow_quoted_name, what=f"{cls.__name__} name")

    @field_validator("owner", mode="before")
    @classmethod
    def _check_owner(cls, v: Any) -> Any:
        return None if v is None else object_or_name(v, "role", "owner", "a Role or a role name",
                                                     lambda n: ids.normalize(n, what="owner role"))

    # ---- identity -------------------------------------------------------------------------------
    def name_parts(self) -> tuple[str, ...]:
        """Stored name parts, e.g. ("DB", "PUBLIC", "SVC")."""
        return (self.name,)

    def compute_fqn(self) -> str:
        """The qualified name as SQL and the state spell it; kinds with other identities override this."""
        return ids.qualified(*self.name_parts())

    @property
    def fqn(self) -> str:
        return self._once("_fqn", self.compute_fqn)

    @property
    def address(self) -> str:
        return self._once("_address", lambda: f"{self.kind}.{self.fqn}")

    def _once(self, key: str, compute: Callable[[], str]) -> str:
        # Names never change after declaration, and the name and address are hot in planning (several
        # passes ask each object for them): computed once per object.
        private = self.__pydantic_private__
        cached = private.get(key) if private else None
        if cached is None:
            cached = compute()
            if private is not None:
                private[key] = cached
        return cached

    @property
    def owner_name(self) -> str | None:
        """The owner role's stored name (validators keep it stored, never as SQL text)."""
        owner = self.owner
        return owner.name if isinstance(owner, Resource) else owner

    def __hash__(self) -> int:  # objects are used as graph keys by identity
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    # ---- references -----------------------------------------------------------------------------
    def references(self) -> Iterator[tuple[str, str, Resource | str]]:
        """(field, kind, target) for every object this one refers to; strings name unmanaged objects
        (or managed ones, which the stack links by name)."""
        for decl in kind_props(type(self)):
            if not decl.is_reference:
                continue
            value = getattr(self, decl.name)
            for item in value if isinstance(value, list | tuple) else [value]:
                if isinstance(item, Resource | str):
                    yield decl.name, decl.prop.ref or "", item
        yield from self.extra_references()

    def extra_references(self) -> Iterator[tuple[str, str, Resource | str]]:
        """Kinds with references outside declared props (database/schema, spec images) add them here."""
        return iter(())

    # ---- desired properties ---------------------------------------------------------------------
    def desired(self, outputs: Outputs | None = None) -> dict[str, Any]:
        """Normalised desired values of every declared property (None = not managed)."""
        values: dict[str, Any] = {}
        for decl in kind_props(type(self)):
            if decl.prop.identity:
                continue
            value = self._normalised(decl, getattr(self, decl.name))
            # Plans, logs and state see a salted hash of a sensitive value, never the value.
            if decl.prop.sensitive and value is not None and not getattr(value, "is_digest", False):
                value = digest_for(self.address, decl.name, str(value))
            values[decl.name] = value
        if self.owner is not None:
            values["owner"] = ids.quote(self.owner_name)  # type: ignore[arg-type]  # same form as read back
        return values

    def keep_secret_digests(self, recorded: Mapping[str, Any] | None) -> None:
        """Make ``desired()`` give back the recorded digest of every secret whose value is unchanged (a
        digest has a random salt: without this, every run would record a new one)."""
        if recorded is None:
            return
        for name, value in self.secret_values():
            keep_digest(self.address, name, value, recorded.get(name))

    def renew_legacy_digests(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """``props`` with digests of the old, fast form replaced by new ones (when the object is written)."""
        out = dict(props)
        for name, value in self.secret_values():
            if is_legacy(out.get(name)):
                out[name] = renew_digest(self.address, name, value)
        return out

    def secret_values(self) -> Iterator[tuple[str, str]]:
        """(field, plain value) of every sensitive field holding a value (not a digest standing in)."""
        for decl in kind_props(type(self)):
            value = getattr(self, decl.name) if decl.prop.sensitive else None
            if value is not None and not getattr(value, "is_digest", False):
                yield decl.name, str(value)

    def _normalised(self, decl: FieldDecl, value: Any) -> Any:
        prop = decl.prop
        if value is None:
            return self.default_of(decl) if prop.unset is Unset.DEFAULT else None
        return normalise_value(value, prop)

    def default_of(self, decl: FieldDecl) -> Any:
        """The target's default for a field left out (``Prop.default``; a kind whose default depends on its
        other fields says so here)."""
        return decl.prop.default

    def recorded(self, outputs: Outputs | None = None) -> dict[str, Any]:
        """Extra facts the state keeps to explain future diffs (e.g. the rendered spec)."""
        return {}

    def made_with(self) -> str | None:
        """The address of the object whose creation also creates this one (a database's PUBLIC schema):
        finding this object then is not finding someone else's."""
        return None

    def outputs_needed(self) -> list[str]:
        """Addresses whose apply-time outputs feed this object's desired values (e.g. image digests)."""
        return []

    def describe(self) -> str:
        return f"{type(self).__name__} {self.fqn}"


def object_or_name(v: Any, kind: str, what: str, expected: str, name: Callable[[str], Any]) -> Any:
    """The value of a field that takes an object of ``kind`` or a name (checked by ``name``)."""
    if isinstance(v, Resource):
        if v.kind != kind:
            raise ValueError(f"{what} must be {expected}, got a {type(v).__name__}")
        return v
    if isinstance(v, str):
        return name(v)
    raise ValueError(f"{what} must be {expected}, got {v!r}")


def normalise_value(value: Any, prop: Prop) -> Any:
    if isinstance(value, Resource):
        return value.fqn
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | tuple):
        items = [normalise_value(v, prop) for v in value]
        return sorted(items, key=str) if prop.unordered else items
    if prop.fmt is Fmt.KEYWORD and isinstance(value, str):
        return value.upper()
    if prop.fmt in (Fmt.IDENT, Fmt.IDENT_LIST) and isinstance(value, str):
        return ids.qualified(*ids.split_qualified(value))
    return value


def fingerprint(value: Any) -> str:
    """Short stable hash of a JSON-able value (used to stamp specs; never for secrets: see digests.py)."""
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class SchemaScoped(Resource):
    """Objects that live in a schema: ``database=`` and ``schema=`` (object or name, default PUBLIC)."""

    scope: ClassVar[Scope] = Scope.SCHEMA

    database: Any = None
    schema_: Any = Field(default="PUBLIC", alias="schema")

    @field_validator("database", "schema_", mode="before")
    @classmethod
    def _container(cls, v: Any, info: Any) -> Any:
        label = "database" if info.field_name == "database" else "schema"
        if v is None:
            if label == "database":
                raise ValueError("a schema-level object needs database= (a Database or a name)")
            return "PUBLIC"
        def name(n: str) -> str:
            return ids.normalize(n, allow_quoted=cls.allow_quoted_name, what=f"{label} name")

        container = object_or_name(v, label, f"{label}=", f"a {label.title()} or a name", name)
        if isinstance(container, Resource) and not cls.allow_quoted_name:
            name(ids.quote(container.name))  # the same rule for a declared container as for its name
        return container

    @model_validator(mode="after")
    def _schema_matches_database(self) -> SchemaScoped:
        schema = self.schema_
        if isinstance(schema, Resource) and isinstance(self.database, Resource | str):
            db = self.database.name if isinstance(self.database, Resource) else self.database
            if schema.database_name != db:  # type: ignore[attr-defined]
                raise ValueError(
                    f"schema {schema.fqn} belongs to database {schema.database_name}, "  # type: ignore[attr-defined]
                    f"not to database= {db}"
                )
        return self

    @property
    def database_name(self) -> str:
        return self.database.name if isinstance(self.database, Resource) else self.database

    @property
    def schema_name(self) -> str:
        return self.schema_.name if isinstance(self.schema_, Resource) else self.schema_

    def name_parts(self) -> tuple[str, ...]:
        return (self.database_name, self.schema_name, self.name)

    def extra_references(self) -> Iterator[tuple[str, str, Resource | str]]:
        yield "database", "database", self.database
        if isinstance(self.schema_, Resource):
            yield "schema", "schema", self.schema_
        else:
            yield "schema", "schema", ids.qualified(self.database_name, self.schema_name)

    def qualify(self, name: str) -> str:
        """A reference given as a bare name means an object in this object's schema."""
        parts = ids.split_qualified(name)
        if len(parts) == 1:
            parts = [self.database_name, self.schema_name, *parts]
        elif len(parts) == 2:
            parts = [self.database_name, *parts]
        return ids.qualified(*parts)
