"""Several statements in one request, as the service runs them (MULTI_STATEMENT_COUNT).

Documented behaviour (https://docs.snowflake.com/en/developer-guide/sql-api/submitting-multiple-statements,
https://docs.snowflake.com/en/sql-reference/parameters#multi-statement-count):

* ``MULTI_STATEMENT_COUNT`` comes with the request (the connector's ``num_statements``) or from the session
  (``ALTER SESSION SET``, a login session parameter); 1 by default, 0 = any number, N = exactly N. A text whose
  count differs fails as a whole, before anything runs: 000008 "Actual statement count N did not match the
  desired statement count M."
* The statements run one after the other in the session. The reply to the request carries no rows of theirs:
  one row "Multiple statements executed successfully.", the child query ids in ``resultIds`` and their
  statement types in ``resultTypes`` (comma separated), ``statementTypeId`` 0xA000. The client fetches each
  child's result by its id (``GET /queries/<id>/result``), one request each.
* The first failing statement stops the request (those before it have run) and the request fails with
  100132 / P0000 naming that statement's first 30 characters, its line and position, and its own error.
* It needs a warehouse in the session ("Executing multiple statements in a single query requires that a valid
  warehouse is available in a session", the page above): without one nothing runs, 000606.
* PUT / GET cannot be part of one (the connector refuses them too).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .errors import SqlError, unsupported

MULTI_STATEMENT_TYPE = 0xA000
PARAMETER = "MULTI_STATEMENT_COUNT"
SUMMARY_COLUMN = "multiple statement execution"
SUMMARY = "Multiple statements executed successfully."
_SHOWN_CHARS = 30  # how much of a failing statement the message quotes


@dataclass(frozen=True)
class Piece:
    """One statement of a request: its text and where it starts (1-based line, 0-based position)."""

    text: str
    line: int
    position: int


def desired_count(request_parameters: object, session_parameters: dict[str, str]) -> int:
    """The request's MULTI_STATEMENT_COUNT, else the session's, else 1."""
    value: object = None
    if isinstance(request_parameters, dict):
        value = next((v for k, v in request_parameters.items() if str(k).upper() == PARAMETER), None)
    if value is None:
        value = session_parameters.get(PARAMETER)
    if value is None:
        return 1
    try:
        count = int(str(value).strip())
    except ValueError:
        raise SqlError("002029", "22023", f"Invalid value [{value}] for parameter '{PARAMETER}'") from None
    if count < 0:
        raise SqlError("002029", "22023", f"Invalid value [{value}] for parameter '{PARAMETER}'")
    return count


def count_mismatch(actual: int, desired: int) -> SqlError:
    return SqlError("000008", "0A000",
                    f"Actual statement count {actual} did not match the desired statement count {desired}.")


def not_in_multi(what: str) -> SqlError:
    return unsupported(f"{what} in a multi-statement request")


def no_warehouse() -> SqlError:
    return SqlError("000606", "57P03", "No active warehouse selected in the current session.  Select an active "
                    "warehouse with the 'use warehouse' command.\n")


def statement_failed(piece: Piece, error: SqlError) -> SqlError:
    """The whole request's error when ``piece`` fails, worded as the service's multi-statement runner does."""
    shown = piece.text if len(piece.text) <= _SHOWN_CHARS else piece.text[:_SHOWN_CHARS] + "..."
    message = (
        f'JavaScript execution error: Uncaught Execution of multiple statements failed on statement "{shown}" '
        f"(at line {piece.line}, position {piece.position}).\n{error.message} in SYSTEM$MULTISTMT at "
        "'    throw `Execution of multiple statements failed on statement {0} (at line {1}, position {2}).`"
        ".replace('{1}', LINES[i])' position 4\nstackstrace: \nSYSTEM$MULTISTMT line: 10"
    )
    return SqlError("100132", "P0000", message)


def split(sql: str) -> list[Piece]:
    """The statements of ``sql`` split at semicolons outside quotes, ``$$`` literals and comments; pieces
    holding nothing but blanks and comments are not statements."""
    pieces: list[Piece] = []
    line_starts = [0] + [m.end() for m in _NEWLINE.finditer(sql)]
    start, i, n = 0, 0, len(sql)
    has_code = False
    while (m := _SPECIAL.search(sql, i)) is not None:
        has_code = has_code or not sql[i:m.start()].isspace() and m.start() > i
        token, i = m.group(), m.end()
        if token in ("'", '"'):
            i, has_code = _after_quoted(sql, m.start(), token), True
        elif token == "$$":
            close = sql.find("$$", i)
            i, has_code = (n if close < 0 else close + 2), True
        elif token in ("--", "//"):
            nl = sql.find("\n", i)
            i = n if nl < 0 else nl + 1
        elif token == "/*":
            close = sql.find("*/", i)
            i = n if close < 0 else close + 2
        else:  # ";"
            if has_code:
                pieces.append(_piece(sql, start, m.start(), line_starts))
            start, has_code = i, False
    if has_code or sql[i:].strip():
        pieces.append(_piece(sql, start, n, line_starts))
    return pieces


_SPECIAL = re.compile(r"'|\"|\$\$|--|//|/\*|;")
_NEWLINE = re.compile(r"\n")


def _after_quoted(sql: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(sql):
        if sql[j] == "\\" and quote == "'":
            j += 2
            continue
        if sql[j] == quote:
            if sql[j + 1:j + 2] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return j


def _piece(sql: str, start: int, end: int, line_starts: list[int]) -> Piece:
    text = sql[start:end]
    offset = start + len(text) - len(text.lstrip())
    line = bisect.bisect_right(line_starts, offset)  # 1-based: line_starts[0] is 0
    return Piece(text.strip(), line, offset - line_starts[line - 1])
