"""Real third-party clients, unchanged, against the emulator: each in its own virtualenv, made from PyPI by
scripts/conformance-env.sh. Under CI=true a client that cannot be installed fails the test; elsewhere
(no network to PyPI) the test is skipped with the reason."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from spcs_emulator.testing import RunningEmulator, running_emulator

ROOT = Path(__file__).resolve().parents[2]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


CLIENTS = ("connector-oldest", "snowcli", "titan")


@pytest.fixture(scope="session")
def client_env() -> Iterator[Callable[[str], Path]]:
    """name -> the bin directory of the client's virtualenv. The first use starts every client's install
    at once (they are independent), so the suite waits for the slowest, not for their sum."""
    started: dict[str, subprocess.Popen[str]] = {}
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if not started:
            for client in CLIENTS:
                started[client] = subprocess.Popen(["bash", str(ROOT / "scripts" / "conformance-env.sh"), client],
                                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                                   text=True)
        if name not in made:
            try:
                out, err = started[name].communicate(timeout=900)
            except subprocess.TimeoutExpired:
                started[name].kill()
                _unavailable(f"installing the {name} client took more than 15 minutes")
            if started[name].returncode != 0:
                _unavailable(f"cannot install the {name} client: {err.strip()[-600:]}")
            made[name] = Path(out.strip().splitlines()[-1])
        return made[name]

    yield get
    for proc in started.values():
        if proc.poll() is None:
            proc.kill()


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(ready_delay_s=0.02) as emu:
        yield emu
        # A request the emulator cannot serve must fail with Snowflake's error, never inside the emulator.
        assert emu.emulator.internal_errors == []


def run(cmd: list[str], env: dict[str, Any] | None = None, cwd: Path | None = None,
        timeout: float = 180) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true", **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full, cwd=cwd)
