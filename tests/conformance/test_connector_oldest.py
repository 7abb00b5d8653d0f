"""The oldest snowflake-connector-python pyproject.toml allows, against the emulator: the wire protocol, and
the Snowflake target end to end. (3.12 subtracts the reply's sendResultTime from its clock and reads
BOOLEAN as "1"/"TRUE": the emulator must send what the service sends.)"""

from __future__ import annotations

from typing import Any

from tests.conformance.conftest import ROOT, run

SUITES = ["tests/emulator/test_emu_protocol.py", "tests/emulator/test_emu_access.py",
          "tests/emulator/test_emu_multi.py", "tests/snowflake/test_batched_read.py",
          "tests/snowflake/test_emulator.py::test_every_kind_plan_apply_plan_destroy",
          "tests/snowflake/test_function_grants.py", "tests/snowflake/test_timeouts.py"]


def test_the_oldest_allowed_connector_works(client_env: Any) -> None:
    python = str(client_env("connector-oldest") / "python")
    version = run([python, "-c", "import snowflake.connector as c; print(c.__version__)"]).stdout.strip()
    r = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES], cwd=ROOT, timeout=600)
    assert r.returncode == 0, f"connector {version}:\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}"
