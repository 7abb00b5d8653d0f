"""Snowflake account emulator for spcs-iac.

An in-memory catalog plus a small SQL engine for exactly the statement shapes spcs-iac emits, served
over HTTP so the unmodified ``snowflake.connector`` can talk to it::

    from spcs_emulator import Emulator, EmulatorServer
    with EmulatorServer(Emulator()) as srv:
        conn = snowflake.connector.connect(account="emu", user="u", password="p", host="127.0.0.1",
                                           port=srv.port, protocol="http")

See ``spcs_emulator/README.md`` for the supported SQL, result conventions and test hooks.
"""

from __future__ import annotations

import os
import threading

from .engine import DEFAULT_REGISTRY_HOST, Emulator
from .errors import SqlError
from .server import EmulatorServer

__all__ = ["DEFAULT_REGISTRY_HOST", "Emulator", "EmulatorServer", "SqlError", "serve"]


def serve(port: int = 8765, latency_ms: float = 0, registry_host: str = DEFAULT_REGISTRY_HOST,
          state_file: str | os.PathLike[str] | None = None, host: str = "127.0.0.1", ready_delay_s: float = 0.2,
          verbose: bool = False) -> None:
    """Run the emulator in the foreground until Ctrl-C, printing the connection parameters."""
    emulator = Emulator(latency_ms=latency_ms, registry_host=registry_host, state_file=state_file,
                        ready_delay_s=ready_delay_s)
    server = EmulatorServer(emulator, host=host, port=port, verbose=verbose)
    bound = server.start()
    print(f"Snowflake emulator listening on http://{host}:{bound}", flush=True)
    print(f"  connect with: account='emu' user=<any> password=<any> host='{host}' port={bound} "
          "protocol='http'", flush=True)
    print(f"  SNOWFLAKE_ACCOUNT=emu SNOWFLAKE_HOST={host} SNOWFLAKE_PORT={bound} SNOWFLAKE_PROTOCOL=http",
          flush=True)
    print(f"  registry host: {registry_host}" + (f"; state file: {state_file}" if state_file else ""), flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if state_file:
            emulator.save_state(state_file)
        print("emulator stopped", flush=True)
