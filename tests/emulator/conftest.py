"""Fixtures: one emulator HTTP server and one real connector connection per test session.

Each test starts from a reset catalog (``Emulator.reset``) and the session role ACCOUNTADMIN.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from emu_fixtures import READY, SETUP
from snowflake.connector.errors import ProgrammingError

from spcs_emulator.testing import RunningEmulator, running_emulator


class SF:
    """Thin helper around a real connector cursor."""

    def __init__(self, conn: Any, running: RunningEmulator) -> None:
        self.conn = conn
        self.running = running
        self.emu = running.emulator

    def run(self, sql: str) -> list[dict[str, Any]]:
        cur = self.conn.cursor()
        cur.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def columns(self, sql: str) -> list[str]:
        cur = self.conn.cursor()
        cur.execute(sql)
        return [d[0] for d in cur.description]

    def one(self, sql: str) -> dict[str, Any]:
        rows = self.run(sql)
        assert len(rows) == 1, rows
        return rows[0]

    def scalar(self, sql: str) -> Any:
        return next(iter(self.one(sql).values()))

    def err(self, sql: str) -> ProgrammingError:
        with pytest.raises(ProgrammingError) as info:
            self.run(sql)
        return info.value

    def wait_ready(self) -> None:
        time.sleep(READY * 2.5)


@pytest.fixture(scope="session")
def emu_server() -> Iterator[RunningEmulator]:
    with running_emulator(ready_delay_s=READY) as running:
        yield running


@pytest.fixture(scope="session")
def _shared_conn(emu_server: RunningEmulator) -> Any:
    return emu_server.connect()


@pytest.fixture
def sf(emu_server: RunningEmulator, _shared_conn: Any) -> SF:
    emu_server.emulator.reset()
    emu_server.emulator.ready_delay_s = READY
    emu_server.emulator.registry_host = "emu-account.registry.snowflakecomputing.com"
    return SF(_shared_conn, emu_server)


@pytest.fixture
def spcs(sf: SF) -> SF:
    """Database, repo, pool and a DEPLOYER role; the session is left in role DEPLOYER."""
    for sql in SETUP:
        sf.run(sql)
    sf.run("USE ROLE DEPLOYER")
    return sf
