"""A declared object as plain data, and back: what a saved plan carries so that it can be applied later.

``declaration(r)`` writes every field of the object as JSON-able data, references as the names they
denote (an image in a spec as its repository path). ``rebuild(items)`` constructs the objects again and
links the names to each other the way a Stack does, so the SQL and Docker operations compiled from a
plan read back from JSON are the ones compiled from the declarations. Sensitive values never appear:
each is replaced by the salted hash the state keeps, and a rebuilt object carries that hash until the
apply binds the real value (``bind_secrets``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel

from spcs_iac.errors import SpcsIacError
from spcs_iac.model.base import Resource
from spcs_iac.model.digests import digest_for, keep_digest, secret_matches
from spcs_iac.model.fields import kind_props


class SecretHash(str):
    """A sensitive field of a rebuilt object: its digest (model/digests.py), standing in until the value
    is bound."""

    is_digest = True  # Resource.desired() keeps it as it is instead of hashing it again


def set_fields(r: Resource) -> Iterator[tuple[str, str, Any, bool]]:
    """``(argument key, field name, value, sensitive)`` for every field the declaration sets."""
    sensitive = {d.name for d in kind_props(type(r)) if d.prop.sensitive}
    for name, info in type(r).model_fields.items():
        value = getattr(r, name)
        if value is None or name not in r.model_fields_set and value == info.default:
            continue
        yield info.alias or name, name, value, name in sensitive


def declaration(r: Resource) -> dict[str, Any]:
    """The object's fields as plain data (no secret values)."""
    out: dict[str, Any] = {}
    for key, name, value, sensitive in set_fields(r):
        if sensitive:
            out[key] = value if getattr(value, "is_digest", False) else digest_for(r.address, name, str(value))
        elif name in ("database", "schema_") and isinstance(value, Resource):
            out[key] = value.name  # the container's own name: the object's scope qualifies it
        else:
            out[key] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Resource):
        reference = getattr(value, "spec_reference", None)
        return reference() if callable(reference) else value.fqn
    if isinstance(value, BaseModel):
        return {(info.alias or name): _plain(getattr(value, name))
                for name, info in type(value).model_fields.items()
                if getattr(value, name) is not None or name in value.model_fields_set}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def rebuild(items: Iterable[tuple[str, Mapping[str, Any]]], kinds: Mapping[str, type[Resource]]
            ) -> dict[str, Resource]:
    """Objects again from ``(kind, declaration)`` pairs, names linked to the objects they denote."""
    from spcs_iac.model.stack import link_names

    index: dict[str, Resource] = {}
    for kind, data in items:
        cls = kinds.get(kind)
        if cls is None:
            raise SpcsIacError(f"the plan names kind {kind!r}, which this version does not know")
        r = cls(**dict(data))
        for d in kind_props(cls):
            value = getattr(r, d.name)
            if d.prop.sensitive and isinstance(value, str):
                object.__setattr__(r, d.name, SecretHash(value))
        index[r.address] = r
    link_names(index)
    return index


def bind_secrets(r: Resource, value_of: Callable[[str, str], str | None]) -> None:
    """Put the real secret values back into a rebuilt object; ``value_of(address, field)`` supplies them.

    A value whose hash differs from the one the plan recorded means the declaration changed since the
    plan was made: applying it would not apply what was reviewed."""
    for d in kind_props(type(r)):
        recorded = getattr(r, d.name)
        if not isinstance(recorded, SecretHash):
            continue
        value = value_of(r.address, d.name)
        if value is None or not secret_matches(recorded, value, r.address):
            raise SpcsIacError(f"{r.describe()}: the value of {d.name} is not the one this plan was made with; "
                               "make a new plan")
        keep_digest(r.address, d.name, value, recorded)  # what the plan showed is what the state records
        object.__setattr__(r, d.name, value)


def has_unbound_secrets(r: Resource) -> bool:
    return any(isinstance(getattr(r, d.name), SecretHash) for d in kind_props(type(r)) if d.prop.sensitive)
