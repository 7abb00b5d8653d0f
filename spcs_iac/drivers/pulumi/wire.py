"""Pulumi property values on the wire (protobuf Structs) as plain Python, and back.

The engine marks special values with a signature key: secrets, unknowns (a preview's "known after
apply") and resource references. Here a secret becomes a :class:`Sealed` wrapper so that a value given
as a Pulumi secret is still one when it goes back into the state; :func:`reveal` strips the wrappers
for the code that needs the real values. Unknowns become :data:`UNKNOWN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN_TEXT = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class _Unknown:
    def __repr__(self) -> str:
        return "<known after apply>"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Sealed:
    """A value the engine handed over as a secret (kept a secret when written back)."""

    value: Any

    def __repr__(self) -> str:  # never show the value, whatever prints this
        return "Sealed(***)"


def decode(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    if struct is None:
        return {}
    return {k: _from_json(v) for k, v in json_format.MessageToDict(struct).items()}


def _from_json(value: Any) -> Any:
    if value == UNKNOWN_TEXT:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Structs carry every number as a double
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        sig = value.get(SIG)
        if sig == SECRET_SIG:
            return Sealed(_from_json(value.get("value")))
        if sig == OUTPUT_SIG:  # an output value: known or not, maybe secret
            inner = _from_json(value["value"]) if "value" in value else UNKNOWN
            return Sealed(inner) if value.get("secret") else inner
        if sig == RESOURCE_SIG:  # a resource reference: its id when it has one, else its URN
            return _from_json(value.get("id")) if value.get("id") not in (None, "") else value.get("urn")
        return {k: _from_json(v) for k, v in value.items()}
    return value


def encode(values: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update({k: _to_json(v) for k, v in values.items()})
    return out


def _to_json(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN_TEXT
    if isinstance(value, Sealed):
        return {SIG: SECRET_SIG, "value": _to_json(value.value)}
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def reveal(value: Any) -> Any:
    """The value without secret wrappers (for the code that needs the real values)."""
    if isinstance(value, Sealed):
        return reveal(value.value)
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, Sealed):
        return has_unknown(value.value)
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def sealed_keys(values: dict[str, Any]) -> set[str]:
    """Top-level keys whose value is, or holds, a secret."""
    return {k for k, v in values.items() if _holds_secret(v)}


def _holds_secret(value: Any) -> bool:
    if isinstance(value, Sealed):
        return True
    if isinstance(value, dict):
        return any(_holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    return False


def sealed_strings(value: Any, inside: bool = False) -> list[str]:
    """Every text a secret holds (what messages about this request must never repeat)."""
    if isinstance(value, Sealed):
        return sealed_strings(value.value, True)
    if isinstance(value, dict):
        return [s for v in value.values() for s in sealed_strings(v, inside)]
    if isinstance(value, list):
        return [s for v in value for s in sealed_strings(v, inside)]
    return [value] if inside and isinstance(value, str) and value else []
