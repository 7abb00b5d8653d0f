"""The state in the target account: tables in one schema, reached through the stack's own connection.

Every runner of a team already holds credentials for the account, so the account is where the state, its
history and its lock live (``snowflake://DATABASE.SCHEMA``):

- ``SPCS_IAC_STATE``: one row per version (stack, target, serial, who, when, the JSON document); old
  versions are kept (``state history``);
- ``SPCS_IAC_JOURNAL``: one row per successful operation while an apply runs, folded into a new version
  when the lock is released (a killed apply's rows are folded by the next holder);
- ``SPCS_IAC_LOCKS``: one row per stack and target. Standard tables do not enforce unique keys, so the
  lock is taken by a conditional UPDATE whose row count says who won; UPDATEs on one table run one at a
  time in Snowflake. A lock carries an expiry that a background thread renews while its holder runs;
  a holder that died stops renewing, and its lock can be taken once it has expired.

All values written are escaped literals; times are the runners' epoch seconds.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from spcs_iac.errors import SpcsIacError, StateLockedError
from spcs_iac.model import identifiers as ids
from spcs_iac.state.backend import (
    STATE_VERSION,
    StateBackend,
    StateEntry,
    StateVersion,
    pack_resources,
    unpack_resources,
)

LEASE_SECONDS = 300.0  # a lock not renewed for this long belongs to a dead holder
LOCK_POLL_SECONDS = 1.0
PRIVILEGES = ("USAGE on the database, CREATE SCHEMA on it (or USAGE and CREATE TABLE on an existing schema), "
              "and SELECT, INSERT, UPDATE, DELETE on the tables it creates")


class Sql(Protocol):
    """How the backend reaches the account: the target's connection, under its role."""

    def query(self, sql: str) -> list[dict[str, Any]]: ...

    def count(self, sql: str) -> int:
        """Run a DML statement and return the number of rows it changed."""
        ...


def _lit(text: Any) -> str:
    return "NULL" if text is None else ids.string_literal(str(text))


def _num(value: float | int) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))


