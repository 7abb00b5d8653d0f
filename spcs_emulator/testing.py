"""Test helpers: run an emulator on a free port and open real ``snowflake.connector`` connections."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .engine import Emulator
from .server import EmulatorServer


@dataclass
class RunningEmulator:
    emulator: Emulator
    server: EmulatorServer
    connections: list[Any] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    def connection_params(self, role: str | None = None) -> dict[str, Any]:
        params = self.server.connection_params(role)
        params.update(login_timeout=10, client_session_keep_alive=False,
                      enable_server_session_keep_alive_auto_detection=False)
        return params

    def connect(self, role: str | None = None, **kw: Any) -> Any:
        import snowflake.connector

        params = self.connection_params(role)
        params.update(kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            # No instance-metadata probes for a region from the connector's cloud SDK on loopback.
            os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
            conn = snowflake.connector.connect(**params)
        self.connections.append(conn)
        return conn

    def rows(self, sql: str, role: str | None = None) -> list[dict[str, Any]]:
        """Run one statement on a fresh connection; rows as dicts keyed by lower-case column name."""
        conn = self.connect(role=role)
        try:
            cur = conn.cursor().execute(sql)
            cols = [d[0].lower() for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        finally:
            conn.close()


@contextlib.contextmanager
def running_emulator(**kw: Any) -> Iterator[RunningEmulator]:
    """Start ``Emulator(**kw)`` behind HTTP on 127.0.0.1 (free port); close connections and stop on exit."""
    emulator = Emulator(**kw)
    server = EmulatorServer(emulator)
    server.start()
    running = RunningEmulator(emulator, server)
    try:
        yield running
    finally:
        for conn in running.connections:
            with contextlib.suppress(Exception):
                conn.close()
        server.stop()
