"""``spcs-iac sql`` on the Snowflake target: statements run as they are, through the connector.

The statements of a script run one by one in one session (so USE and transactions carry over); results
come back as column names and rows, DML as the connector's row count. Errors are Snowflake's own (code,
SQL state, message), without the connector's traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sfduck import errors as sferr
from sfduck.translate import split
from spcs_iac.errors import ProviderError

if TYPE_CHECKING:
    from spcs_iac.targets.snowflake.provider import SnowflakeProvider


def run_sql(provider: SnowflakeProvider, text: str, database: str | None = None,
            schema: str | None = None) -> list[dict[str, Any]]:
    try:
        statements = split(text)
    except sferr.SnowflakeError as exc:
        raise ProviderError(f"{exc.code} ({exc.sqlstate}): {exc.message}") from None
    out: list[dict[str, Any]] = []
    with provider.db.session() as sess:
        cur = sess.conn.cursor()
        try:
            if database:
                _execute(cur, f"USE DATABASE {_ident(database)}")
            if schema:
                _execute(cur, f"USE SCHEMA {_ident(schema)}")
            for statement in statements:
                _execute(cur, statement)
                columns = [d[0] for d in cur.description or []]
                rows = [list(r) for r in cur.fetchall()] if columns else []
                dml = {c.lower() for c in columns} & {"number of rows inserted", "number of rows updated",
                                                       "number of rows deleted"}
                out.append({"statement": statement, "kind": "dml" if dml else "select", "columns": columns,
                            "rows": rows, "rowcount": cur.rowcount if dml else None})
        finally:
            cur.close()
    return out


def _ident(name: str) -> str:
    from spcs_iac.model import identifiers as ids

    return ids.qualified(*ids.split_qualified(name))


def _execute(cur: Any, statement: str) -> None:
    try:
        cur.execute(statement)
    except Exception as exc:  # the connector's errors: keep Snowflake's code and text, not the traceback
        code = getattr(exc, "errno", None)
        state = getattr(exc, "sqlstate", None)
        msg = getattr(exc, "raw_msg", None) or getattr(exc, "msg", None) or str(exc)
        head = f"{int(code):06d} ({state}): " if isinstance(code, int) else ""
        shown = " ".join(statement.split())
        raise ProviderError(f"{head}{str(msg).strip()}\n  in: {shown[:200]}") from None