class AccountState(StateBackend):
    def __init__(self, location: str, stack: str, target: str, sql: Sql, *, lease: float | None = None) -> None:
        """``lease``: seconds a lock lives without renewal (default SPCS_IAC_LOCK_LEASE, else 300)."""
        lease = lease or float(os.environ.get("SPCS_IAC_LOCK_LEASE") or LEASE_SECONDS)
        parts = ids.split_qualified(location) if location else []
        if len(parts) != 2:
            raise SpcsIacError(f"state snowflake://{location}: give the schema as DATABASE.SCHEMA")
        self.schema = ids.qualified(*parts)
        self.location = location
        self.stack, self.target, self.sql, self.lease = stack, target, sql, lease
        self.entries: dict[str, StateEntry] = {}
        self.serial = 0
        self.pending: set[str] = set()
        self._lock_id: str | None = None
        self._version_serial = 0  # serial of the last version written: more means journal rows to fold in
        self._lost: str | None = None  # why the lock was lost while held
        self._command = "edit"
        self._mutex = threading.Lock()
        self._ready = False
        self.load()

    @property
    def url(self) -> str:
        return f"snowflake://{self.location}"

    def _table(self, name: str) -> str:
        return f"{self.schema}.{name}"

    @property
    def _key(self) -> str:
        return f"STACK = {_lit(self.stack)} AND TARGET = {_lit(self.target)}"

    # ---- tables ---------------------------------------------------------------------------------
    def _ensure(self) -> None:
        if self._ready:
            return
        statements = [
            f"CREATE SCHEMA IF NOT EXISTS {self.schema}",
            f"CREATE TABLE IF NOT EXISTS {self._table('SPCS_IAC_STATE')} (STACK VARCHAR, TARGET VARCHAR, "
            "SERIAL NUMBER, WRITTEN_AT FLOAT, WRITTEN_BY VARCHAR, COMMAND VARCHAR, OBJECTS NUMBER, DOCUMENT VARCHAR)",
            f"CREATE TABLE IF NOT EXISTS {self._table('SPCS_IAC_JOURNAL')} (STACK VARCHAR, TARGET VARCHAR, "
            "SEQ NUMBER, LOCK_ID VARCHAR, AT FLOAT, OP VARCHAR, ADDRESS VARCHAR, ENTRY VARCHAR)",
            f"CREATE TABLE IF NOT EXISTS {self._table('SPCS_IAC_LOCKS')} (STACK VARCHAR, TARGET VARCHAR, "
            "LOCK_ID VARCHAR, HOLDER VARCHAR, COMMAND VARCHAR, ACQUIRED_AT FLOAT, EXPIRES_AT FLOAT)",
        ]
        try:
            for statement in statements:
                self.sql.query(statement)
        except SpcsIacError as exc:
            raise SpcsIacError(f"state {self.url}: cannot create the state tables ({exc}). The connection's role "
                               f"needs {PRIVILEGES}.") from None
        self._ready = True

    # ---- reading --------------------------------------------------------------------------------
    def load(self) -> None:
        self._ensure()
        rows = self.sql.query(f"SELECT SERIAL, DOCUMENT FROM {self._table('SPCS_IAC_STATE')} WHERE {self._key} "
                              "ORDER BY SERIAL DESC LIMIT 1")
        self.entries, self.serial, self.pending = {}, 0, set()
        if rows:
            doc = json.loads(str(_col(rows[0], "DOCUMENT")))
            if doc.get("version") != STATE_VERSION:
                raise SpcsIacError(f"state {self.url}: version {doc.get('version')} is not supported")
            self.serial = int(_col(rows[0], "SERIAL"))
            self.pending = set(doc.get("pending") or [])
            self.entries = unpack_resources(doc)
        self._version_serial = self.serial
        for row in self.sql.query(f"SELECT SEQ, OP, ADDRESS, ENTRY FROM {self._table('SPCS_IAC_JOURNAL')} "
                                  f"WHERE {self._key} AND SEQ > {self.serial} ORDER BY SEQ"):
            self.serial = int(_col(row, "SEQ"))
            address = str(_col(row, "ADDRESS"))
            if _col(row, "OP") == "put":
                self.entries[address] = StateEntry(**json.loads(str(_col(row, "ENTRY"))))
                self.pending.discard(address)
            elif _col(row, "OP") == "intent":
                self.pending.add(address)
            else:
                self.entries.pop(address, None)

    def history(self) -> list[StateVersion]:
        self._ensure()
        rows = self.sql.query(f"SELECT SERIAL, WRITTEN_AT, WRITTEN_BY, COMMAND, OBJECTS FROM "
                              f"{self._table('SPCS_IAC_STATE')} WHERE {self._key} ORDER BY SERIAL")
        return [StateVersion(int(_col(r, "SERIAL")), float(_col(r, "WRITTEN_AT") or 0), str(_col(r, "WRITTEN_BY")),
                             str(_col(r, "COMMAND")), int(_col(r, "OBJECTS") or 0)) for r in rows]

    # ---- writing --------------------------------------------------------------------------------
    def record(self, address: str, entry: StateEntry) -> None:
        with self._mutex:
            self.entries[address] = entry
            self.pending.discard(address)
            self._append("put", address, json.dumps(entry.to_json(), sort_keys=True, default=str))

    def intend(self, address: str) -> None:
        with self._mutex:
            self.pending.add(address)
            self._append("intent", address, None)

    def forget(self, address: str) -> None:
        with self._mutex:
            if self.entries.pop(address, None) is not None:
                self._append("del", address, None)

    def _append(self, op: str, address: str, entry: str | None) -> None:
        if self._lock_id is None:
            self._write_version()  # outside an apply: one new version at once
            return
        if self._lost:
            raise StateLockedError(self._lost)
        self.serial += 1
        self.sql.query(f"INSERT INTO {self._table('SPCS_IAC_JOURNAL')} (STACK, TARGET, SEQ, LOCK_ID, AT, OP, "
                       f"ADDRESS, ENTRY) VALUES ({_lit(self.stack)}, {_lit(self.target)}, {self.serial}, "
                       f"{_lit(self._lock_id)}, {_num(time.time())}, {_lit(op)}, {_lit(address)}, {_lit(entry)})")

    def _write_version(self) -> None:
        self.serial += 1
        doc = {"version": STATE_VERSION, "stack": self.stack, "target": self.target, "serial": self.serial,
               "pending": sorted(self.pending), **pack_resources(self.entries)}
        self.sql.query(
            f"INSERT INTO {self._table('SPCS_IAC_STATE')} (STACK, TARGET, SERIAL, WRITTEN_AT, WRITTEN_BY, COMMAND, "
            f"OBJECTS, DOCUMENT) VALUES ({_lit(self.stack)}, {_lit(self.target)}, {self.serial}, "
            f"{_num(time.time())}, {_lit(_holder())}, {_lit(self._command)}, {len(self.entries)}, "
            f"{_lit(json.dumps(doc, sort_keys=True, default=str))})")
        # Journal rows up to this serial are folded in; rows of a crashed writer past it never exist.
        self.sql.count(f"DELETE FROM {self._table('SPCS_IAC_JOURNAL')} WHERE {self._key} AND SEQ <= {self.serial}")

    # ---- locking --------------------------------------------------------------------------------
    @contextmanager
    def locked(self, command: str = "apply", wait: float = 0.0) -> Iterator[AccountState]:
        self._ensure()
        lock_id = uuid.uuid4().hex[:12]
        deadline = time.monotonic() + wait
        while not self._take(lock_id, command):
            if time.monotonic() >= deadline:
                raise StateLockedError(self._held_message())
            time.sleep(LOCK_POLL_SECONDS)
        self._lock_id, self._lost, self._command = lock_id, None, command
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(lock_id, stop), daemon=True,
                                   name=f"spcs-iac-lock-{lock_id}")
        try:
            self.load()  # includes operations a killed holder recorded
            renewer.start()
            yield self
        finally:
            stop.set()
            if renewer.is_alive():
                renewer.join(timeout=5)
            try:
                # A run that recorded nothing (refused, declined) writes no version: saved plans stay fresh.
                if not self._lost and self.serial != self._version_serial:
                    with self._mutex:
                        self._lock_id = None
                        self._write_version()
            finally:
                self._lock_id, self._command = None, "edit"
                self.sql.count(f"UPDATE {self._table('SPCS_IAC_LOCKS')} SET LOCK_ID = NULL, HOLDER = NULL, "
                               f"COMMAND = NULL, EXPIRES_AT = NULL WHERE {self._key} AND LOCK_ID = {_lit(lock_id)}")

    def _take(self, lock_id: str, command: str) -> bool:
        table = self._table("SPCS_IAC_LOCKS")
        self.sql.count(f"INSERT INTO {table} (STACK, TARGET) SELECT {_lit(self.stack)}, {_lit(self.target)} "
                       f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {self._key})")
        now = time.time()
        won = self.sql.count(
            f"UPDATE {table} SET LOCK_ID = {_lit(lock_id)}, HOLDER = {_lit(_holder())}, COMMAND = {_lit(command)}, "
            f"ACQUIRED_AT = {_num(now)}, EXPIRES_AT = {_num(now + self.lease)} "
            f"WHERE {self._key} AND (LOCK_ID IS NULL OR EXPIRES_AT < {_num(now)})")
        return won > 0

    def _renew(self, lock_id: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease / 3):
            try:
                renewed = self.sql.count(
                    f"UPDATE {self._table('SPCS_IAC_LOCKS')} SET EXPIRES_AT = {_num(time.time() + self.lease)} "
                    f"WHERE {self._key} AND LOCK_ID = {_lit(lock_id)}")
            except SpcsIacError:
                continue  # a passing network error: the lease has time left to try again
            if not renewed:
                self._lost = (f"stack {self.stack} on {self.target} lost its lock {lock_id} (it expired and was "
                              "taken by another run); stop and run the command again")
                return

    def _held_message(self) -> str:
        rows = self.sql.query(f"SELECT LOCK_ID, HOLDER, COMMAND, ACQUIRED_AT, EXPIRES_AT FROM "
                              f"{self._table('SPCS_IAC_LOCKS')} WHERE {self._key} AND LOCK_ID IS NOT NULL")
        if not rows:
            return f"stack {self.stack} on {self.target} is locked (state {self.url}); try again"
        row = rows[0]
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(_col(row, "ACQUIRED_AT") or 0)))
        left = max(0, int(float(_col(row, "EXPIRES_AT") or 0) - time.time()))
        return (f"stack {self.stack} on {self.target} is locked by {_col(row, 'COMMAND')} "
                f"(lock {_col(row, 'LOCK_ID')}, {_col(row, 'HOLDER')}, since {since}; it expires in {left} s unless "
                f"its holder renews it). Wait for it (--lock-timeout), or if its holder is gone: "
                f"spcs-iac force-unlock {{stack}} {_col(row, 'LOCK_ID')} --target {self.target} --state {self.url}")

    def force_unlock(self, lock_id: str | None = None) -> bool:
        self._ensure()
        only = f" AND LOCK_ID = {_lit(lock_id)}" if lock_id else " AND LOCK_ID IS NOT NULL"
        removed = self.sql.count(f"UPDATE {self._table('SPCS_IAC_LOCKS')} SET LOCK_ID = NULL, HOLDER = NULL, "
                                 f"COMMAND = NULL, EXPIRES_AT = NULL WHERE {self._key}{only}")
        if lock_id and not removed:
            raise StateLockedError(f"stack {self.stack} on {self.target} holds no lock {lock_id}; nothing was removed")
        return removed > 0


def _col(row: dict[str, Any], name: str) -> Any:
    """A column by name, whatever case the driver reports it in."""
    if name in row:
        return row[name]
    return row.get(name.lower())


def _holder() -> str:
    try:
        import getpass

        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "?"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"
