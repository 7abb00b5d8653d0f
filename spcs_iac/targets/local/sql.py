"""``spcs-iac sql`` on the local target: Snowflake-dialect SQL over the stack's DuckDB warehouse.

Statements are translated by :mod:`sfduck` (sqlglot) and run by DuckDB. Each service function the stack
declares is a vectorised DuckDB function: DuckDB hands it up to 2048 rows at once, and the gateway sends
them to the service in batches of the function's MAX_BATCH_ROWS (``gateway.call``), one line per batch in
``gateway-<stack>.log`` beside the state. A statement that fails changes nothing (DuckDB runs each one
atomically) and raises a ProviderError carrying Snowflake's code and message.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfduck import errors as sferr
from sfduck import translate as tr
from sfduck.warehouse import Warehouse
from spcs_iac.errors import ProviderError
from spcs_iac.model import identifiers as ids
from spcs_iac.targets.local import gateway, naming
from spcs_iac.targets.local.records import Record, find_anywhere
from spcs_iac.targets.local.tables import warehouse_path

if TYPE_CHECKING:
    from spcs_iac.targets.local.provider import LocalProvider


PARALLEL_BATCHES = 8  # batches sent at once per vector of rows
# Snowflake's DML result columns (docs.snowflake.com/en/sql-reference/sql/insert, update, delete).
DML_COLUMNS = {"insert": ["number of rows inserted"],
               "update": ["number of rows updated", "number of multi-joined rows updated"],
               "delete": ["number of rows deleted"]}


def gateway_log_path(root: Path, stack: str) -> Path:
    return root / f"gateway-{naming.slug(stack)}.log"


class LocalSql:
    """One SQL session on a stack's local warehouse: current database and schema, transactions."""

    def __init__(self, provider: LocalProvider, database: str | None = None, schema: str | None = None) -> None:
        self.p = provider
        self.records = provider.catalog.load()
        self.database = ids.normalize(database) if database else self._only_database()
        self.schema = ids.normalize(schema) if schema else ("PUBLIC" if self.database else None)
        self.warehouse = Warehouse(warehouse_path(provider.root, provider.stack))
        self.con = self.warehouse.connect()
        self.tables = set(self.warehouse.tables())
        self.log_path = gateway_log_path(provider.root, provider.stack)
        self.service_seconds = 0.0  # time spent waiting for services (bench: SQL vs service calls)

    def close(self) -> None:
        self.warehouse.forget(self.con)
        self.warehouse.close()

    def __enter__(self) -> LocalSql:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _only_database(self) -> str | None:
        names = sorted(r["name"] for r in self.records.values() if r.get("kind") == "database")
        return names[0] if len(names) == 1 else None

    # ---- statements -----------------------------------------------------------------------------------
    def run(self, text: str) -> list[dict[str, Any]]:
        """Run a script; one result per statement: ``{statement, kind, columns, rows, rowcount}``."""
        try:
            statements = tr.split(text)
        except sferr.SnowflakeError as exc:
            raise failure(exc, text) from None
        return [self.run_one(s) for s in statements]

    def run_one(self, text: str) -> dict[str, Any]:
        try:
            stmt = tr.translate(text, database=self.database, schema=self.schema, table=self._table,
                                function=self._function, context=self._context())
            if stmt.kind == "use_database":
                self.database, self.schema = self._use(stmt.target, 1)[0], "PUBLIC"
                return _done(text, stmt.kind)
            if stmt.kind == "use_schema":
                found = self._use(stmt.target, 2)
                self.database, self.schema = (found if len(found) == 2 else (self.database, found[0]))
                return _done(text, stmt.kind)
            if stmt.kind == "other":
                raise sferr.unsupported(f"{text.split()[0].upper()} on the local target (declare tables in the "
                                        "stack; sql runs queries, DML and transactions)")
            outcome = self.warehouse.run(self.con, stmt)
        except sferr.SnowflakeError as exc:
            raise failure(exc, text) from None
        if outcome.kind in DML_COLUMNS:  # answered as Snowflake does: one row of counts
            names = DML_COLUMNS[outcome.kind]
            return {"statement": text, "kind": outcome.kind, "columns": names,
                    "rows": [[outcome.count or 0] + [0] * (len(names) - 1)], "rowcount": outcome.count}
        if outcome.kind != "select":
            return _done(text, outcome.kind)
        return {"statement": text, "kind": outcome.kind, "columns": [c for c, _ in outcome.columns],
                "rows": [list(r) for r in outcome.rows], "rowcount": None}

    def _context(self) -> dict[str, Any]:
        return {"CURRENT_DATABASE": self.database, "CURRENT_SCHEMA": self.schema, "CURRENT_ACCOUNT": self.p.account,
                "CURRENT_ROLE": "ACCOUNTADMIN"}

    def _use(self, parts: tuple[str, ...], most: int) -> tuple[str, ...]:
        if not parts or len(parts) > most:
            raise sferr.syntax(f"expected a name of at most {most} parts")
        return parts

    def _table(self, key: tr.Key) -> None:
        if key not in self.tables:
            raise sferr.missing_object(tr.display(key))

    # ---- service functions ----------------------------------------------------------------------------
    def _function(self, parts: tuple[str, ...], nargs: int) -> str | None:
        try:
            key = tr.resolve(parts, self.database, self.schema, "query") if len(parts) > 1 or self.schema else None
        except sferr.SnowflakeError:
            key = None
        if key is None:
            return None
        for rec in self.records.values():
            if rec.get("kind") != "service_function":
                continue
            name = ids.split_qualified(rec["name"].split("(")[0])
            args = (rec.get("props") or {}).get("arguments") or []
            if tuple(name) == key and len(args) == nargs:
                duck = "SFUDF_" + hashlib.sha256(rec["name"].encode()).hexdigest()[:12]
                returns = str((rec.get("props") or {}).get("returns") or "VARCHAR")
                self.warehouse.register(duck, [_arg_type(t) for _, t in args], _arg_type(returns), self._caller(rec))
                return duck
        if len(parts) > 1:
            raise sferr.SnowflakeError("002141", "42601", f"SQL compilation error:\nUnknown user-defined function "
                                       f"{tr.display(key)}.")
        return None

    def _caller(self, fn: Record) -> Callable[[list[list[Any]]], list[Any]]:
        label = fn["name"].split("(")[0]

        size = int((fn.get("props") or {}).get("max_batch_rows") or gateway.DEFAULT_BATCH_ROWS)

        def call(rows: list[list[Any]]) -> list[Any]:
            service = (fn.get("props") or {}).get("service")
            svc = find_anywhere(self.p.root, f"service.{service}", self.p.catalog)
            target = {**svc, "address": f"service.{service}"} if svc else None
            # Like Snowflake, several batches are in flight at once: whole batches per worker, in order.
            per = max(size, -(-len(rows) // PARALLEL_BATCHES // size) * size)
            chunks = [rows[i:i + per] for i in range(0, len(rows), per)]
            started = time.perf_counter()
            try:
                with open(self.log_path, "a", encoding="utf-8") as log:
                    def one(chunk: list[list[Any]]) -> list[Any]:
                        return gateway.call(self.p.services, fn, target, chunk, log=lambda line: log.write(line + "\n"))

                    if len(chunks) == 1:
                        return one(chunks[0])
                    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
                        return [v for part in pool.map(one, chunks) for v in part]
            except ProviderError as exc:
                raise sferr.function_failed(label, str(exc)) from None
            finally:
                self.service_seconds += time.perf_counter() - started

        return call


def _arg_type(datatype: str) -> str:
    """A function's declared type (canonical: FLOAT, NUMBER, VARCHAR ...) as a table column type."""
    return {"NUMBER": "NUMBER(38,6)", "VARCHAR": "VARCHAR"}.get(datatype, datatype)


def _done(text: str, kind: str) -> dict[str, Any]:
    return {"statement": text, "kind": kind, "columns": ["status"], "rows": [["Statement executed successfully."]],
            "rowcount": None}


def failure(exc: sferr.SnowflakeError, text: str) -> ProviderError:
    shown = " ".join(text.split())
    shown = shown if len(shown) <= 200 else shown[:197] + "..."
    return ProviderError(f"{exc.code} ({exc.sqlstate}): {exc.message}\n  in: {shown}")
