"""A DuckDB database laid out as Snowflake databases, schemas and tables, running translated statements.

Snowflake schema ``DB.S`` is the DuckDB schema ``"DB.S"`` (:func:`.translate.storage_schema`). Each user
of the warehouse (a CLI run, an emulator session) works through its own DuckDB connection from
:meth:`Warehouse.connect`, so transactions are per session as in Snowflake. User functions (service
functions) are DuckDB Arrow functions: DuckDB hands them whole vectors of rows, which the caller's
``call`` receives as a list of argument rows and answers in one go (it batches them as it likes).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import sqlglot

from sfduck import errors as E
from sfduck import types as T
from sfduck.translate import (
    Key,
    Statement,
    display,
    quote,
    split_storage_schema,
    storage_name,
    storage_schema,
)

LOCK_WAIT_SECONDS = 60.0  # how long a write waits for rows another session is writing

Call = Callable[[list[list[Any]]], list[Any]]  # argument rows -> one result per row


@dataclass
class Column:
    """A table column as declared in Snowflake terms."""

    name: str
    type: str  # canonical Snowflake type
    nullable: bool = True
    default: str | None = None  # a Snowflake SQL expression (already rendered safely by the caller)
    comment: str | None = None


@dataclass
class Outcome:
    """What a statement produced: result columns (name, DuckDB type) and rows, or a row count (DML)."""

    kind: str
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    count: int | None = None


class Warehouse:
    def __init__(self, path: str | Path | None = None) -> None:
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path) if path is not None else ":memory:"
        self.root = duckdb.connect(self.path)
        self.lock = threading.RLock()  # DDL and function registration; statements use their own connection
        self._open: dict[int, bool] = {}  # id(connection) -> explicit transaction open
        self._functions: dict[str, tuple[tuple[str, ...], str]] = {}
        self._failure = threading.local()  # the error a user function raised inside DuckDB

    def close(self) -> None:
        self.root.close()

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own (one per session): its transactions are its own."""
        return self.root.cursor()

    # ---- layout ---------------------------------------------------------------------------------------
    def ensure_schema(self, database: str, schema: str) -> None:
        with self.lock:
            self.root.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(storage_schema(database, schema))}")

    def tables(self) -> dict[Key, list[tuple[str, str, bool]]]:
        """Every table: key -> [(column, DuckDB type, nullable)] in column order."""
        with self.lock:
            rows = self.root.execute(
                "SELECT table_schema, table_name, column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_schema LIKE '%.%' ORDER BY table_schema, table_name, ordinal_position").fetchall()
        out: dict[Key, list[tuple[str, str, bool]]] = {}
        for schema_path, table, column, dtype, nullable in rows:
            database, schema = split_storage_schema(str(schema_path))
            out.setdefault((database, schema, table), []).append((column, str(dtype), nullable == "YES"))
        return out

    def exists(self, key: Key) -> bool:
        with self.lock:
            found = self.root.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                [storage_schema(key[0], key[1]), key[2]]).fetchall()
        return bool(found)

    def create_table(self, key: Key, columns: Iterable[Column], *, replace: bool = False) -> None:
        cols = ", ".join(column_sql(c) for c in columns)
        verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE"
        with self.lock:
            self.ensure_schema(key[0], key[1])
            self._ddl(f"{verb} {storage_name(key)} ({cols})", key)

    def drop_table(self, key: Key) -> None:
        with self.lock:
            self._ddl(f"DROP TABLE IF EXISTS {storage_name(key)}", key)

    def drop_schema(self, database: str, schema: str | None = None) -> None:
        """Drop what a dropped Snowflake schema (or whole database) held."""
        with self.lock:
            schemas = [r[0] for r in self.root.execute(
                "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '%.%'").fetchall()]
            for s in schemas:
                db, sc = split_storage_schema(str(s))
                if db == database and (schema is None or sc == schema):
                    self.root.execute(f"DROP SCHEMA IF EXISTS {quote(s)} CASCADE")

    def alter(self, key: Key, action: str, column: str, value: Any = None) -> None:
        """One column change: add (value: Column), drop, rename (value: new name), type (value: type),
        nullable (value: bool), drop_default."""
        head = f"ALTER TABLE {storage_name(key)}"
        if action == "add":
            sql = f"{head} ADD COLUMN {column_sql(value)}"
        elif action == "drop":
            sql = f"{head} DROP COLUMN {quote(column)}"
        elif action == "rename":
            sql = f"{head} RENAME COLUMN {quote(column)} TO {quote(value)}"
        elif action == "type":
            sql = f"{head} ALTER COLUMN {quote(column)} SET DATA TYPE {T.duckdb_type(value)}"
        elif action == "nullable":
            sql = f"{head} ALTER COLUMN {quote(column)} {'DROP' if value else 'SET'} NOT NULL"
        elif action == "drop_default":
            sql = f"{head} ALTER COLUMN {quote(column)} DROP DEFAULT"
        else:
            raise ValueError(f"unknown column change {action!r}")
        with self.lock:
            self._ddl(sql, key)

    def _ddl(self, sql: str, key: Key) -> None:
        try:
            self.root.execute(sql)
        except duckdb.Error as exc:
            raise E.from_duckdb(exc, {storage_schema(key[0], key[1]): f"{key[0]}.{key[1]}"}) from None

    # ---- user functions -------------------------------------------------------------------------------
    def register(self, name: str, arg_types: Iterable[str], returns: str, call: Call) -> None:
        """Make ``name`` (a DuckDB function name) call ``call`` on vectors of rows. ``arg_types`` and
        ``returns`` are Snowflake types; re-registering with the same signature keeps the first."""
        import pyarrow as pa  # only needed once a function is used

        args = tuple(T.duckdb_type(a) for a in arg_types)
        ret = T.duckdb_type(returns)
        arrow_ret = _arrow_type(ret)
        failure = self._failure

        def vectorised(*columns: Any) -> Any:
            rows = [[_plain(v) for v in row] for row in zip(*(c.to_pylist() for c in columns), strict=True)]
            try:
                values = call(rows)
                return pa.array([_result(v, ret) for v in values], type=arrow_ret)
            except Exception as exc:  # surfaced by run() as the error it is, not DuckDB's wrapper
                failure.error = exc
                raise

        with self.lock:
            if self._functions.get(name) == (args, ret):
                return
            if name in self._functions:
                self.root.remove_function(name)
            self.root.create_function(name, vectorised, list(args), ret, type="arrow", side_effects=True,
                                      null_handling="special")
            self._functions[name] = (args, ret)

    # ---- statements -----------------------------------------------------------------------------------
    def run(self, con: duckdb.DuckDBPyConnection, stmt: Statement, names: dict[str, str] | None = None) -> Outcome:
        """Run a translated statement on a session's connection. Raises :class:`SnowflakeError`."""
        if stmt.kind in ("begin", "commit", "rollback"):
            return self._transaction(con, stmt.kind)
        if stmt.kind not in ("select", "insert", "update", "delete"):
            raise E.unsupported(stmt.text.split()[0].upper() if stmt.text.split() else "empty statement")
        self._failure.error = None
        try:
            cur = self._execute_waiting(con, stmt)
            rows = cur.fetchall()
            columns = [(str(d[0]), str(d[1])) for d in (cur.description or [])]
        except duckdb.Error as exc:
            failed = getattr(self._failure, "error", None)
            self._failure.error = None
            if isinstance(failed, E.SnowflakeError):
                raise failed from None
            if failed is not None:
                raise E.function_failed(", ".join(stmt.functions) or "?", str(failed)) from None
            raise E.from_duckdb(exc, {**self.storage_names(stmt), **(names or {})}) from None
        if stmt.kind == "select":
            return Outcome("select", columns, rows)
        return Outcome(stmt.kind, count=int(rows[0][0]) if rows else 0)

    def _execute_waiting(self, con: duckdb.DuckDBPyConnection, stmt: Statement) -> duckdb.DuckDBPyConnection:
        """Execute, waiting for rows another session is writing. DuckDB refuses a write that overlaps
        another session's (\"Conflict on update\"); Snowflake makes the statement wait for the other
        transaction's lock and then runs it (up to LOCK_TIMEOUT,
        https://docs.snowflake.com/en/sql-reference/parameters#lock-timeout). A statement of its own
        (autocommit) is simply run again once the other has committed; inside an explicit transaction
        DuckDB has already aborted it, so the conflict is reported."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                return con.execute(stmt.sql)
            except duckdb.TransactionException as exc:
                if (stmt.kind == "select" or "conflict" not in str(exc).lower() or self.in_transaction(con)
                        or time.monotonic() > deadline):
                    raise
                time.sleep(random.uniform(0.001, 0.01))

    def _transaction(self, con: duckdb.DuckDBPyConnection, kind: str) -> Outcome:
        # Snowflake: COMMIT / ROLLBACK without an open transaction succeed and do nothing; BEGIN inside
        # one is ignored (docs.snowflake.com/en/sql-reference/transactions).
        key = id(con)
        is_open = self._open.get(key, False)
        if kind == "begin" and not is_open:
            con.execute("BEGIN TRANSACTION")
            self._open[key] = True
        elif kind in ("commit", "rollback") and is_open:
            self._open[key] = False
            con.execute(kind.upper())
        return Outcome(kind)

    def in_transaction(self, con: duckdb.DuckDBPyConnection) -> bool:
        return self._open.get(id(con), False)

    def forget(self, con: duckdb.DuckDBPyConnection) -> None:
        """A session ends: what it left uncommitted is rolled back (as when a Snowflake session closes)."""
        if self._open.pop(id(con), False):
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
        con.close()

    @staticmethod
    def storage_names(stmt: Statement) -> dict[str, str]:
        """DuckDB names in messages -> the Snowflake names the statement used."""
        return {f"{storage_schema(k[0], k[1])}.{k[2]}": display(k) for k in stmt.tables} | {
            storage_schema(k[0], k[1]): display(k[:2]) for k in stmt.tables}


def column_sql(c: Column) -> str:
    parts = [quote(c.name), T.duckdb_type(c.type)]
    if c.default is not None:
        parts.append("DEFAULT " + default_sql(c.default))
    if not c.nullable:
        parts.append("NOT NULL")
    return " ".join(parts)


def default_sql(default: str) -> str:
    """A Snowflake default expression in DuckDB's dialect."""
    return sqlglot.transpile(default, read="snowflake", write="duckdb")[0]


def _plain(value: Any) -> Any:
    """Values sent to a service go as JSON: whole decimals as integers, others as floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _result(value: Any, duck: str) -> Any:
    if value is None:
        return None
    if duck == "VARCHAR" and not isinstance(value, str):
        import json

        return json.dumps(value)
    if duck.startswith("DECIMAL"):
        scale = int(duck.rstrip(")").split(",")[1])
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    return value


def _arrow_type(duck: str) -> Any:
    import pyarrow as pa

    if duck.startswith("DECIMAL"):
        precision, scale = (int(x) for x in duck[len("DECIMAL("):-1].split(","))
        return pa.decimal128(precision, scale)
    return {"DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "DATE": pa.date32(), "BLOB": pa.binary(),
            "TIMESTAMP": pa.timestamp("us"), "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
            "TIME": pa.time64("us")}.get(duck, pa.string())
