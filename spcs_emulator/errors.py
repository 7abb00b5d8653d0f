"""Snowflake-style SQL errors raised by the emulator engine.

Each error carries the Snowflake error ``code`` (6-digit string, becomes the connector's ``errno``),
the ``sqlstate`` and the message text. The HTTP layer turns them into ``success: false`` responses.
"""

from __future__ import annotations


class SqlError(Exception):
    def __init__(self, code: str, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.sqlstate = sqlstate
        self.message = message


COMPILATION = "SQL compilation error:\n"
ACCESS = "SQL access control error:\n"


def position_of(sql: str, offset: int) -> tuple[int, int]:
    """(1-based line, 0-based column) of ``offset`` in ``sql``."""
    offset = max(0, min(offset, len(sql)))
    line = sql.count("\n", 0, offset) + 1
    col = offset - (sql.rfind("\n", 0, offset) + 1)
    return line, col


def syntax_error(sql: str, offset: int, text: str) -> SqlError:
    line, col = position_of(sql, offset)
    if text:
        what = f"unexpected '{text}'."
    else:
        what = "unexpected '<EOF>'."
    return SqlError("001003", "42000", f"{COMPILATION}syntax error line {line} at position {col} {what}")


def invalid(message: str) -> SqlError:
    """A compilation error about a semantically invalid statement (bad value, bad combination)."""
    return SqlError("001003", "42000", COMPILATION + message)


def does_not_exist(kind: str, name: str) -> SqlError:
    return SqlError("002003", "02000", f"{COMPILATION}{kind} '{name}' does not exist or not authorized.")


def already_exists(name: str) -> SqlError:
    return SqlError("002002", "42710", f"{COMPILATION}Object '{name}' already exists.")


def insufficient_privileges(message: str) -> SqlError:
    return SqlError("003001", "42501", ACCESS + message)


def no_current_database(action: str) -> SqlError:
    return SqlError(
        "090105",
        "22000",
        f"Cannot perform {action}. This session does not have a current database. "
        "Call 'USE DATABASE', or use a qualified name.",
    )


def no_current_schema(action: str) -> SqlError:
    return SqlError(
        "090106",
        "22000",
        f"Cannot perform {action}. This session does not have a current schema. "
        "Call 'USE SCHEMA', or use a qualified name.",
    )


def state_error(message: str) -> SqlError:
    """The object exists but is in the wrong state for the operation (e.g. pool not suspended)."""
    return SqlError("002306", "55000", message)


def unsupported(feature: str) -> SqlError:
    return SqlError("002120", "0A000", f"{COMPILATION}Unsupported feature '{feature}'.")


def simulated_failure(statement: str) -> SqlError:
    short = " ".join(statement.split())[:80]
    return SqlError(
        "000603",
        "XX000",
        f"SQL execution internal error:\nProcessing aborted due to error 300010:391167117; "
        f"incident 0000001 (simulated failure injected by the emulator for: {short}).",
    )


def job_failed(name: str, detail: str) -> SqlError:
    return SqlError("395001", "22000", f"Job {name} failed: {detail}")
