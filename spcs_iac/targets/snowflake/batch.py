"""Many reads in a few round trips: a multi-statement request, then one SELECT over its results.

A request carrying N statements (``MULTI_STATEMENT_COUNT``,
https://docs.snowflake.com/en/developer-guide/sql-api/submitting-multiple-statements) answers with the ids of
its N child results, and the connector fetches the first one at once; fetching the others one by one
(``nextset``) would cost a round trip each. Instead one more statement reads them all:
``SELECT i, OBJECT_CONSTRUCT_KEEP_NULL(*) FROM TABLE(RESULT_SCAN('<child id>')) UNION ALL ...``
(https://docs.snowflake.com/en/sql-reference/functions/result_scan, the documented way to read SHOW and
DESCRIBE output in SQL). So any number of reads costs three round trips: the request, the first child, the
SELECT. Each row comes back as an object keyed by column name: text and numbers as the connector gives them,
the ``*_on`` timestamps (text in an object) turned back into datetimes.

The statements themselves are the ones the single-statement path sends. Row order within a result matters
to the reader only for SHOW COLUMNS (a table's columns), which it sends first: the first result comes from
the connector itself, as a single statement's would. The first failing statement stops
the request (100132, naming its line and position): a failure the caller tolerates (an object dropped
meanwhile) becomes that statement's answer and the others are sent again. A request the account refuses as
a whole (no warehouse in the session, 000606; a statement count it does not accept) switches this
connection back to one statement per request.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from spcs_iac.errors import ProviderError

if TYPE_CHECKING:
    from spcs_iac.targets.snowflake.connection import Db

Rows = list[dict[str, Any]]
Answer = Rows | ProviderError
STATEMENT_FAILED = 100132  # a statement of a multi-statement request failed (JavaScript execution error)
MAX_STATEMENTS = 1_000  # statements per request: keeps one request's text and its SELECT modest
_FAILED_AT = re.compile(r"\(at line (\d+), position (\d+)\)\.\n")
_INNER_END = " in SYSTEM$MULTISTMT at "
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{1,6} [+-]\d{4}")


def read_batch(db: Db, sqls: list[str], tolerate: Callable[[ProviderError], bool] | None = None,
               optional: Collection[str] = ()) -> dict[str, Answer]:
    """The rows of each read in ``sqls`` (SHOW / DESCRIBE) by statement; a failure ``tolerate`` accepts is that
    read's answer. Reads in ``optional`` are guesses (objects expected to exist): once one of them fails that
    way, or when the account takes one statement per request, the guesses not yet answered get no answer
    rather than costing a request each (a dropped object fails several: its DESCRIBE, its grants)."""
    answers: dict[str, Answer | None] = {}  # None: a guess left out
    pending: list[str] = []
    for sql in dict.fromkeys(sqls):
        hit = db.cached(sql)
        if hit is None:
            pending.append(sql)
        else:
            answers[sql] = hit
    guesses = set(optional)
    while len(pending) > 1 and db.multi_statement is not False:
        outcome = _send(db, pending[:MAX_STATEMENTS], tolerate)
        if outcome is None:  # refused as a whole: one statement per request from now on
            break
        done, failed = outcome
        answers.update(done)
        if failed is not None:
            answers[failed[0]] = failed[1]
            if failed[0] in guesses:
                guesses = {g for g in guesses if g not in answers}
                answers.update((g, None) for g in guesses)  # placeholders, dropped below
        pending = [s for s in pending if s not in answers]
    singles = [s for s in pending if s not in guesses]
    if singles:
        answers.update(zip(singles, db.queries(singles, tolerate=tolerate), strict=True))
    return {sql: answer for sql, answer in answers.items() if answer is not None}


def _send(db: Db, chunk: list[str], tolerate: Callable[[ProviderError], bool] | None
          ) -> tuple[dict[str, Answer], tuple[str, ProviderError] | None] | None:
    """One multi-statement request and the SELECT reading its results: (answers, the tolerated failure), or
    None when the account does not take multi-statement requests here."""
    text = ";\n".join(chunk)  # one statement per line: the failure names its line
    with db.session() as sess:
        db.use_role(sess, sess.default_role)
        cur = sess.conn.cursor()
        try:
            try:
                cur.execute(text, num_statements=len(chunk))
            except Exception as exc:
                if getattr(exc, "errno", None) != STATEMENT_FAILED:
                    db.multi_statement = False
                    return None
                found = _failure(exc, chunk)
                if found is None:  # a failure the reads cannot place: let single statements say it
                    db.multi_statement = False
                    return None
                index, message = found
                db.counted(chunk[:index + 1], mutating=False)
                error = ProviderError(f"{chunk[index]}\n  failed: {message}")
                if tolerate is None or not tolerate(error):
                    raise error from None
                return {}, (chunk[index], error)
            db.multi_statement = True
            db.counted(chunk, mutating=False)
            children = [str(i) for i in getattr(cur, "multi_statement_savedIds", None) or []]
            if len(children) != len(chunk):
                raise ProviderError(f"a request of {len(chunk)} statements answered with {len(children)} results")
            answers: dict[str, Answer] = {chunk[0]: _rows(cur)}
            if len(chunk) > 1:
                select = _select(children[1:])
                db.counted([select], mutating=False)
                cur.execute(select)
                answers.update(_unpack(chunk[1:], cur.fetchall()))
        finally:
            cur.close()
    for sql, rows in answers.items():
        if isinstance(rows, list):
            db.remember(sql, rows)
    return answers, None


def _select(query_ids: list[str]) -> str:
    """One SELECT of every child result, each row as an object tagged with its statement's position."""
    return "\nUNION ALL ".join(
        f"SELECT {i} AS \"I\", OBJECT_CONSTRUCT_KEEP_NULL(*) AS \"ROW\" FROM TABLE(RESULT_SCAN('{qid}'))"
        for i, qid in enumerate(query_ids))


