"""Snowflake's errors for data statements, and DuckDB's errors mapped to them.

Codes, SQL states and message shapes are Snowflake's (docs.snowflake.com/en/user-guide/
snowsql-use#error-codes lists the connector-side ones; the compilation errors below are what the
service returns): 002003 for a missing object, 000904 for an unknown column, 002140/002141 for an
unknown function, 100038 / 100040 for values that do not convert, 001003 for syntax.
"""

from __future__ import annotations

import re

COMPILATION = "SQL compilation error:\n"


class SnowflakeError(Exception):
    """An error as Snowflake reports it: a 6-digit code, the SQL state and the message."""

    def __init__(self, code: str, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.code, self.sqlstate, self.message = code, sqlstate, message

    def __str__(self) -> str:
        return f"{self.code} ({self.sqlstate}): {self.message}"


def missing_object(name: str) -> SnowflakeError:
    return SnowflakeError("002003", "42S02", f"{COMPILATION}Object '{name}' does not exist or not authorized.")


def missing_schema(name: str) -> SnowflakeError:
    return SnowflakeError("002003", "02000", f"{COMPILATION}Schema '{name}' does not exist or not authorized.")


def already_exists(name: str) -> SnowflakeError:
    return SnowflakeError("002002", "42710", f"{COMPILATION}Object '{name}' already exists.")


def invalid_identifier(name: str) -> SnowflakeError:
    return SnowflakeError("000904", "42000", f"{COMPILATION}error line 1 at position 0\ninvalid identifier '{name}'")


def unknown_function(name: str) -> SnowflakeError:
    return SnowflakeError("002140", "42601", f"{COMPILATION}Unknown function {name}")


def syntax(detail: str) -> SnowflakeError:
    return SnowflakeError("001003", "42000", f"{COMPILATION}syntax error {detail}")


def no_database(action: str) -> SnowflakeError:
    return SnowflakeError("090105", "22000", f"Cannot perform {action}. This session does not have a current "
                          "database. Call 'USE DATABASE', or use a qualified name.")


def no_schema(action: str) -> SnowflakeError:
    return SnowflakeError("090106", "22000", f"Cannot perform {action}. This session does not have a current "
                          "schema. Call 'USE SCHEMA', or use a qualified name.")


def unsupported(feature: str) -> SnowflakeError:
    return SnowflakeError("002120", "0A000", f"{COMPILATION}Unsupported feature '{feature}'.")


def function_failed(name: str, detail: str) -> SnowflakeError:
    """A service function whose service could not answer (Snowflake: 'Request failed for external
    function')."""
    return SnowflakeError("100351", "22000", f"Request failed for external function {name}. Error: {detail}")


_CONVERT = re.compile(r"Could not convert string ['\"](?P<v>[^'\"]*)['\"] to (?P<t>\w+)")
_CAST = re.compile(r"Conversion Error: .*?['\"](?P<v>[^'\"]*)['\"]")
_DATE = re.compile(r"(date|timestamp|time) field format", re.I)
_COLUMN = re.compile(r'(?:Referenced column|Column with name|column) "?(?P<c>[^"\s]+)"? (?:not found|does not exist)',
                     re.I)
_NOT_NULL = re.compile(r"NOT NULL constraint failed: (?P<c>\S+)")


def from_duckdb(exc: Exception, names: dict[str, str] | None = None) -> SnowflakeError:
    """A DuckDB error as Snowflake would report the same mistake. ``names`` maps DuckDB names back to
    Snowflake's (so a message never shows the storage layout)."""
    text = str(exc)
    for duck, sf in (names or {}).items():
        text = text.replace(duck, sf)
    kind = type(exc).__name__
    if kind == "ConversionException" or "Conversion Error" in text:
        m = _CONVERT.search(text) or _CAST.search(text)
        value = m.group("v") if m else ""
        target = (m.groupdict().get("t") or "") if m else ""
        if _DATE.search(text) or target.upper() in ("DATE", "TIMESTAMP", "TIME"):
            return SnowflakeError("100040", "22007", f"Date '{value}' is not recognized")
        return SnowflakeError("100038", "22018", f"Numeric value '{value}' is not recognized")
    if kind == "ConstraintException" or "constraint" in text.lower():
        m = _NOT_NULL.search(text)
        column = m.group("c").split(".")[-1] if m else "?"
        return SnowflakeError("100072", "22000", f"NULL result in a non-nullable column {column}")
    if kind == "BinderException":
        m = _COLUMN.search(text)
        if m:
            return invalid_identifier(m.group("c").split(".")[-1].upper())
        if "No function matches" in text or "Cannot" in text:
            return SnowflakeError("002140", "42601", f"{COMPILATION}{_first_line(text)}")
    if kind == "ParserException":
        return syntax(_first_line(text).removeprefix("Parser Error: "))
    if kind == "CatalogException":
        f = re.search(r"Function with name (?P<n>\S+) does not exist", text)
        if f:
            return unknown_function(f.group("n").strip('"').upper())
        m = re.search(r"with name (?P<n>\S+) does not exist", text)
        if m:
            return missing_object(m.group("n").strip('"'))
    if kind == "TransactionException":
        return SnowflakeError("000603", "XX000", f"SQL execution error: {_first_line(text)}")
    return SnowflakeError("100090", "22000", f"SQL execution error: {_first_line(text)}")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
