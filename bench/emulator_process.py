"""The account emulator in a process of its own, for the benches: its CPU is then not the measured client's
(in one process the two share one interpreter lock, and the client's CPU time would include the account's),
as with a real account. Driven over the child's standard input and output, one JSON line per call:
latency, statistics, and statements run as an administrator.

Run by EmulatorProcess as ``python -m bench.emulator_process OPTIONS_JSON``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CALLS = ("inject", "reset_stats", "stats", "execute")  # what the bench may ask of the emulator


class EmulatorProcess:
    """``with EmulatorProcess(ready_delay_s=0.0) as emu:`` -> ``emu.params`` to connect with, ``emu.stats()``,
    ``emu.inject(latency_ms=50)``, ``emu.reset_stats()``, ``emu.execute(sql)`` (as an administrator)."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.params: dict[str, Any] = {}
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> EmulatorProcess:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self._proc = subprocess.Popen([sys.executable, "-m", "bench.emulator_process", json.dumps(self.options)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        self.params = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()  # the child stops at the end of its input
            self._proc.wait(timeout=10)
            self._proc = None

    def _read(self) -> Any:
        assert self._proc is not None and self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the emulator process ended (exit code {self._proc.wait()})")
        status, value = json.loads(line)
        if status != "ok":
            raise RuntimeError(f"emulator: {value}")
        return value

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        assert self._proc is not None and self._proc.stdin is not None, "use EmulatorProcess in a with block"
        self._proc.stdin.write(json.dumps([name, args, kwargs]) + "\n")
        self._proc.stdin.flush()
        return self._read()

    def inject(self, **kwargs: Any) -> None:
        self._call("inject", **kwargs)

    def reset_stats(self) -> None:
        self._call("reset_stats")

    def stats(self) -> dict[str, Any]:
        return self._call("stats")  # type: ignore[no-any-return]

    def execute(self, sql: str) -> list[list[Any]]:
        return self._call("execute", sql)  # type: ignore[no-any-return]


def _serve(options: dict[str, Any]) -> None:
    from spcs_emulator.testing import running_emulator

    out = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write on the answer channel

    def answer(status: str, value: Any) -> None:
        out.write(json.dumps([status, value], default=str) + "\n")
        out.flush()

    with running_emulator(**options) as emu:
        admin = emu.emulator.login("bench")
        answer("ok", emu.connection_params())
        for line in sys.stdin:
            name, args, kwargs = json.loads(line)
            try:
                if name not in CALLS:
                    raise ValueError(f"unknown call {name!r}; allowed: {', '.join(CALLS)}")
                if name == "execute":
                    answer("ok", emu.emulator.execute(admin, *args, **kwargs).rows)
                else:
                    answer("ok", getattr(emu.emulator, name)(*args, **kwargs))
            except Exception as exc:  # the bench reports it; the emulator keeps serving
                answer("error", f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
