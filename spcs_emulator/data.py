"""The emulator's data engine: table rows in DuckDB, Snowflake-dialect queries and DML through sqlglot.

Usable for any table (the quickstart's WEATHER, or a state backend's own tables). The catalog stays the
truth about which tables exist, who owns them and how they were declared (see ``tables.py``); DuckDB holds
their rows. Each emulator session has its own DuckDB connection, so BEGIN / COMMIT / ROLLBACK are per
session as in Snowflake. Statements resolve names with the session's current database and schema, and
answer like Snowflake (docs.snowflake.com/en/sql-reference/sql/insert, update, delete):

- INSERT -> one row, column ``number of rows inserted``;
- UPDATE -> ``number of rows updated``, ``number of multi-joined rows updated``;
- DELETE -> ``number of rows deleted``;

which is what the connector sums into ``cursor.rowcount``. Errors carry Snowflake's codes (002003 for a
missing table, 000904 for a missing column, 100038 for a value that is not a number, ...).

A service function called inside a statement is a DuckDB vectorised function: DuckDB hands it up to 2048
rows at a time, which go to the function's endpoint handler in batches of MAX_BATCH_ROWS rows (reference
§13.2). Statements run after the emulator's lock is released (``Ctx.after``), so a slow handler never
blocks other sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfduck import errors as sferr
from sfduck import translate as tr
from sfduck.types import rowtype_of_duckdb
from sfduck.warehouse import Outcome, Warehouse

from .catalog import Obj, fmt_key
from .errors import SqlError
from .results import Result, ok

if TYPE_CHECKING:
    import duckdb

    from .context import Ctx, Session

DML_COLUMNS = {"insert": ["number of rows inserted"],
               "update": ["number of rows updated", "number of multi-joined rows updated"],
               "delete": ["number of rows deleted"]}
# statementTypeId of each kind of statement (the connector's DML / TCL families, 0x3000 / 0x5000).
STATEMENT_TYPES = {"select": 0x1000, "insert": 0x3100, "update": 0x3200, "delete": 0x3300,
                   "begin": 0x5100, "commit": 0x5200, "rollback": 0x5300}
PRIVILEGE = {"select": "SELECT", "insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}
DEFAULT_BATCH_ROWS = 100
EPOCH = dt.date(1970, 1, 1)


def sql_error(exc: sferr.SnowflakeError) -> SqlError:
    return SqlError(exc.code, exc.sqlstate, exc.message)


class DataEngine:
    """Rows of every emulated table, and the statements that read and change them."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = path
        self.warehouse = Warehouse(path)
        self._sessions: dict[str, duckdb.DuckDBPyConnection] = {}
        self._lock = threading.Lock()
        self.batches: list[tuple[str, int]] = []  # (function, rows) of every batch sent to an endpoint

    # ---- sessions -------------------------------------------------------------------------------------
    def connection(self, session: Session) -> duckdb.DuckDBPyConnection:
        with self._lock:
            con = self._sessions.get(session.token)
            if con is None:
                con = self._sessions[session.token] = self.warehouse.connect()
            return con

    def end_session(self, token: str) -> None:
        with self._lock:
            con = self._sessions.pop(token, None)
        if con is not None:
            self.warehouse.forget(con)

    def reset(self) -> None:
        """Forget every row (the catalog was reset)."""
        with self._lock:
            sessions, self._sessions = self._sessions, {}
        for con in sessions.values():
            self.warehouse.forget(con)
        for (database, schema, _t) in list(self.warehouse.tables()):
            self.warehouse.drop_schema(database, schema)
        self.batches.clear()

    def sync(self, ctx: Ctx) -> None:
        """Drop the rows of tables the catalog no longer has (a dropped schema or database took them)."""
        known = {tuple(o.key) for o in ctx.cat.list("TABLE")}
        for key in self.warehouse.tables():
            if key not in known:
                self.warehouse.drop_table(key)

    # ---- statements -----------------------------------------------------------------------------------
    def handle(self, ctx: Ctx) -> Result:
        """Translate and check the statement now (under the emulator's lock); run it after the lock."""
        s = ctx.session
        context = {"CURRENT_DATABASE": s.database, "CURRENT_SCHEMA": s.schema, "CURRENT_ROLE": s.role,
                   "CURRENT_WAREHOUSE": s.warehouse, "CURRENT_USER": s.user.upper(),
                   "CURRENT_ACCOUNT": ctx.emu.account, "CURRENT_REGION": ctx.emu.region}
        try:
            stmt = tr.translate(ctx.sql, database=s.database, schema=s.schema, context=context,
                                table=lambda key: self._table(ctx, key),
                                function=lambda parts, n: self._function(ctx, parts, n))
        except sferr.SnowflakeError as exc:
            raise sql_error(exc) from None
        if stmt.kind == "other" or stmt.kind.startswith("use_"):
            raise sql_error(sferr.unsupported(ctx.sql.split()[0].upper()))
        self._check_privileges(ctx, stmt)
        con = self.connection(ctx.session)
        ctx.after = lambda: self._run(con, stmt)
        return ok()

    def _run(self, con: duckdb.DuckDBPyConnection, stmt: tr.Statement) -> Result:
        try:
            outcome = self.warehouse.run(con, stmt)
        except sferr.SnowflakeError as exc:
            raise sql_error(exc) from None
        return as_result(outcome)

    def _table(self, ctx: Ctx, key: tr.Key) -> None:
        if ctx.cat.get("TABLE", key) is None:
            raise sql_error(sferr.missing_object(fmt_key(key)))

    def _check_privileges(self, ctx: Ctx, stmt: tr.Statement) -> None:
        """Owner, or the privilege the statement needs (the DML target) / SELECT (what it reads).
        Snowflake answers 'does not exist or not authorized' either way."""
        for i, key in enumerate(stmt.tables):
            obj = ctx.cat.require("TABLE", key)
            need = PRIVILEGE[stmt.kind] if i == 0 else "SELECT"
            if not (ctx.acts_as_owner(obj) or ctx.cat.has_privilege(ctx.role, need, "TABLE", key)):
                raise sql_error(sferr.missing_object(fmt_key(key)))

    # ---- service functions ----------------------------------------------------------------------------
    def _function(self, ctx: Ctx, parts: tuple[str, ...], nargs: int) -> str | None:
        if len(parts) == 1:
            if ctx.session.database is None or ctx.session.schema is None:
                return None
            key3 = (ctx.session.database, ctx.session.schema, parts[0])
        else:
            try:
                key3 = tr.resolve(parts, ctx.session.database, ctx.session.schema, "query")
            except sferr.SnowflakeError as exc:
                raise sql_error(exc) from None
        found = [f for f in ctx.cat.list("FUNCTION") if tuple(f.key[:3]) == key3 and len(f.props["args"]) == nargs]
        if not found:
            if len(parts) > 1:
                raise SqlError("002141", "42601", f"SQL compilation error:\nUnknown user-defined function "
                               f"{fmt_key(key3)}.")
            return None
        fn = found[0]
        name = "SFUDF_" + hashlib.sha256(repr(fn.key).encode()).hexdigest()[:12]
        arg_types = [t for _, t in fn.props["args"]]
        self.warehouse.register(name, arg_types, fn.props["returns"], self._caller(ctx, fn))
        return name

    def _caller(self, ctx: Ctx, fn: Obj) -> Any:
        """What DuckDB calls: the rows go to the endpoint handler in batches of MAX_BATCH_ROWS."""
        emu, label = ctx.emu, fmt_key(tuple(fn.key[:3]))
        service, endpoint, path = tuple(fn.props["service"]), fn.props["endpoint"], fn.props["path"]
        size = int(fn.props.get("max_batch_rows") or DEFAULT_BATCH_ROWS)

        def call(rows: list[list[Any]]) -> list[Any]:
            with emu.lock:
                svc = emu.cat.get("SERVICE", service)
                if svc is None:
                    raise sferr.function_failed(label, f"service {fmt_key(service)} does not exist")
                if svc.props.get("suspended"):
                    if not svc.props.get("auto_resume", True):
                        raise sferr.function_failed(label, f"service {fmt_key(service)} is suspended and "
                                                    "AUTO_RESUME is FALSE")
                    svc.props.update(suspended=False)
                handler = emu.endpoint_handlers.get((service, endpoint, path))
            if handler is None:
                return [None] * len(rows)
            out: list[Any] = []
            for start in range(0, len(rows), size):
                batch = rows[start:start + size]
                self.batches.append((label, len(batch)))
                reply = handler({"data": [[i, *r] for i, r in enumerate(batch)]})
                values = dict((int(r[0]), r[1]) for r in (reply or {}).get("data") or [] if isinstance(r, list))
                if sorted(values) != list(range(len(batch))):
                    raise sferr.function_failed(label, f"the reply has {len(values)} rows, expected {len(batch)}")
                out.extend(values[i] for i in range(len(batch)))
            return out

        return call


