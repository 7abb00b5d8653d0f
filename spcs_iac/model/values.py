"""How users and Snowflake spell values that are not typed in the text: one reading of each."""

from __future__ import annotations

from typing import Any

TRUE_WORDS = frozenset({"true", "t", "y", "yes", "1", "on"})
FALSE_WORDS = frozenset({"false", "f", "n", "no", "0", "off"})


def parse_bool(value: Any) -> bool | None:
    """True/False for a bool or a word that spells one ('true', 'Y', 'on', '1', ...); None otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def privilege_name(text: str) -> str:
    """One spelling per privilege: ``create_service`` or ``CREATE  SERVICE`` -> ``CREATE SERVICE``
    (``USE_ANY_ROLE`` is the one privilege spelled with underscores)."""
    if text.upper() == "USE_ANY_ROLE":
        return "USE_ANY_ROLE"
    return " ".join(text.replace("_", " ").upper().split())
