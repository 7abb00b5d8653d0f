"""``RESULT_SCAN``: a past statement's result read back as a table
(https://docs.snowflake.com/en/sql-reference/functions/result_scan), the documented way to process the output
of SHOW and DESCRIBE in SQL.

Supported: ``SELECT item, ... FROM TABLE(RESULT_SCAN('<query id>' | LAST_QUERY_ID([n]))) [[AS] alias]``,
branches joined with ``UNION ALL``, then ``ORDER BY`` output columns. An item is ``*``, a column (lower-case
SHOW / DESCRIBE columns are quoted, as in Snowflake), a literal, or ``OBJECT_CONSTRUCT[_KEEP_NULL](*)`` (the row
as an OBJECT keyed by column name; ``OBJECT_CONSTRUCT`` leaves out NULL values,
https://docs.snowflake.com/en/sql-reference/functions/object_construct_keep_null), each with an optional alias.
Only the user who ran a statement can read its result; an unknown id is 000709 "Statement ... not found".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .context import Ctx
from .errors import SqlError, invalid
from .lexer import Token
from .parser import Parser
from .results import FIXED, OBJECT, TEXT, TIMESTAMP, Result


@dataclass
class _Item:
    kind: str  # "star", "column", "literal", "object", "object_keep_null"
    value: Any = None
    alias: str | None = None
    typ: str = TEXT


def is_result_scan(p: Parser) -> bool:
    return any(t.is_kw("RESULT_SCAN") for t in p.toks)


def select(ctx: Ctx, p: Parser) -> Result:
    """The statement at ``p`` (positioned after SELECT)."""
    columns: list[tuple[str, str]] | None = None
    rows: list[list[Any]] = []
    while True:
        branch = _branch(ctx, p)
        if columns is None:
            columns = branch.columns
        elif len(branch.columns) != len(columns):
            raise invalid("Set operator: query blocks have a different number of columns")
        rows.extend(branch.rows)
        if not p.accept_kw("UNION"):
            break
        p.expect_kw("ALL")
        p.expect_kw("SELECT")
    assert columns is not None
    if p.accept_kw("ORDER"):
        p.expect_kw("BY")
        rows = _ordered(p, columns, rows)
    p.end()
    return Result(columns, rows)


def _branch(ctx: Ctx, p: Parser) -> Result:
    items = [_item(p)]
    while p.accept_punct(","):
        items.append(_item(p))
    p.expect_kw("FROM")
    p.expect_kw("TABLE")
    p.expect_punct("(")
    p.expect_kw("RESULT_SCAN")
    p.expect_punct("(")
    source = _source(ctx, p)
    p.expect_punct(")")
    p.expect_punct(")")
    if p.accept_kw("AS") or (p.peek().kind in ("ident", "qident") and not p.peek().is_kw("UNION", "ORDER")):
        p.ident()
    names = [c for c, _ in source.columns]
    columns: list[tuple[str, str]] = []
    getters: list[Any] = []
    for item in items:
        if item.kind == "star":
            for i, col in enumerate(source.columns):
                columns.append(col)
                getters.append(lambda row, i=i: row[i])
        elif item.kind == "column":
            if item.value not in names:
                raise invalid(f"error line 1 at position 0\ninvalid identifier '{_shown(item.value)}'")
            i = names.index(item.value)
            columns.append((item.alias or item.value, source.columns[i][1]))
            getters.append(lambda row, i=i: row[i])
        elif item.kind == "literal":
            columns.append((item.alias or str(item.value), item.typ))
            getters.append(lambda row, v=item.value: v)
        else:
            keep_null = item.kind == "object_keep_null"
            label = "OBJECT_CONSTRUCT_KEEP_NULL(*)" if keep_null else "OBJECT_CONSTRUCT(*)"
            columns.append((item.alias or label, OBJECT))
            getters.append(lambda row, k=keep_null: _object(source.columns, row, k))
    return Result(columns, [[get(row) for get in getters] for row in source.rows])


def _item(p: Parser) -> _Item:
    tok = p.peek()
    if p.accept_punct("*"):
        return _Item("star")
    if tok.is_kw("OBJECT_CONSTRUCT", "OBJECT_CONSTRUCT_KEEP_NULL") and p.peek(1).value == "(":
        p.i += 2
        p.expect_punct("*")
        p.expect_punct(")")
        item = _Item("object_keep_null" if tok.value == "OBJECT_CONSTRUCT_KEEP_NULL" else "object")
    elif tok.kind == "number":
        p.next()
        item = _Item("literal", int(tok.value) if tok.value.isdigit() else float(tok.value), typ=FIXED)
    elif tok.kind == "string":
        p.next()
        item = _Item("literal", tok.value, typ=TEXT)
    elif tok.kind in ("ident", "qident"):
        p.next()
        item = _Item("column", tok.value)
    else:
        raise p.error()
    if p.accept_kw("AS"):
        item.alias = p.ident()
    elif p.peek().kind in ("ident", "qident") and not p.peek().is_kw("FROM"):
        item.alias = p.ident()
    return item


def _source(ctx: Ctx, p: Parser) -> Result:
    tok = p.peek()
    if tok.kind == "string":
        p.next()
        query_id = tok.value
    elif p.accept_kw("LAST_QUERY_ID"):
        p.expect_punct("(")
        query_id = _last_query_id(ctx, p, tok)
        p.expect_punct(")")
    else:
        raise p.error()
    found = ctx.emu.past_result(query_id, ctx.session.user)
    if found is None:
        raise SqlError("000709", "02000", f"Statement {query_id} not found")
    return found


def _last_query_id(ctx: Ctx, p: Parser, at: Token) -> str:
    """LAST_QUERY_ID(n): -1 (the default) the latest statement of the session, 1 its first
    (https://docs.snowflake.com/en/sql-reference/functions/last_query_id)."""
    n = -1
    if not p.at_punct(")"):
        sign = -1 if p.accept_punct("-") else 1
        tok = p.next()
        if tok.kind != "number" or not tok.value.isdigit():
            raise p.error(tok)
        n = sign * int(tok.value)
    history = ctx.session.query_ids
    index = n - 1 if n > 0 else n
    if n == 0 or not -len(history) <= index < len(history):
        raise SqlError("000709", "02000", "Statement not found")
    return history[index]


def _object(columns: list[tuple[str, str]], row: list[Any], keep_null: bool) -> dict[str, Any]:
    return {name: _variant(value, typ) for (name, typ), value in zip(columns, row, strict=True)
            if keep_null or value is not None}


def _variant(value: Any, typ: str) -> Any:
    """A column value as OBJECT_CONSTRUCT holds it: timestamps as their text, the rest as JSON values."""
    if value is None or typ != TIMESTAMP:
        return value
    moment = dt.datetime.fromtimestamp(round(float(value), 3), tz=dt.UTC)  # milliseconds, as results carry them
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{round(moment.microsecond / 1000):03d} +0000"


def _ordered(p: Parser, columns: list[tuple[str, str]], rows: list[list[Any]]) -> list[list[Any]]:
    names = [c for c, _ in columns]
    keys: list[tuple[int, bool]] = []
    while True:
        tok = p.next()
        if tok.kind == "number" and tok.value.isdigit() and 1 <= int(tok.value) <= len(names):
            index = int(tok.value) - 1
        elif tok.kind in ("ident", "qident") and tok.value in names:
            index = names.index(tok.value)
        else:
            raise invalid(f"error line 1 at position {tok.pos}\ninvalid identifier '{_shown(tok.value)}'")
        descending = p.accept_kw("DESC")
        if not descending:
            p.accept_kw("ASC")
        keys.append((index, descending))
        if not p.accept_punct(","):
            break
    for index, descending in reversed(keys):  # stable sorts, last key first
        rows = sorted(rows, key=lambda r, i=index: (r[i] is None, r[i]), reverse=descending)
    return rows


def _shown(name: str) -> str:
    return name if name.isupper() else f'"{name}"'