# ---- results -------------------------------------------------------------------------------------------
class DataResult(Result):
    """A result whose columns carry their own Snowflake types (precision and scale included)."""

    def __init__(self, columns: list[tuple[str, str, int | None, int | None]], rows: list[list[Any]],
                 statement_type: int) -> None:
        super().__init__([(n, t) for n, t, _, _ in columns], rows, statement_type)
        self.meta = columns

    def rowtype(self) -> list[dict[str, Any]]:
        out = []
        for name, typ, precision, scale in self.meta:
            length = 16777216 if typ == "text" else None
            out.append({"name": name, "database": "", "schema": "", "table": "", "nullable": True, "type": typ,
                        "length": length, "byteLength": length, "precision": precision, "scale": scale,
                        "collation": None})
        return out

    def rowset(self) -> list[list[str | None]]:
        return [[_encode(v, t) for v, (_, t, _, _) in zip(row, self.meta, strict=True)] for row in self.rows]


def as_result(outcome: Outcome) -> Result:
    kind = outcome.kind
    if kind in DML_COLUMNS:
        names = DML_COLUMNS[kind]
        values = [outcome.count or 0] + [0] * (len(names) - 1)
        return DataResult([(n, "fixed", 38, 0) for n in names], [values], STATEMENT_TYPES[kind])
    if kind in ("begin", "commit", "rollback"):
        result = ok()
        result.statement_type = STATEMENT_TYPES[kind]
        return result
    meta = []
    for name, duck in outcome.columns:
        typ, precision, scale, _ = rowtype_of_duckdb(duck)
        meta.append((name, typ, precision, scale))
    return DataResult(meta, [list(r) for r in outcome.rows], STATEMENT_TYPES["select"])


def _encode(value: Any, typ: str) -> str | None:
    """Snowflake's JSON result encoding: dates as days since the epoch, times and timestamps as seconds."""
    if value is None:
        return None
    if typ == "boolean":
        return "true" if value else "false"
    if typ == "date" and isinstance(value, dt.date):
        return str((value - EPOCH).days)
    if typ.startswith("timestamp") and isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        seconds = value.timestamp()
        return f"{int(seconds // 1)}.{value.microsecond * 1000:09d}"
    if typ == "time" and isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return f"{seconds}.{value.microsecond * 1000:09d}"
    if typ == "binary" and isinstance(value, bytes | bytearray):
        return bytes(value).hex().upper()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    return str(value)
