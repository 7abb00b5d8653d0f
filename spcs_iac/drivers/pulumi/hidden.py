"""The secret values a provider request carries: what no message or log line about it may repeat.

A secret value is the value of a field its kind declares sensitive (``Prop.sensitive``, as
``model/redact.py`` hides them for the CLI), the values a service carries for the Secrets its containers
use, and whatever else the program made a Pulumi secret (an environment value in a spec). Never a name:
Pulumi makes a value secret when anything it came from is, so an object's name, a reference to another
(a service naming its Secret resource) or what the provider records beside a secret (the desired values,
secret digests only) often arrive sealed, and hiding those would cut names, and every name sharing their
first characters, out of errors and diffs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spcs_iac.drivers.pulumi.bridge import DESIRED, IDENTITY, SECRETS, WHERE, input_key, kind_of
from spcs_iac.drivers.pulumi.wire import Sealed, reveal, sealed_strings
from spcs_iac.errors import SpcsIacError
from spcs_iac.model.fields import kind_props
from spcs_iac.model.kinds import KINDS

NAMES = ("name", "database", "schema", *IDENTITY, WHERE, DESIRED)
# Where a spec names an object (an image path, a Secret), at any depth.
SPEC_NAMES = ("image", "snowflakeSecret", "snowflake_secret", "objectName", "object_name")
TYPE_PREFIX = "spcs-iac:index:"


def secret_values(type_token: str, values: Mapping[str, Any]) -> list[str]:
    """Every secret text in ``values``, a resource's (or the provider's) properties of type ``type_token``."""
    sensitive: set[str] = set()
    names: set[str] = set(NAMES)
    if type_token.startswith(TYPE_PREFIX):
        try:
            cls = KINDS[kind_of(type_token)]
        except SpcsIacError:
            cls = None
        for d in kind_props(cls) if cls is not None else ():
            key = input_key(cls, d.name)  # type: ignore[arg-type]
            if d.prop.sensitive:
                sensitive.add(key)
            elif d.prop.ref is not None or d.prop.identity:
                names.add(key)
    out: list[str] = []
    for key, value in values.items():
        if key in sensitive:
            out += _texts(reveal(value))
        elif key == SECRETS:
            items = reveal(value)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict):
                    out += [t for k, v in item.items() if k != "name" for t in _texts(v)]
        elif key not in names:
            out += sealed_strings(_without_names(value))
    return out


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _without_names(value: Any) -> Any:
    """``value`` without what names objects inside a spec."""
    if isinstance(value, Sealed):
        return Sealed(_without_names(value.value))
    if isinstance(value, dict):
        return {k: _without_names(v) for k, v in value.items() if k not in SPEC_NAMES}
    if isinstance(value, list):
        return [_without_names(v) for v in value]
    return value
