"""A container that crashes a few seconds after it starts (no readiness probe) is never READY: the apply fails
with its restarts, exit code and logs, and the plan says the service is not READY, never that its spec was
changed outside spcs-iac."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import Service, Stack
from spcs_iac.drivers import api
from spcs_iac.plan.render import change_lines
from tests.local.apps import one_service_stack
from tests.local.conftest import cli, unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CRASH_LATER = "echo up; sleep 4; echo crash; exit 2"


def crashing_stack(name: str) -> tuple[Stack, Service]:
    return one_service_stack(name, "LATER", {"name": "app", "command": ["sh", "-c", CRASH_LATER]})


def assert_not_ready_error(error: str, fqn: str) -> None:
    assert f"service {fqn} instance 0: container app keeps restarting" in error, error
    assert "last exit code 2" in error and "restarts=" in error and "crash" in error, error  # count, code, logs


def test_a_container_crashing_seconds_after_start_is_not_ready_nor_drift(state_dir: Path, docker_client: Any,
                                                                         tmp_path: Path) -> None:
    name = unique("crash-later")
    stack, svc = crashing_stack(name)
    stack_file = tmp_path / "later.py"
    stack_file.write_text(f"from tests.local.test_crash_later import crashing_stack\nstack, _ = crashing_stack({name!r})\n")
    sd = str(state_dir)
    try:
        start = time.monotonic()
        result = api.apply(stack, target="local", state_dir=sd)
        assert svc.address in result.failed, "a container restarting every 4 s was reported READY"
        assert_not_ready_error(result.failed[svc.address], svc.fqn)
        assert time.monotonic() - start < 60
        # The plan says what is wrong in plain words: not READY, restarting; the spec is not in question.
        change = api.plan(stack, target="local", state_dir=sd).get(svc.address)
        assert change.action.value in ("update", "import") and "spec" not in change.changed_fields
        text = " ".join(str(line) for line in change_lines(change, statements=False))
        assert "not READY" in text and "keeps restarting" in text and "changed outside" not in text, text
        shown = cli("plan", str(stack_file), "--state-dir", sd)
        assert "not READY" in shown.stdout and "changed outside" not in shown.stdout, shown.output
        # Applying again tries to bring it up, and says again why it cannot.
        again = api.apply(stack, target="local", state_dir=sd)
        assert_not_ready_error(again.failed[svc.address], svc.fqn)
    finally:
        assert api.destroy(stack, target="local", state_dir=sd).ok
