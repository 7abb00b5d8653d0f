"""Argument values of a service-function call, checked against the declared SQL types before sending.

SQL would cast or refuse a value before the service sees it; the local gateway does the same, so a
value of the wrong type is refused with the function, the row, the argument and the type named.
Values from the command line and CSV files arrive as text and are converted as SQL casts them
('12' to a FLOAT is 12.0; 'abc' is refused).
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from typing import Any

from spcs_iac.errors import ProviderError

TRUE = {"true", "t", "yes", "y", "on", "1"}
FALSE = {"false", "f", "no", "n", "off", "0"}


def coerce_rows(function: str, arguments: list[list[str]], rows: list[list[Any]]) -> list[list[Any]]:
    """Rows with every value converted to its argument's type; raises on the first value that does not fit."""
    out = []
    for i, row in enumerate(rows):
        if len(row) != len(arguments):
            raise ProviderError(f"function {function} takes {len(arguments)} argument(s) "
                                f"({', '.join(f'{n} {t}' for n, t in arguments) or 'none'}); row {i} has "
                                f"{len(row)}: {row!r}")
        converted = []
        for (name, datatype), value in zip(arguments, row, strict=True):
            try:
                converted.append(coerce(value, datatype))
            except (TypeError, ValueError) as exc:
                raise ProviderError(f"function {function}: row {i}, argument {name} is {datatype}; {exc} "
                                    f"(given: {value!r})") from None
        out.append(converted)
    return out


def coerce(value: Any, datatype: str) -> Any:
    """``value`` as ``datatype`` (a canonical type name: FLOAT, NUMBER, VARCHAR, BOOLEAN, ...); None is NULL."""
    if value is None:
        return None
    kind = datatype.split("(")[0].strip().upper()
    if kind == "FLOAT":
        number = _number(value)
        return float(number)
    if kind == "NUMBER":
        number = _number(value)
        return int(number) if float(number).is_integer() else number
    if kind == "VARCHAR":
        if isinstance(value, dict | list):
            raise ValueError("a structured value is not text")
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "BOOLEAN":
        return _boolean(value)
    if kind in ("VARIANT", "OBJECT", "ARRAY"):
        return _structured(value, kind)
    if kind == "DATE":
        return date.fromisoformat(_text(value)).isoformat()
    if kind == "TIME":
        return time.fromisoformat(_text(value)).isoformat()
    if kind.startswith("TIMESTAMP"):
        return datetime.fromisoformat(_text(value)).isoformat(sep=" ")
    return value  # other types (BINARY, GEOGRAPHY, ...) go as given


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("true/false is not a number")
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            try:
                number = float(value.strip())
            except ValueError:
                raise ValueError("the value is not a number") from None
    else:
        raise ValueError(f"a {type(value).__name__} is not a number")
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError("the value is not a finite number")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise ValueError("the value is not a boolean (true/false)")


def _structured(value: Any, kind: str) -> Any:
    if isinstance(value, str) and kind != "VARIANT":
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"the text is not a JSON {'object' if kind == 'OBJECT' else 'array'}") from None
    if kind == "OBJECT" and not isinstance(value, dict):
        raise ValueError("the value is not an object")
    if kind == "ARRAY" and not isinstance(value, list):
        raise ValueError("the value is not an array")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("dates and times are given as ISO text, e.g. 2024-05-01")
    return value.strip()