def _unpack(sqls: list[str], rows: list[tuple[Any, ...]]) -> dict[str, Answer]:
    out: dict[str, Rows] = {sql: [] for sql in sqls}
    for index, row in rows:
        value = json.loads(row) if isinstance(row, str) else row
        out[sqls[int(index)]].append({str(k).lower(): _value(str(k).lower(), v) for k, v in (value or {}).items()})
    return dict(out)


def _value(column: str, value: Any) -> Any:
    """A value as the connector gives it for its own column: SHOW's ``*_on`` timestamps come back as
    datetimes (an object holds them as text)."""
    if column.endswith("_on") and isinstance(value, str) and (found := _TIMESTAMP.fullmatch(value)):
        return dt.datetime.strptime(found.group(0), "%Y-%m-%d %H:%M:%S.%f %z")
    return value


def _rows(cur: Any) -> Rows:
    names = [d[0].lower() for d in (cur.description or [])]
    return [dict(zip(names, row, strict=False)) for row in cur.fetchall()] if names else []


def _failure(exc: Exception, chunk: list[str]) -> tuple[int, str] | None:
    """(index of the failing statement, its own message) from the request's 100132 error, if it names one."""
    text = str(getattr(exc, "raw_msg", None) or getattr(exc, "msg", None) or exc)
    found = _FAILED_AT.search(text)
    starts = _starts(chunk)
    if found is None or (int(found.group(1)), int(found.group(2))) not in starts:
        return None
    inner = text[found.end():]
    inner = inner[:inner.index(_INNER_END)] if _INNER_END in inner else inner
    return starts[(int(found.group(1)), int(found.group(2)))], inner.strip()


def _starts(chunk: list[str]) -> dict[tuple[int, int], int]:
    """(line, position) where each statement of the request text starts -> its index."""
    out: dict[tuple[int, int], int] = {}
    line = 1
    for index, sql in enumerate(chunk):
        out[(line, 0)] = index
        line += sql.count("\n") + 1
    return out
