"""An apply that stopped before a service became READY (interrupted, or out of time) left its containers
running and the service recorded as started; the next apply takes it back and must see it READY before
calling it done, rather than report it updated at once while its readiness probe still fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spcs_iac import Service, Stack
from spcs_iac.drivers import api
from spcs_iac.targets.local.provider import LocalProvider
from tests.local.apps import one_service_stack
from tests.local.conftest import unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def never_ready(name: str) -> tuple[Stack, Service]:
    return one_service_stack(name, "PROBED", {
        "name": "app", "command": ["python3", "-m", "http.server", "8080"],
        "readinessProbe": {"port": 8080, "path": "/nope-never"}}, endpoints=[{"name": "api", "port": 8080}])


def test_a_service_taken_back_is_waited_for_until_ready(state_dir: Path, docker_client: Any) -> None:
    stack, svc = never_ready(unique("taken-back"))
    sd = str(state_dir)

    def apply() -> Any:
        return api.apply(stack, "local", provider=LocalProvider(stack.name, sd, ready_timeout=8), state_dir=sd)

    try:
        first = apply()
        assert svc.address in first.failed and "not READY after" in first.failed[svc.address], first.failed
        second = apply()  # the containers are the declared ones; their probe still fails
        assert svc.address in second.failed, "a service whose readiness probe fails was reported applied"
        assert "/nope-never" in second.failed[svc.address], second.failed
    finally:
        assert api.destroy(stack, target="local", state_dir=sd).ok
