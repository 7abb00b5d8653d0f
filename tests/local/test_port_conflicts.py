"""An endpoint's host port taken by another program while the service was suspended: `resume` and `apply`
name the service, the endpoint and the port, and say what to do; no command prints a traceback."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from spcs_iac import Service, Stack
from spcs_iac.drivers import api
from spcs_iac.drivers.cli.main import guarded
from tests.local.apps import one_service_stack
from tests.local.conftest import cli, unique

pytestmark = [pytest.mark.docker, pytest.mark.slow]

def web_stack(name: str) -> tuple[Stack, Service]:
    return one_service_stack(name, "WEB", {
        "name": "main", "command": ["python3", "-m", "http.server", "8080"],
        "readinessProbe": {"port": 8080, "path": "/"}}, endpoints=[{"name": "site", "port": 8080, "public": True}])


def test_a_taken_endpoint_port_is_named_on_resume_and_apply(state_dir: Path, docker_client: Any) -> None:
    stack, svc = web_stack(unique("port-taken"))
    sd = str(state_dir)
    try:
        assert api.apply(stack, target="local", state_dir=sd).ok
        url = api.apply(stack, target="local", state_dir=sd).plan.outputs[svc.address]["endpoints"]["site"]
        port = int(url.rsplit(":", 1)[1])
        assert cli("suspend", svc.fqn, "--state-dir", sd).exit_code == 0
        with socket.socket() as taker:  # another program takes the port meanwhile
            taker.bind(("127.0.0.1", port))
            taker.listen()
            expected = ("endpoint site", f"127.0.0.1:{port}", "in use", svc.fqn)
            resumed = cli("resume", svc.fqn, "--state-dir", sd)
            assert resumed.exit_code == 1 and isinstance(resumed.exception, SystemExit), resumed.exception
            assert all(part in resumed.output for part in expected), resumed.output
            assert "Traceback" not in resumed.output and "500 Server Error" not in resumed.output
            error = api.apply(stack, target="local", state_dir=sd).failed[svc.address]
            assert all(part in error for part in expected) and "500 Server Error" not in error, error
        # Once the port is free again the endpoint comes back on it, its URL unchanged.
        assert api.apply(stack, target="local", state_dir=sd).ok
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200
    finally:
        assert api.destroy(stack, target="local", state_dir=sd).ok


def test_any_docker_error_is_a_message_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    import docker
    import typer

    def refused() -> None:
        raise docker.errors.APIError("500 Server Error", explanation="driver failed: something odd")

    with pytest.raises(typer.Exit):
        guarded(refused)
    err = capsys.readouterr().err
    assert "Docker engine" in err and "driver failed: something odd" in err
